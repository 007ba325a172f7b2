-- Migration 007: what people query, in a shape SQL is fast on (issue 13).
-- * Stage durations as rows (request_stage_data, clustered by stage, status and duration), with
--   the stage names of each correlation (stages): `GROUP BY stage` reads them in stage order.
-- * The per-run stage statistics the report computes anyway (stage_summary), and each complete
--   request's rank by total latency in its run (requests.run_rank): xt_stage_summary and
--   xt_slowest_requests read them instead of ranking every request with window functions.
-- * An index of events by name: `SELECT name, count(*) FROM events GROUP BY name` reads it alone.
-- Correlations stored before this migration are converted here from their JSON columns.

CREATE TABLE stages (             -- the stages of each correlation: consecutive path points, and the merged stages of batched requests
  id             INTEGER PRIMARY KEY, -- stage id (request_stage_data.stage_id)
  correlation_id INTEGER NOT NULL REFERENCES correlations(id) ON DELETE CASCADE, -- correlations.id
  pos            INTEGER NOT NULL,  -- position of the end point in the path (1 = first stage)
  from_pos       INTEGER NOT NULL,  -- position of the start point: pos − 1, smaller for a merged stage (the points between absent by design)
  stage          TEXT NOT NULL,     -- 'from_point->to_point', as in reports
  from_point     TEXT NOT NULL,     -- start point name
  to_point       TEXT NOT NULL,     -- end point name
  UNIQUE (correlation_id, pos, from_pos)
);
CREATE INDEX stages_by_name ON stages(stage, correlation_id);

CREATE TABLE request_stage_data ( -- one row per request and stage: its duration (query the request_stages view)
  stage_id    INTEGER NOT NULL,   -- stages.id
  status      INTEGER NOT NULL,   -- the request's status: 0 complete, 1 incomplete, 2 orphan
  rank        INTEGER NOT NULL,   -- 1.. in the order of duration_ns (NULL first), then request id (start order), within (stage_id, status)
  request_id  INTEGER NOT NULL,   -- requests.id
  duration_ns INTEGER,            -- ns (reference clock), NULL when a point is missing
  PRIMARY KEY (stage_id, status, rank)
) WITHOUT ROWID;

CREATE TABLE stage_summary (      -- per correlation, run, stage and population: what xt_stage_summary shows (written by `xtrace report`)
  correlation_id INTEGER NOT NULL REFERENCES correlations(id) ON DELETE CASCADE, -- correlations.id
  run            TEXT,              -- run label, NULL outside every run
  stage          TEXT NOT NULL,     -- stage name, or 'total'
  pos            INTEGER NOT NULL,  -- end point position (path length for 'total')
  from_pos       INTEGER NOT NULL,  -- start point position (0 for 'total')
  population     TEXT NOT NULL,     -- 'complete' or 'kept'
  count          INTEGER NOT NULL,  -- requests of the population that have the stage
  mean_ns        REAL,              -- mean over those (ns)
  median_ns      INTEGER,           -- nearest-rank median: the value of rank ceil(n/2)
  p90_ns         INTEGER,           -- nearest-rank 90th percentile: rank ceil(0.9 n)
  p99_ns         INTEGER,           -- nearest-rank 99th percentile: rank ceil(0.99 n)
  min_ns         INTEGER,           -- smallest value (ns)
  max_ns         INTEGER,           -- largest value (ns)
  mean_contribution_ns REAL         -- sum over the population / all its requests (0 for a request without the stage)
);
CREATE INDEX stage_summary_by_correlation ON stage_summary(correlation_id);

ALTER TABLE requests ADD COLUMN run_rank INTEGER /* complete requests: rank by total_ns within (correlation, run), 1 = slowest, ties in start order; NULL otherwise */;

CREATE INDEX event_data_by_name ON event_data(name_id);

-- The events view: the task name, flags and part as scalar subqueries (computed only when asked
-- for), the name as a join (so that GROUP BY name walks event_data_by_name).
DROP VIEW events;
CREATE VIEW events AS             -- every event of every source, strings resolved
SELECT
  e.id,                           -- event id
  e.source_id,                    -- sources.id
  e.line,                         -- 1-based line in the input
  e.ts_ns,                        -- timestamp (ns, or ticks when the source has no time base)
  e.cpu,                          -- CPU
  e.pid,                          -- task pid
  e.tgid,                         -- thread group id or NULL
  (SELECT value FROM strings WHERE id = e.comm_id) AS comm, -- task name as printed (`<idle>`, `<...>`, may contain spaces)
  n.value AS name,                -- event name, normalised: sys_enter_X/sys_exit_X for syscalls, the caller for trace_printk/trace_marker lines, the probe for xtbuf records
  (SELECT value FROM strings WHERE id = e.flags_id) AS flags, -- flags column as printed (`d..2.`), NULL when the format has none
  (SELECT value FROM strings WHERE id = e.part_id) AS part,   -- multi-file trace-cmd report prefix, else NULL
  e.args                          -- payload text; syscalls as `key=0xhex ...`, exits as `ret=0xhex`
FROM event_data e
JOIN strings n ON n.id = e.name_id;

-- fill: correlations stored before: their stages and stage rows from the JSON columns (the definition
-- of xt_stage_times until now), then their summaries and ranks.

