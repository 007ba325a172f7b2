-- xtrace schema, version 6: clocks that drift. A domain's clock is an offset and a drift against
-- the reference domain's: it runs drift_ppm parts per million fast (negative: slow), so with
-- first = the domain's first event, t_reference = first + offset_ns + (t_local − first) /
-- (1 + drift_ppm·1e-6): offset_ns is the offset at the domain's first event (0 ppm: a constant
-- offset, as every correlation stored before version 6 was). Column comments are /* */ comments
-- inside the statement (see 004_counter_stage.sql).

ALTER TABLE domain_offsets ADD COLUMN drift_ppm REAL /* how much faster than the reference's the domain's clock runs (ppm; negative: slower); NULL when unlinked/unused */;
ALTER TABLE domain_offsets ADD COLUMN drift_method TEXT /* 'reference', 'given' (--drift, or 0 with --offset alone), 'constant' (a constant offset fits the links: drift 0), 'estimated' (causality); NULL when unlinked/unused */;
ALTER TABLE domain_offsets ADD COLUMN drift_lower_ppm REAL /* the drift the links allow, from (drift_method 'constant' or 'estimated'; NULL otherwise) */;
ALTER TABLE domain_offsets ADD COLUMN drift_upper_ppm REAL /* … to */;

-- Batched requests (a point absent by design: a suppressed notification): the stage views give
-- such a request its merged stage (from the last point present to the next one), and add up.
.read views/xt_stage_times.sql
.read views/xt_stage_summary.sql
.read views/xt_slowest_requests.sql
