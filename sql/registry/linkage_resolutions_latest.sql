-- The latest clerical decision per identity (ops.linkage_resolutions); a link to a person no
-- longer registered is ignored, so the record is decided again.
SELECT identity_key, decision, person_id
FROM (
    SELECT *, row_number() OVER (PARTITION BY identity_key ORDER BY record_id DESC) AS n
    FROM ops.linkage_resolutions
) AS r
WHERE n = 1 AND (decision = 'no_match' OR person_id IN (SELECT person_id FROM registry.person))
ORDER BY identity_key
