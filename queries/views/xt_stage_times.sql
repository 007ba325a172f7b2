-- xt_stage_times: every stage of every correlated request, with the clock domain of both points.
DROP VIEW IF EXISTS xt_stage_times;
CREATE VIEW xt_stage_times AS     -- one row per correlated request (any status) and stage (two consecutive path points)
SELECT
  c.profile,                      -- profile name (correlations.profile)
  r.correlation_id,               -- correlations.id
  r.run,                          -- run label, NULL when the request started outside every run
  r.id AS request_id,             -- requests.id
  r.seq,                          -- start order of the request within the database (all runs)
  r.status,                       -- 'complete', 'incomplete' (a point is missing) or 'orphan' (opened without the first point)
  r.kept,                         -- 1 in the report's averages, 2 dropped as warm-up, 0 not (trimmed, incomplete, outside runs)
  json_extract(c.path, '$[' || (p.key - 1) || ']') || '->' || json_extract(c.path, '$[' || p.key || ']') AS stage, -- stage name as in reports: 'from_point->to_point'
  json_extract(c.path, '$[' || (p.key - 1) || ']') AS from_point, -- start point of the stage
  json_extract(c.path, '$[' || p.key || ']') AS to_point, -- end point of the stage
  CAST(p.key AS INTEGER) AS pos,  -- position of the end point in the path (1 = first stage), as request_stages.pos
  fs.domain AS from_domain,       -- clock domain of the start point's event (sources.domain), NULL when the point is missing
  ts.domain AS to_domain,         -- clock domain of the end point's event, NULL when the point is missing
  p.value - json_extract(r.points, '$[' || (p.key - 1) || ']') AS duration_ns, -- ns (reference clock; across domains exact up to domain_offsets.uncertainty_ns), NULL when a point is missing
  r.start_ts_ns,                  -- time of the request's first point present (reference clock, ns)
  fe.id AS from_event_id,         -- events.id of the start point's event, NULL when missing
  te.id AS to_event_id            -- events.id of the end point's event, NULL when missing
FROM requests r
JOIN correlations c ON c.id = r.correlation_id
JOIN json_each(r.points) p ON p.key > 0
LEFT JOIN event_data fe ON fe.id = json_extract(r.events, '$[' || (p.key - 1) || ']')
LEFT JOIN sources fs ON fs.id = fe.source_id
LEFT JOIN event_data te ON te.id = json_extract(r.events, '$[' || p.key || ']')
LEFT JOIN sources ts ON ts.id = te.source_id;
