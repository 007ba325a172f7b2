-- name: slow-in-stage
-- description: Complete requests whose duration in a stage is above a percentile of that stage, with the CPU and task of the stage's end event.
-- param: profile =                -- profile name (empty: every profile)
-- param: stage =                  -- stage name, e.g. be_get_req->be_map (empty: every stage, each against its own percentile)
-- param: percentile = 90          -- nearest-rank percentile of the stage over the complete requests (0-100): rank ceil(p/100 · n)
-- param: run =                    -- run label: requests and percentile of this run only (empty: every run)
-- param: limit = 50               -- how many rows at most, slowest first (-1: all)
WITH d AS (
  SELECT t.profile, t.correlation_id, t.run, t.request_id, t.seq, t.kept, t.stage, t.pos, t.duration_ns, t.to_event_id,
         row_number() OVER (g ORDER BY t.duration_ns) AS k,
         count(*) OVER g AS n
  FROM xt_stage_times t
  WHERE t.status = 'complete'
    AND (:profile = '' OR t.profile = CAST(:profile AS TEXT))
    AND (:stage = '' OR t.stage = CAST(:stage AS TEXT))
    AND (:run = '' OR t.run = CAST(:run AS TEXT))
  WINDOW g AS (PARTITION BY t.correlation_id, t.stage)
),
threshold AS (
  SELECT correlation_id, stage, n, duration_ns AS threshold_ns
  FROM d
  WHERE k = max(1, CAST(:percentile * n / 100.0 AS INTEGER) + (:percentile * n / 100.0 > CAST(:percentile * n / 100.0 AS INTEGER)))
)
SELECT d.profile, d.run, d.request_id, d.seq, d.kept, d.stage, d.duration_ns, h.threshold_ns,
       d.k AS rank_in_stage, h.n AS requests_in_stage,
       s.domain, e.cpu, e.pid, e.comm, e.name AS end_event, d.to_event_id AS end_event_id
FROM d
JOIN threshold h ON h.correlation_id = d.correlation_id AND h.stage = d.stage
LEFT JOIN events e ON e.id = d.to_event_id
LEFT JOIN sources s ON s.id = e.source_id
WHERE d.duration_ns > h.threshold_ns
ORDER BY d.duration_ns DESC, d.correlation_id, d.seq, d.pos
LIMIT :limit;
