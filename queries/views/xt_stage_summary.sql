-- xt_stage_summary: the distribution of each stage per run, over the complete and over the kept
-- requests. Computed by `xtrace report` when it stores a correlation (stage_summary).
DROP VIEW IF EXISTS xt_stage_summary;
CREATE VIEW xt_stage_summary AS   -- per profile, run, stage and population ('complete' or 'kept'): count, mean, nearest-rank median/p90/p99, min, max
SELECT
  c.profile,                      -- profile name (correlations.profile)
  x.correlation_id,               -- correlations.id
  x.run,                          -- run label, NULL for the requests that started outside every run
  (SELECT min(u.seq) FROM runs u WHERE u.correlation_id = x.correlation_id AND u.run = x.run) AS run_seq, -- runs.seq: run order by begin marker (sort by it: labels are text), NULL outside runs
  x.stage,                        -- stage name as in reports ('from->to'), or 'total' (first point to last point)
  x.pos,                          -- position of the stage's end point in the path (1 = first stage); the path length for 'total', so it sorts last
  x.population,                   -- 'complete': every complete request of the run; 'kept': those in the report's averages (requests.kept = 1: after warm-up and trimming by total)
  x.count,                        -- requests of the population that have the stage (all of them unless some are batched: see mean_contribution_ns)
  x.mean_ns,                      -- mean over those (ns); for 'kept' it is the report's per-run stage mean (with --trim-by total) when every request has the stage
  x.median_ns,                    -- nearest-rank median: the value of rank ceil(n/2) (the lower middle value when n is even)
  x.p90_ns,                       -- nearest-rank 90th percentile: the value of rank ceil(0.9 n)
  x.p99_ns,                       -- nearest-rank 99th percentile: the value of rank ceil(0.99 n)
  x.min_ns,                       -- smallest value (ns)
  x.max_ns,                       -- largest value (ns)
  x.from_pos,                     -- position of the stage's start point: pos − 1, smaller for a merged stage (batched requests), 0 for 'total'; report order is pos, then the split stage (from_pos = pos − 1), then the merged ones by from_pos
  x.mean_contribution_ns          -- sum over the population / all its requests (0 for a request without the stage): for 'kept' the report's per-run value of the stage (with --trim-by total); mean_ns when every request has the stage
FROM stage_summary x
JOIN correlations c ON c.id = x.correlation_id;
