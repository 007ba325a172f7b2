-- name: slow-in-stage
-- description: Complete requests whose duration in a stage is above a percentile of that stage, with the CPU and task of the stage's end event.
-- param: profile =                -- profile name (empty: every profile)
-- param: stage =                  -- stage name, e.g. be_get_req->be_map (empty: every stage, each against its own percentile)
-- param: percentile = 90          -- nearest-rank percentile of the stage over the complete requests (0-100): rank ceil(p/100 · n)
-- param: run =                    -- run label: requests and percentile of this run only (empty: every run)
-- param: limit = 50               -- how many rows at most, slowest first (-1: all)
-- The stage rows are stored ranked by duration within each stage (request_stage_data.rank): the
-- percentile is one lookup and the requests above it one range, for every run; for one run they
-- are ranked among that run's requests. Ties in duration are ranked in start order.
WITH st AS MATERIALIZED (
  SELECT s.id, s.correlation_id, s.stage, s.pos, c.profile
  FROM stages s JOIN correlations c ON c.id = s.correlation_id
  WHERE (:profile = '' OR c.profile = CAST(:profile AS TEXT))
    AND (:stage = '' OR s.stage = CAST(:stage AS TEXT))
),
in_run AS MATERIALIZED (         -- :run given: the complete requests' stage rows of that run, ranked within it
  SELECT d.stage_id, d.request_id, d.duration_ns, row_number() OVER (PARTITION BY d.stage_id ORDER BY d.rank) AS k
  FROM st
  JOIN request_stage_data d ON d.stage_id = st.id AND d.status = 0
  JOIN requests r ON r.id = d.request_id
  WHERE :run <> '' AND r.run = CAST(:run AS TEXT)
),
counts AS MATERIALIZED (
  SELECT st.id AS stage_id,
         CASE WHEN :run = '' THEN (SELECT max(d.rank) FROM request_stage_data d WHERE d.stage_id = st.id AND d.status = 0)
              ELSE (SELECT max(i.k) FROM in_run i WHERE i.stage_id = st.id) END AS n
  FROM st
),
threshold AS MATERIALIZED (
  SELECT c.stage_id, c.n,
         max(1, CAST(:percentile * c.n / 100.0 AS INTEGER) + (:percentile * c.n / 100.0 > CAST(:percentile * c.n / 100.0 AS INTEGER))) AS k
  FROM counts c
  WHERE c.n > 0
),
h AS MATERIALIZED (
  SELECT t.*,
         CASE WHEN :run = '' THEN (SELECT d.duration_ns FROM request_stage_data d WHERE d.stage_id = t.stage_id AND d.status = 0 AND d.rank = t.k)
              ELSE (SELECT i.duration_ns FROM in_run i WHERE i.stage_id = t.stage_id AND i.k = t.k) END AS threshold_ns
  FROM threshold t
),
above AS MATERIALIZED (
  SELECT * FROM (
    SELECT h.stage_id, st.correlation_id, st.pos, d.request_id, d.duration_ns, h.threshold_ns, d.rank AS k, h.n
    FROM h JOIN st ON st.id = h.stage_id
    JOIN request_stage_data d ON d.stage_id = h.stage_id AND d.status = 0 AND d.rank >= h.k AND d.duration_ns > h.threshold_ns
    WHERE :run = ''
    UNION ALL
    SELECT h.stage_id, st.correlation_id, st.pos, i.request_id, i.duration_ns, h.threshold_ns, i.k, h.n
    FROM h JOIN st ON st.id = h.stage_id
    JOIN in_run i ON i.stage_id = h.stage_id AND i.k >= h.k AND i.duration_ns > h.threshold_ns
  )
  -- request ids are in start order within a correlation: the order of (correlation_id, seq)
  ORDER BY duration_ns DESC, correlation_id, request_id, pos
  LIMIT :limit
)
SELECT st.profile, r.run, r.id AS request_id, r.seq, r.kept, st.stage, a.duration_ns, a.threshold_ns,
       a.k AS rank_in_stage, a.n AS requests_in_stage,
       s.domain, e.cpu, e.pid, (SELECT value FROM strings WHERE id = e.comm_id) AS comm,
       (SELECT value FROM strings WHERE id = e.name_id) AS end_event, e.id AS end_event_id
FROM above a
JOIN st ON st.id = a.stage_id
JOIN requests r ON r.id = a.request_id
LEFT JOIN event_data e ON e.id = json_extract(r.events, '$[' || st.pos || ']')
LEFT JOIN sources s ON s.id = e.source_id
ORDER BY a.duration_ns DESC, a.correlation_id, r.seq, a.pos;
