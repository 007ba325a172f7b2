-- xt_data_quality: every data-quality counter, of ingestion and of correlation, in one shape.
DROP VIEW IF EXISTS xt_data_quality;
CREATE VIEW xt_data_quality AS    -- one row per counter: the ingest diagnostics of each source and the matcher's counters of each profile (correlation_diagnostics)
SELECT
  'ingest' AS kind,               -- 'ingest' (diagnostics: lines and events of a source) or 'correlation' (correlation_diagnostics: what the matcher could not use)
  NULL AS profile,                -- profile name for a correlation counter, NULL for an ingest counter
  d.source_id,                    -- sources.id: the source counted (ingest), or the source of the first event concerned (correlation)
  s.path,                         -- that source's input path
  s.domain,                       -- that source's clock domain
  d.code,                         -- counter name (diagnostic_codes.code for ingest; the matcher's codes: README "Data quality counters of the matcher")
  NULL AS point,                  -- path point concerned (correlation), NULL for ingest counters
  d.severity,                     -- 'info', 'data_loss' or 'error'
  d.count,                        -- occurrences (lost_events, buffer_overrun, xtbuf_ring_wrapped: events lost)
  d.first_line,                   -- first input line concerned (correlation: the line of first_event_id); 0 when it concerns the whole file
  NULL AS first_event_id,         -- events.id of the first occurrence (correlation), NULL for ingest counters
  d.detail,                       -- the first occurrence as read, e.g. the first line not understood (ingest), NULL for correlation counters
  dc.description                  -- what the counter means
FROM diagnostics d
JOIN sources s ON s.id = d.source_id
LEFT JOIN diagnostic_codes dc ON dc.code = d.code
UNION ALL
SELECT 'correlation', c.profile, e.source_id, s.path, s.domain, d.code, d.point, d.severity, d.count, e.line, d.first_event_id, NULL, d.description
FROM correlation_diagnostics d
JOIN correlations c ON c.id = d.correlation_id
LEFT JOIN event_data e ON e.id = d.first_event_id
LEFT JOIN sources s ON s.id = e.source_id;
