-- xtrace schema, version 3: views for ad hoc analysis of the correlated requests (written by
-- `xtrace report`) and of the data quality. Every public name starts with `xt_`.
--
-- This file is the ordered list of the view files of queries/views/ (a view is created after the
-- views it reads). xtrace runs it as migration 2 → 3, replacing each `.read FILE` line by the file
-- (relative to queries/); the sqlite3 shell does the same when started in queries/:
--   cd queries && sqlite3 ../run.db < 003_views.sql
-- Each view file drops its view first, so reading a file again replaces the view.

-- Requests name their run by label (requests.run); labels are unique within a correlation (a
-- repeated label becomes `3#2`). This index lets the views join a request to its run.
CREATE INDEX IF NOT EXISTS runs_by_label ON runs(correlation_id, run);

.read views/xt_request_events.sql
.read views/xt_stage_times.sql
.read views/xt_stage_summary.sql
.read views/xt_slowest_requests.sql
.read views/xt_data_quality.sql
