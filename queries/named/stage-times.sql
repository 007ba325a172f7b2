-- name: stage-times
-- description: Every stage of the correlated requests, in start order: duration and the clock domain of both points.
-- param: profile =                -- profile name (empty: every profile)
-- param: run =                    -- run label (empty: every run)
-- param: stage =                  -- stage name as in reports, e.g. rq_issue->irq (empty: every stage)
-- param: status = complete        -- request status: complete, incomplete or orphan (empty: any)
-- param: kept =                   -- requests.kept: 1 in the averages, 2 warm-up, 0 neither (empty: any)
-- param: limit = 1000             -- how many rows at most (-1: all)
SELECT profile, run, request_id, seq, status, kept, stage, pos, from_domain, to_domain, duration_ns, start_ts_ns
FROM xt_stage_times
WHERE (:profile = '' OR profile = CAST(:profile AS TEXT))
  AND (:run = '' OR run = CAST(:run AS TEXT))
  AND (:stage = '' OR stage = CAST(:stage AS TEXT))
  AND (:status = '' OR status = CAST(:status AS TEXT))
  AND (:kept = '' OR kept = :kept)
ORDER BY profile, seq, pos
LIMIT :limit;
