-- xt_request_events: the event of each point of each correlated request, as the trace says it.
DROP VIEW IF EXISTS xt_request_events;
CREATE VIEW xt_request_events AS  -- one row per correlated request and path point, with the point's event (NULL columns when the point is missing)
SELECT
  c.profile,                      -- profile name (correlations.profile)
  r.correlation_id,               -- correlations.id
  r.run,                          -- run label, NULL when the request started outside every run
  r.id AS request_id,             -- requests.id
  r.seq,                          -- start order of the request within the database (all runs)
  r.status,                       -- 'complete', 'incomplete' (a point is missing) or 'orphan' (opened without the first point)
  r.kept,                         -- 1 in the report's averages, 2 dropped as warm-up, 0 not (trimmed, incomplete, outside runs)
  CAST(p.key AS INTEGER) AS pos,  -- position of the point in the path (0 = first point)
  json_extract(c.path, '$[' || p.key || ']') AS point, -- point name
  r.start_ts_ns + p.value AS ts_ns, -- time of the point in the reference clock (ns), NULL when missing
  p.value AS since_start_ns,      -- ns since the request's first point present, NULL when missing
  e.id AS event_id,               -- events.id of the point's event, NULL when missing
  e.source_id,                    -- sources.id of the event
  s.domain,                       -- clock domain of the event (sources.domain)
  e.ts_ns AS local_ts_ns,         -- the event's own timestamp, in its source's clock (ts_ns = local_ts_ns + domain_offsets.offset_ns)
  e.line,                         -- line of the event in its input file
  e.cpu,                          -- CPU of the event
  e.pid,                          -- task pid of the event
  e.comm,                         -- task name of the event
  e.name AS event,                -- event name (events.name)
  e.args                          -- the event's payload text
FROM requests r
JOIN correlations c ON c.id = r.correlation_id
JOIN json_each(r.points) p
LEFT JOIN events e ON e.id = json_extract(r.events, '$[' || p.key || ']')
LEFT JOIN sources s ON s.id = e.source_id;
