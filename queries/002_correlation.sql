-- xtrace schema, version 2: where sources lost events (written by ingest) and correlated requests
-- (written by `xtrace report`).

CREATE TABLE lost_gaps (           -- each place a source says it lost events (the matcher never chains across one)
  source_id INTEGER NOT NULL,      -- sources.id
  line      INTEGER NOT NULL,      -- input line of the LOST EVENTS marker; 0 = before the first event (buffer overrun, wrapped xtbuf ring)
  cpu       INTEGER,               -- CPU whose events were lost, NULL when every CPU or not known
  lost      INTEGER NOT NULL       -- number of events lost there
);

-- Each report replaces the previous results of the same profile. Times are in the reference
-- domain's clock (ns): t_reference = t_local + domain_offsets.offset_ns.

CREATE TABLE correlations (        -- one row per profile: the last `xtrace report` run with it
  id             INTEGER PRIMARY KEY, -- correlation id, referenced by the tables below
  profile        TEXT NOT NULL UNIQUE, -- profile name
  profile_json   TEXT NOT NULL,     -- the profile as used (defaults filled in)
  path           TEXT NOT NULL,     -- JSON array of the point names present in the data, in path order (request_points.pos indexes it)
  absent_points  TEXT NOT NULL,     -- JSON array of optional points left out because their event never occurs
  reference_domain TEXT NOT NULL,   -- the clock domain all times are expressed in
  warmup         INTEGER NOT NULL,  -- --warmup used for requests.kept
  trim           REAL NOT NULL,     -- --trim used for requests.kept
  trim_by        TEXT NOT NULL,     -- 'total' or 'stage'
  passes         INTEGER NOT NULL,  -- matching passes (more than one when clock offsets were estimated)
  created_at     TEXT NOT NULL,     -- UTC time of the report, ISO 8601
  xtrace_version TEXT NOT NULL      -- version of xtrace that wrote it
);

CREATE TABLE runs (                -- runs delimited by `xtrace: run=<label> begin|end` markers ('all' when there is none)
  correlation_id INTEGER NOT NULL REFERENCES correlations(id) ON DELETE CASCADE, -- correlations.id
  seq            INTEGER NOT NULL,  -- run order (by begin marker)
  run            TEXT NOT NULL,     -- label
  begin_ts_ns    INTEGER,           -- begin marker time (reference clock), NULL without markers
  end_ts_ns      INTEGER,           -- end marker time, NULL without markers or when the run never ended
  requests       INTEGER NOT NULL,  -- requests that started in the run (any status)
  complete       INTEGER NOT NULL,  -- complete requests (every point found)
  incomplete     INTEGER NOT NULL,  -- requests missing a point (lost events, wrapped ring, cut by the capture)
  orphans        INTEGER NOT NULL,  -- requests without the first point (e.g. block I/O without a syscall)
  kept           INTEGER NOT NULL,  -- complete requests the averages are taken over (after warm-up and trimming)
  total_ns       REAL NOT NULL,     -- mean total latency (first to last point) of the kept requests
  PRIMARY KEY (correlation_id, seq)
) WITHOUT ROWID;

CREATE TABLE requests (            -- every correlated request, whatever its status
  id             INTEGER PRIMARY KEY, -- request id
  correlation_id INTEGER NOT NULL REFERENCES correlations(id) ON DELETE CASCADE, -- correlations.id
  run            TEXT,              -- runs.run it started in, NULL when outside every run
  seq            INTEGER NOT NULL,  -- order of start within the database (all runs)
  status         TEXT NOT NULL,     -- 'complete', 'incomplete' (a point is missing) or 'orphan' (opened without the first point)
  kept           INTEGER NOT NULL,  -- 1 when in the averages; 0 trimmed, incomplete or outside runs; 2 dropped as warm-up
  start_ts_ns    INTEGER NOT NULL,  -- time of its first point present (reference clock, ns)
  total_ns       INTEGER,           -- last point − first point, for complete requests
  points         TEXT NOT NULL,     -- JSON array, per path point: time since start_ts_ns (ns) or null when missing
  events         TEXT NOT NULL      -- JSON array, per path point: events.id of the event or null
);
CREATE INDEX requests_by_correlation ON requests(correlation_id, seq);

CREATE TABLE domain_offsets (      -- clock offset of each domain relative to the reference domain
  correlation_id INTEGER NOT NULL REFERENCES correlations(id) ON DELETE CASCADE, -- correlations.id
  domain         TEXT NOT NULL,     -- sources.domain
  method         TEXT NOT NULL,     -- 'reference', 'given' (--offset), 'estimated' (causality), 'unlinked' (no request crosses to it), 'unused'
  offset_ns      INTEGER,           -- t_reference = t_local + offset_ns; NULL when unlinked/unused
  uncertainty_ns REAL,              -- the true offset is within ± this (half-width of the feasible interval, summed along the estimation path)
  lower_ns       INTEGER,           -- feasible interval of the offset relative to `relative_to` (estimated only)
  upper_ns       INTEGER,           --   (its middle is the estimate)
  relative_to    TEXT,              -- domain it was estimated from
  links          INTEGER NOT NULL,  -- cross-domain links (consecutive points of complete requests) that bounded it
  PRIMARY KEY (correlation_id, domain)
) WITHOUT ROWID;

CREATE TABLE correlation_diagnostics ( -- what the matcher could not use, as named counters (never a silent skip)
  correlation_id INTEGER NOT NULL REFERENCES correlations(id) ON DELETE CASCADE, -- correlations.id
  code           TEXT NOT NULL,     -- counter name (see README "Data quality")
  point          TEXT,              -- point concerned, if any
  severity       TEXT NOT NULL,     -- 'info' or 'data_loss'
  count          INTEGER NOT NULL,  -- occurrences
  first_event_id INTEGER,           -- events.id of the first occurrence, if any
  description    TEXT NOT NULL      -- what it means
);

CREATE VIEW request_points AS     -- one row per request and path point
SELECT
  r.id AS request_id,             -- requests.id
  r.correlation_id,               -- correlations.id
  r.run,                          -- run label
  r.status,                       -- request status
  CAST(p.key AS INTEGER) AS pos,  -- position in the path (0 = first point)
  json_extract(c.path, '$[' || p.key || ']') AS point, -- point name
  r.start_ts_ns + p.value AS ts_ns, -- time of the point (reference clock, ns), NULL when missing
  json_extract(r.events, '$[' || p.key || ']') AS event_id -- events.id, NULL when missing
FROM requests r
JOIN correlations c ON c.id = r.correlation_id,
json_each(r.points) p;

CREATE VIEW request_stages AS     -- one row per request and stage (consecutive points), with its duration
SELECT
  request_id,                     -- requests.id
  correlation_id,                 -- correlations.id
  run,                            -- run label
  status,                         -- request status
  pos,                            -- position of the stage's end point in the path
  prev_point || '->' || point AS stage, -- stage name, as in reports
  prev_point AS from_point,       -- start point
  point AS to_point,              -- end point
  ts_ns - prev_ts AS duration_ns  -- ns, NULL when a point is missing
FROM (
  SELECT rp.*, lag(point) OVER w AS prev_point, lag(ts_ns) OVER w AS prev_ts
  FROM request_points rp
  WINDOW w AS (PARTITION BY request_id ORDER BY pos)
)
WHERE pos > 0;
