-- xtrace database, schema version 1.
-- This is the product's SQL interface: every table, view and column is commented here, and the
-- comments stay in sqlite_schema, so `.schema events` in the plain sqlite3 shell shows them.
-- Timestamps (`*_ns`) are integer nanoseconds in the source's own clock domain (raw ticks when
-- sources.has_time_base = 0). Strings repeated on every event are interned in `strings`; the
-- views below resolve them, so query the views, not the *_data tables.

CREATE TABLE xt_meta (            -- facts about this database file
  key   TEXT PRIMARY KEY,         -- 'schema_version', 'created_by'
  value TEXT NOT NULL             -- the value, as text
);

CREATE TABLE sources (            -- one row per ingested input file (a file is ingested whole or not at all)
  id                INTEGER PRIMARY KEY, -- source id, referenced by events.source_id and diagnostics.source_id
  path              TEXT NOT NULL,       -- the path as given to `xtrace ingest` ('-' for standard input)
  sha256            TEXT NOT NULL UNIQUE,-- SHA-256 of the trace content (after gunzip); ingesting the same content again is a no-op
  bytes             INTEGER NOT NULL,    -- size of the input in bytes as read (compressed size for .gz)
  format            TEXT NOT NULL,       -- parser that read it: 'ftrace', 'systrace-html', 'xtbuf', 'xtbuf-text'
  variant           TEXT,                -- format variant seen: 'ftrace', 'ftrace-latency', 'trace-cmd', 'systrace-html', 'xtbuf', ...
  domain            TEXT NOT NULL,       -- clock domain named at ingest (--domain), default 'default'
  clock             TEXT,                -- clock as far as the file tells: 'ns' (a nanosecond trace clock), 'x86-tsc', 'counter', 'latency-relative', 'monotonic', 'realtime', 'tsc', 'monotonic_raw'
  clock_kind        TEXT,                -- 'ns', 'tsc-converted' (ticks converted with tsc_hz), 'ticks' (no time base), 'relative-us' (latency-format, µs since buffer start)
  has_time_base     INTEGER NOT NULL,    -- 1 when ts_ns are nanoseconds, 0 when they are raw ticks (latency reports refuse such sources)
  tsc_hz            INTEGER,             -- cycles per second used to convert TSC ticks, else NULL
  cpus              INTEGER,             -- number of CPUs announced by the header (#P:N, cpus=N), else NULL
  tracer            TEXT,                -- '# tracer:' of the header, else NULL
  pid               INTEGER,             -- xtbuf: the dumping process, else NULL
  comm              TEXT,                -- xtbuf: the dumping process's name, else NULL
  entries_in_buffer INTEGER,             -- header's entries-in-buffer (xtbuf: surviving records), else NULL
  entries_written   INTEGER,             -- header's entries-written (xtbuf: records ever written), else NULL
  lines             INTEGER NOT NULL,    -- lines read (xtbuf binary: records read)
  events            INTEGER NOT NULL,    -- events stored
  unparsed_lines    INTEGER NOT NULL,    -- lines not understood (diagnostic unparsed_line), 0 for a clean file
  lost_events       INTEGER NOT NULL,    -- events the tracer says it lost (LOST EVENTS markers, buffer overrun, wrapped xtbuf ring)
  first_ts_ns       INTEGER,             -- smallest event timestamp
  last_ts_ns        INTEGER,             -- largest event timestamp
  first_event_id    INTEGER,             -- events of this source have ids first_event_id..last_event_id
  last_event_id     INTEGER,             -- (NULL when the source has no event)
  ingested_at       TEXT NOT NULL,       -- UTC time of ingestion, ISO 8601
  xtrace_version    TEXT NOT NULL        -- version of xtrace that ingested it
);

CREATE TABLE strings (            -- interned strings (comm, event name, flags, part); use the views
  id    INTEGER PRIMARY KEY,      -- string id
  value TEXT NOT NULL UNIQUE      -- the string
);

CREATE TABLE event_data (         -- storage of events with interned strings; query the `events` view instead
  id        INTEGER PRIMARY KEY,  -- event id, increasing in input order within a source
  source_id INTEGER NOT NULL,     -- sources.id
  line      INTEGER NOT NULL,     -- 1-based line of the event in the input (xtbuf binary: record number)
  ts_ns     INTEGER NOT NULL,     -- timestamp, ns in the source's clock (ticks when the source has no time base)
  cpu       INTEGER,              -- CPU column
  pid       INTEGER,              -- task pid
  tgid      INTEGER,              -- thread group id (record-tgid column), NULL when absent or (-----)
  comm_id   INTEGER,              -- strings.id of the task name
  name_id   INTEGER NOT NULL,     -- strings.id of the event name
  flags_id  INTEGER,              -- strings.id of the irq-info/latency flags column
  part_id   INTEGER,              -- strings.id of a multi-file trace-cmd report prefix
  args      TEXT NOT NULL         -- payload
);

CREATE TABLE diagnostics (        -- every data problem or notable line of a source, as a named counter (never a silent skip)
  source_id  INTEGER NOT NULL,    -- sources.id
  code       TEXT NOT NULL,       -- counter name, see diagnostic_codes
  severity   TEXT NOT NULL,       -- 'info' (understood / decoration), 'data_loss' (data missing or damaged), 'error'
  count      INTEGER NOT NULL,    -- occurrences (for lost_events, buffer_overrun, xtbuf_ring_wrapped: events lost)
  first_line INTEGER NOT NULL,    -- first line where it occurred (0 when it concerns the whole file)
  detail     TEXT,                -- the first occurrence, e.g. the text of the first line not understood
  PRIMARY KEY (source_id, code)
);

CREATE TABLE diagnostic_codes (   -- catalogue of diagnostic counters
  code        TEXT PRIMARY KEY,   -- counter name
  severity    TEXT NOT NULL,      -- 'info', 'data_loss' or 'error'
  counts_lines INTEGER NOT NULL,  -- 1 when each occurrence is one input line that is not an event (sources.lines = events + these counts)
  description TEXT NOT NULL       -- what it means
);

CREATE VIEW events AS             -- every event of every source, strings resolved
SELECT
  e.id,                           -- event id
  e.source_id,                    -- sources.id
  e.line,                         -- 1-based line in the input
  e.ts_ns,                        -- timestamp (ns, or ticks when the source has no time base)
  e.cpu,                          -- CPU
  e.pid,                          -- task pid
  e.tgid,                         -- thread group id or NULL
  c.value AS comm,                -- task name as printed (`<idle>`, `<...>`, may contain spaces)
  n.value AS name,                -- event name, normalised: sys_enter_X/sys_exit_X for syscalls, the caller for trace_printk/trace_marker lines, the probe for xtbuf records
  f.value AS flags,               -- flags column as printed (`d..2.`), NULL when the format has none
  p.value AS part,                -- multi-file trace-cmd report prefix, else NULL
  e.args                          -- payload text; syscalls as `key=0xhex ...`, exits as `ret=0xhex`
FROM event_data e
LEFT JOIN strings c ON c.id = e.comm_id
JOIN strings n ON n.id = e.name_id
LEFT JOIN strings f ON f.id = e.flags_id
LEFT JOIN strings p ON p.id = e.part_id;

CREATE VIEW event_fields AS       -- the key=value pairs of each event's args, one row per pair (filter on event_id, or join from events)
SELECT
  e.id AS event_id,               -- events.id
  CAST(j.key AS INTEGER) AS pos,  -- position of the pair among the space-separated words of args
  substr(j.value, 1, instr(j.value, '=') - 1) AS key, -- key (before '=')
  substr(j.value, instr(j.value, '=') + 1) || coalesce((
    SELECT group_concat(' ' || c.value, '') FROM json_each('["' || replace(replace(replace(replace(replace(e.args, '\', '\\'), '"', '\"'), char(9), ' '), char(10), ' '), ' ', '","') || '"]') c
    WHERE CAST(c.key AS INTEGER) > CAST(j.key AS INTEGER) AND c.value NOT IN ('==>', '')
      AND CAST(c.key AS INTEGER) < coalesce((SELECT min(CAST(n.key AS INTEGER)) FROM json_each('["' || replace(replace(replace(replace(replace(e.args, '\', '\\'), '"', '\"'), char(9), ' '), char(10), ' '), ' ', '","') || '"]') n
                                             WHERE CAST(n.key AS INTEGER) > CAST(j.key AS INTEGER) AND (n.value GLOB '[A-Za-z_]*=*' AND substr(n.value, 1, instr(n.value, '=') - 1) NOT GLOB '*[^A-Za-z0-9_.]*')), 1e18)
  ), '') AS value                 -- value (after '='); following words without '=' belong to it (prev_comm=Web Content); '==>' is dropped
FROM event_data e, json_each('["' || replace(replace(replace(replace(replace(e.args, '\', '\\'), '"', '\"'), char(9), ' '), char(10), ' '), ' ', '","') || '"]') j
WHERE instr(e.args, '=') > 0 AND (j.value GLOB '[A-Za-z_]*=*' AND substr(j.value, 1, instr(j.value, '=') - 1) NOT GLOB '*[^A-Za-z0-9_.]*');

CREATE VIEW source_summary AS     -- what `xtrace ingest` prints per file
SELECT
  s.id AS source_id,              -- sources.id
  s.path,                         -- input path
  s.format,                       -- parser
  s.domain,                       -- clock domain
  s.events,                       -- events stored
  s.unparsed_lines,               -- lines not understood
  s.lost_events,                  -- events lost by the tracer
  (s.last_ts_ns - s.first_ts_ns) AS span_ns -- time covered (ticks when has_time_base = 0)
FROM sources s;
