-- name: around-request
-- description: The events on the same CPU just before and after one point of a request (what ran there), in trace order.
-- param: request_id =             -- requests.id (empty: the slowest complete request of the profile)
-- param: point =                  -- path point, e.g. be_map (empty: the request's first point present)
-- param: before = 10              -- how many events of that CPU before the point's event
-- param: after = 10               -- how many events of that CPU after it
-- param: profile =                -- profile whose slowest request is taken when request_id is empty (empty: every profile)
-- "Same CPU" means the same source (input file) and the same CPU column; neighbours are taken in
-- input order (events.id), which is time order on one CPU (an out-of-order line is counted in
-- diagnostics). delta_ns is in that source's own clock, relative to the point's event.
WITH req AS MATERIALIZED (
  SELECT id FROM requests WHERE :request_id <> '' AND id = :request_id
  UNION ALL
  SELECT * FROM (
    SELECT r.id FROM requests r JOIN correlations c ON c.id = r.correlation_id
    WHERE :request_id = '' AND r.status = 'complete' AND (:profile = '' OR c.profile = CAST(:profile AS TEXT))
    ORDER BY r.total_ns DESC, r.correlation_id, r.seq
    LIMIT 1
  )
),
anchor AS MATERIALIZED (
  SELECT x.request_id, x.point, x.event_id, x.local_ts_ns, x.cpu, s.first_event_id, s.last_event_id
  FROM xt_request_events x
  JOIN sources s ON s.id = x.source_id
  WHERE x.request_id = (SELECT id FROM req) AND x.event_id IS NOT NULL AND (:point = '' OR x.point = CAST(:point AS TEXT))
  ORDER BY x.pos
  LIMIT 1
),
neighbours AS MATERIALIZED (
  SELECT * FROM (
    SELECT e.id FROM event_data e
    WHERE e.id BETWEEN (SELECT first_event_id FROM anchor) AND (SELECT event_id FROM anchor) - 1
      AND e.cpu IS (SELECT cpu FROM anchor)
    ORDER BY e.id DESC LIMIT :before
  )
  UNION ALL
  SELECT event_id FROM anchor
  UNION ALL
  SELECT * FROM (
    SELECT e.id FROM event_data e
    WHERE e.id BETWEEN (SELECT event_id FROM anchor) + 1 AND (SELECT last_event_id FROM anchor)
      AND e.cpu IS (SELECT cpu FROM anchor)
    ORDER BY e.id LIMIT :after
  )
)
SELECT a.request_id, a.point,
       CASE WHEN e.id < a.event_id THEN 'before' WHEN e.id = a.event_id THEN 'point' ELSE 'after' END AS side,
       e.id AS event_id, e.line, e.ts_ns - a.local_ts_ns AS delta_ns, e.cpu, e.pid, e.comm, e.name, e.args,
       (SELECT group_concat(json_extract(c.path, '$[' || p.key || ']'), ',')
          FROM requests r JOIN correlations c ON c.id = r.correlation_id, json_each(r.events) p
         WHERE r.id = a.request_id AND p.value = e.id) AS request_point
FROM neighbours w
CROSS JOIN anchor a
JOIN events e ON e.id = w.id
ORDER BY e.id;
