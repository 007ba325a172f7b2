-- xtrace schema, version 4: one catalogue of counters. diagnostic_codes lists every data-quality
-- counter, of ingestion (the `diagnostics` table) and of the matcher (`correlation_diagnostics`),
-- with the stage that counts it. xtrace rewrites its rows from src/core/counters.ts on every
-- writable open, so codes added or changed since a database was created reach it too.
--
-- The column's comment is a /* */ comment inside the statement: SQLite appends the column's text
-- to the table's CREATE statement in sqlite_schema, where a `--` comment would hide the closing
-- parenthesis. This way `.schema diagnostic_codes` shows it like the others.

ALTER TABLE diagnostic_codes ADD COLUMN stage TEXT NOT NULL DEFAULT 'ingest' /* 'ingest' (counted per source while it is read: diagnostics) or 'correlate' (counted by the matcher: correlation_diagnostics) */;
