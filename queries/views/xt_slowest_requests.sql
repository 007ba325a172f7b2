-- xt_slowest_requests: the complete requests ranked by total latency within their run, with their
-- timeline. The rank is stored by `xtrace report` (requests.run_rank).
DROP VIEW IF EXISTS xt_slowest_requests;
CREATE VIEW xt_slowest_requests AS -- one row per complete request: its rank by total latency within its run (1 = slowest) and its timeline
SELECT
  c.profile,                      -- profile name (correlations.profile)
  x.correlation_id,               -- correlations.id
  x.run,                          -- run label, NULL when the request started outside every run (ranked among those)
  x.run_rank AS rank,             -- 1 = the slowest complete request of its run; ties by total_ns are ranked in start order
  x.id AS request_id,             -- requests.id
  x.seq,                          -- start order of the request within the database (all runs)
  x.kept,                         -- 1 in the report's averages, 2 dropped as warm-up, 0 trimmed or outside runs
  x.total_ns,                     -- first point to last point (ns)
  x.start_ts_ns,                  -- time of the first point (reference clock, ns)
  (SELECT json_group_object(json_extract(c.path, '$[' || p.key || ']'), p.value)
     FROM json_each(x.points) p) AS timeline, -- JSON object {"point": ns since the first point, ...} in path order (null: a point absent by design, batched)
  (SELECT group_concat(json_extract(c.path, '$[' || p.key || ']') || ' +' || p.value, ' → ')
     FROM json_each(x.points) p) AS timeline_text, -- the timeline as text: 'fe_queue +0 → fe_notify +1200 → …' (ns since the first point; a point absent by design is left out)
  (SELECT json_group_object(json_extract(c.path, '$[' || s.f || ']') || '->' || json_extract(c.path, '$[' || s.k || ']'),
                            s.v - json_extract(x.points, '$[' || s.f || ']'))
     FROM (SELECT p.key AS k, p.value AS v,
                  CASE WHEN json_type(x.points, '$[' || (p.key - 1) || ']') = 'null'
                       THEN (SELECT max(q.key) FROM json_each(x.points) q WHERE q.key < p.key AND q.type <> 'null')
                       ELSE p.key - 1 END AS f
             FROM json_each(x.points) p WHERE p.key > 0 AND p.type <> 'null') s) AS stages, -- JSON object {"from->to": duration ns, ...} in path order; a point absent by design (batched, null in timeline) gives the merged stage around it
  x.events                        -- JSON array of the events.id of each point, in path order
FROM requests x
JOIN correlations c ON c.id = x.correlation_id
WHERE x.status = 'complete';
