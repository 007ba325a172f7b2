-- xt_stage_times: every stage of every correlated request, with the clock domain of both points.
-- A complete request may lack a point by design (Xen batches notifications at queue depth > 1:
-- null in requests.points, xen-probes.md decision 10): it has the merged stage from the point
-- present before the gap to the point present after it (e.g. fe_queue->be_get_req) instead of the
-- stages through the gap, so its stages still add up to its total, as in the report. An
-- incomplete request or an orphan has every stage, NULL where a point is missing.
DROP VIEW IF EXISTS xt_stage_times;
CREATE VIEW xt_stage_times AS     -- one row per correlated request (any status) and stage (two consecutive path points, or of a complete request two consecutive points present)
SELECT
  x.profile,                      -- profile name (correlations.profile)
  x.correlation_id,               -- correlations.id
  x.run,                          -- run label, NULL when the request started outside every run
  x.request_id,                   -- requests.id
  x.seq,                          -- start order of the request within the database (all runs)
  x.status,                       -- 'complete', 'incomplete' (a point is missing) or 'orphan' (opened without the first point)
  x.kept,                         -- 1 in the report's averages, 2 dropped as warm-up, 0 not (trimmed, incomplete, outside runs)
  json_extract(x.path, '$[' || x.from_pos || ']') || '->' || json_extract(x.path, '$[' || x.pos || ']') AS stage, -- stage name as in reports: 'from_point->to_point' (a merged stage when the points between are absent by design)
  json_extract(x.path, '$[' || x.from_pos || ']') AS from_point, -- start point of the stage
  json_extract(x.path, '$[' || x.pos || ']') AS to_point, -- end point of the stage
  x.pos,                          -- position of the end point in the path (1 = first stage), as request_stages.pos
  fs.domain AS from_domain,       -- clock domain of the start point's event (sources.domain), NULL when the point is missing
  ts.domain AS to_domain,         -- clock domain of the end point's event, NULL when the point is missing
  x.to_ns - json_extract(x.points, '$[' || x.from_pos || ']') AS duration_ns, -- ns (reference clock; across domains exact up to domain_offsets.uncertainty_ns), NULL when a point is missing
  x.start_ts_ns,                  -- time of the request's first point present (reference clock, ns)
  fe.id AS from_event_id,         -- events.id of the start point's event, NULL when missing
  te.id AS to_event_id,           -- events.id of the end point's event, NULL when missing
  x.from_pos                      -- position of the start point in the path: pos − 1, smaller for a merged stage (the points between absent by design)
FROM (
  SELECT c.profile, c.path, r.correlation_id, r.run, r.id AS request_id, r.seq, r.status, r.kept, r.points, r.events, r.start_ts_ns,
         CAST(p.key AS INTEGER) AS pos, p.value AS to_ns,
         -- The start point: the one before, or for a complete request the last one present before (only looked for when the one before is absent).
         CASE WHEN r.status = 'complete' AND json_type(r.points, '$[' || (p.key - 1) || ']') = 'null'
              THEN (SELECT max(q.key) FROM json_each(r.points) q WHERE q.key < p.key AND q.type <> 'null')
              ELSE p.key - 1 END AS from_pos
  FROM requests r
  JOIN correlations c ON c.id = r.correlation_id
  JOIN json_each(r.points) p ON p.key > 0
  WHERE r.status <> 'complete' OR p.type <> 'null'
) x
LEFT JOIN event_data fe ON fe.id = json_extract(x.events, '$[' || x.from_pos || ']')
LEFT JOIN sources fs ON fs.id = fe.source_id
LEFT JOIN event_data te ON te.id = json_extract(x.events, '$[' || x.pos || ']')
LEFT JOIN sources ts ON ts.id = te.source_id;