INSERT INTO stages(correlation_id, pos, from_pos, stage, from_point, to_point)
WITH m_stage AS MATERIALIZED (
  SELECT r.correlation_id, r.id AS request_id, CASE r.status WHEN 'complete' THEN 0 WHEN 'incomplete' THEN 1 ELSE 2 END AS status,
         CAST(p.key AS INTEGER) AS pos,
         CASE WHEN r.status = 'complete' AND json_type(r.points, '$[' || (p.key - 1) || ']') = 'null'
              THEN (SELECT max(q.key) FROM json_each(r.points) q WHERE q.key < p.key AND q.type <> 'null')
              ELSE p.key - 1 END AS from_pos,
         p.value AS to_ns, r.points
  FROM requests r
  JOIN json_each(r.points) p ON p.key > 0
  WHERE r.status <> 'complete' OR p.type <> 'null'
)
SELECT DISTINCT m.correlation_id, m.pos, m.from_pos,
       json_extract(c.path, '$[' || m.from_pos || ']') || '->' || json_extract(c.path, '$[' || m.pos || ']'),
       json_extract(c.path, '$[' || m.from_pos || ']'), json_extract(c.path, '$[' || m.pos || ']')
FROM m_stage m JOIN correlations c ON c.id = m.correlation_id
ORDER BY m.correlation_id, m.pos, m.from_pos;

INSERT INTO request_stage_data(stage_id, status, rank, request_id, duration_ns)
WITH m_stage AS MATERIALIZED (
  SELECT r.correlation_id, r.id AS request_id, CASE r.status WHEN 'complete' THEN 0 WHEN 'incomplete' THEN 1 ELSE 2 END AS status,
         CAST(p.key AS INTEGER) AS pos,
         CASE WHEN r.status = 'complete' AND json_type(r.points, '$[' || (p.key - 1) || ']') = 'null'
              THEN (SELECT max(q.key) FROM json_each(r.points) q WHERE q.key < p.key AND q.type <> 'null')
              ELSE p.key - 1 END AS from_pos,
         p.value AS to_ns, r.points
  FROM requests r
  JOIN json_each(r.points) p ON p.key > 0
  WHERE r.status <> 'complete' OR p.type <> 'null'
)
SELECT stage_id, status, row_number() OVER (PARTITION BY stage_id, status ORDER BY duration_ns, request_id), request_id, duration_ns
FROM (SELECT s.id AS stage_id, m.status, m.request_id, m.to_ns - json_extract(m.points, '$[' || m.from_pos || ']') AS duration_ns
      FROM m_stage m JOIN stages s ON s.correlation_id = m.correlation_id AND s.pos = m.pos AND s.from_pos = m.from_pos)
ORDER BY 1, 2, 3;

UPDATE requests SET run_rank = x.rank
FROM (SELECT id, row_number() OVER (PARTITION BY correlation_id, run ORDER BY total_ns DESC, seq) AS rank FROM requests WHERE status = 'complete') x
WHERE requests.id = x.id;

INSERT INTO stage_summary(correlation_id, run, stage, pos, from_pos, population, count, mean_ns, median_ns, p90_ns, p99_ns, min_ns, max_ns, mean_contribution_ns)
WITH population AS (
  SELECT s.correlation_id, r.run, s.stage, s.pos, s.from_pos, 'complete' AS population, d.duration_ns
  FROM request_stage_data d JOIN stages s ON s.id = d.stage_id JOIN requests r ON r.id = d.request_id WHERE d.status = 0
  UNION ALL
  SELECT s.correlation_id, r.run, s.stage, s.pos, s.from_pos, 'kept', d.duration_ns
  FROM request_stage_data d JOIN stages s ON s.id = d.stage_id JOIN requests r ON r.id = d.request_id WHERE r.kept = 1
  UNION ALL
  SELECT r.correlation_id, r.run, 'total', json_array_length(c.path), 0, 'complete', r.total_ns
  FROM requests r JOIN correlations c ON c.id = r.correlation_id WHERE r.status = 'complete'
  UNION ALL
  SELECT r.correlation_id, r.run, 'total', json_array_length(c.path), 0, 'kept', r.total_ns
  FROM requests r JOIN correlations c ON c.id = r.correlation_id WHERE r.kept = 1
),
ranked AS (
  SELECT population.*, row_number() OVER (g ORDER BY duration_ns) AS k, count(*) OVER g AS n
  FROM population
  WINDOW g AS (PARTITION BY correlation_id, run, pos, from_pos, population)
),
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
SELECT correlation_id, run, stage, pos, from_pos, population, n, mean_ns, median_ns, p90_ns, p99_ns, min_ns, max_ns, sum_ns * 1.0 / requests
FROM summarised WHERE k = 1;

DROP VIEW IF EXISTS request_stages;
CREATE VIEW request_stages AS     -- one row per request and stage, with its duration (stored rows: fast to GROUP BY stage)
SELECT
  d.request_id,                   -- requests.id
  s.correlation_id,               -- correlations.id
  (SELECT r.run FROM requests r WHERE r.id = d.request_id) AS run, -- run label, NULL outside every run
  CASE d.status WHEN 0 THEN 'complete' WHEN 1 THEN 'incomplete' ELSE 'orphan' END AS status, -- request status
  s.pos,                          -- position of the stage's end point in the path (1 = first stage)
  s.stage,                        -- stage name, as in reports ('from->to')
  s.from_point,                   -- start point
  s.to_point,                     -- end point
  d.duration_ns                   -- ns, NULL when a point is missing; a complete request's stage around a point absent by design (batched) is the merged stage from the point before it
FROM stages s
JOIN request_stage_data d ON d.stage_id = s.id;
.read views/xt_stage_summary.sql
.read views/xt_slowest_requests.sql
