-- xt_stage_summary: the distribution of each stage per run, over the complete and over the kept requests.
DROP VIEW IF EXISTS xt_stage_summary;
CREATE VIEW xt_stage_summary AS   -- per profile, run, stage and population ('complete' or 'kept'): count, mean, nearest-rank median/p90/p99, min, max
-- Percentiles by the nearest-rank method: of the n values in increasing order, the p-th
-- percentile is the value of rank ceil(p/100 · n) (1-based), always a value that occurred; the
-- median is rank ceil(n/2), the lower middle value when n is even. Integer arithmetic, no math
-- functions: ceil(p·n/100) = (p·n + 99) / 100.
-- A merged stage (a complete request's points between absent by design, batched: xt_stage_times)
-- is a stage of its own, over the requests that have it; a split stage then counts only the
-- requests that have it too. mean_contribution_ns counts 0 for the population's requests without
-- the stage: the report's row value, and the stages' contributions add up to the total's mean.
WITH population AS (
  SELECT profile, correlation_id, run, stage, pos, from_pos, 'complete' AS population, duration_ns
  FROM xt_stage_times WHERE status = 'complete'
  UNION ALL
  SELECT profile, correlation_id, run, stage, pos, from_pos, 'kept', duration_ns
  FROM xt_stage_times WHERE kept = 1
  UNION ALL
  SELECT c.profile, r.correlation_id, r.run, 'total', json_array_length(c.path), 0, 'complete', r.total_ns
  FROM requests r JOIN correlations c ON c.id = r.correlation_id WHERE r.status = 'complete'
  UNION ALL
  SELECT c.profile, r.correlation_id, r.run, 'total', json_array_length(c.path), 0, 'kept', r.total_ns
  FROM requests r JOIN correlations c ON c.id = r.correlation_id WHERE r.kept = 1
),
ranked AS (
  SELECT population.*,
         row_number() OVER (g ORDER BY duration_ns) AS k,
         count(*) OVER g AS n
  FROM population
  WINDOW g AS (PARTITION BY correlation_id, run, pos, from_pos, population)
),
-- Window functions only, no GROUP BY: a filter on the run or the profile then reaches the scan
-- of the requests (SQLite pushes WHERE terms on partition columns into window subqueries, but
-- into an aggregate subquery only as a HAVING, after the work).
summarised AS (
  SELECT ranked.*,
         avg(duration_ns) OVER g AS mean_ns,
         max(CASE WHEN k = (n + 1) / 2 THEN duration_ns END) OVER g AS median_ns,
         max(CASE WHEN k = (90 * n + 99) / 100 THEN duration_ns END) OVER g AS p90_ns,
         max(CASE WHEN k = (99 * n + 99) / 100 THEN duration_ns END) OVER g AS p99_ns,
         min(duration_ns) OVER g AS min_ns,
         max(duration_ns) OVER g AS max_ns,
         sum(duration_ns) OVER g AS sum_ns,
         sum(stage = 'total') OVER w AS requests
  FROM ranked
  WINDOW g AS (PARTITION BY correlation_id, run, pos, from_pos, population),
         w AS (PARTITION BY correlation_id, run, population)
)
SELECT
  x.profile,                      -- profile name (correlations.profile)
  x.correlation_id,               -- correlations.id
  x.run,                          -- run label, NULL for the requests that started outside every run
  (SELECT min(u.seq) FROM runs u WHERE u.correlation_id = x.correlation_id AND u.run = x.run) AS run_seq, -- runs.seq: run order by begin marker (sort by it: labels are text), NULL outside runs
  x.stage,                        -- stage name as in reports ('from->to'), or 'total' (first point to last point)
  x.pos,                          -- position of the stage's end point in the path (1 = first stage); the path length for 'total', so it sorts last
  x.population,                   -- 'complete': every complete request of the run; 'kept': those in the report's averages (requests.kept = 1: after warm-up and trimming by total)
  x.n AS count,                   -- requests of the population that have the stage (all of them unless some are batched: see mean_contribution_ns)
  x.mean_ns,                      -- mean over those (ns); for 'kept' it is the report's per-run stage mean (with --trim-by total) when every request has the stage
  x.median_ns,                    -- nearest-rank median: the value of rank ceil(n/2) (the lower middle value when n is even)
  x.p90_ns,                       -- nearest-rank 90th percentile: the value of rank ceil(0.9 n)
  x.p99_ns,                       -- nearest-rank 99th percentile: the value of rank ceil(0.99 n)
  x.min_ns,                       -- smallest value (ns)
  x.max_ns,                       -- largest value (ns)
  x.from_pos,                     -- position of the stage's start point: pos − 1, smaller for a merged stage (batched requests), 0 for 'total'; report order is pos, then the split stage (from_pos = pos − 1), then the merged ones by from_pos
  x.sum_ns * 1.0 / x.requests AS mean_contribution_ns -- sum over the population / all its requests (0 for a request without the stage): for 'kept' the report's per-run value of the stage (with --trim-by total); mean_ns when every request has the stage
FROM summarised x
WHERE x.k = 1;
