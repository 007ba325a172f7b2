-- name: slowest
-- description: The slowest complete requests, with their rank in their run and their full timeline.
-- param: profile =                -- profile name (empty: every profile)
-- param: run =                    -- run label (empty: every run)
-- param: limit = 10               -- how many
SELECT profile, run, rank, request_id, kept, total_ns, timeline_text, stages
FROM xt_slowest_requests
WHERE (:profile = '' OR profile = CAST(:profile AS TEXT))
  AND (:run = '' OR run = CAST(:run AS TEXT))
ORDER BY total_ns DESC, correlation_id, seq
LIMIT :limit;
