-- xtrace schema, version 8: what a report was run on and for (issue 14, `xtrace history` and the
-- Parquet export). Column comments are /* */ comments inside the statement (see 004_counter_stage.sql).

ALTER TABLE correlations ADD COLUMN meta TEXT NOT NULL DEFAULT '{}' /* JSON object of the report's --meta KEY=VALUE pairs (commit, branch, date …), '{}' when none */;
ALTER TABLE correlations ADD COLUMN host TEXT /* host name of the machine that ran the report (NULL: stored before version 8) */;
ALTER TABLE correlations ADD COLUMN filters TEXT NOT NULL DEFAULT '[]' /* JSON array of the report's --filter texts, as given */;
