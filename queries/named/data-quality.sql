-- name: data-quality
-- description: Every data-quality counter of ingestion (per source) and correlation (per profile), data loss first.
-- param: kind =                   -- ingest or correlation (empty: both)
-- param: severity =               -- info, data_loss or error (empty: any)
-- param: profile =                -- profile of the correlation counters (empty: every profile; ingest counters are always shown)
SELECT kind, profile, source_id, path, domain, code, point, severity, count, first_line, first_event_id, detail, description
FROM xt_data_quality
WHERE (:kind = '' OR kind = CAST(:kind AS TEXT))
  AND (:severity = '' OR severity = CAST(:severity AS TEXT))
  AND (:profile = '' OR kind = 'ingest' OR profile = CAST(:profile AS TEXT))
ORDER BY CASE severity WHEN 'error' THEN 0 WHEN 'data_loss' THEN 1 ELSE 2 END, kind DESC, profile, source_id, count DESC, code;
