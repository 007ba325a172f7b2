-- name: stage-summary
-- description: Per run and stage: count, mean, nearest-rank median, p90 and p99, min and max of the complete or kept requests.
-- param: profile =                -- profile name (empty: every profile)
-- param: run =                    -- run label (empty: every run)
-- param: stage =                  -- stage name, e.g. rq_issue->irq, or total (empty: every stage and the total)
-- param: population = kept        -- kept (the requests the report averages) or complete (every complete request); empty: both
SELECT profile, run, stage, population, count, mean_ns, median_ns, p90_ns, p99_ns, min_ns, max_ns
FROM xt_stage_summary
WHERE (:profile = '' OR profile = CAST(:profile AS TEXT))
  AND (:run = '' OR run = CAST(:run AS TEXT))
  AND (:stage = '' OR stage = CAST(:stage AS TEXT))
  AND (:population = '' OR population = CAST(:population AS TEXT))
ORDER BY profile, run_seq IS NULL, run_seq, population, pos, from_pos <> pos - 1, from_pos;
