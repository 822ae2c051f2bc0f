-- registry.dq_feed_summary: per feed, rows read = accepted + quarantined, and how accepted rows
-- linked to a person.
CREATE OR REPLACE TABLE registry.dq_feed_summary AS
WITH links AS (
    SELECT 'patients' AS feed, count(*) AS linked_nhs_number, 0 AS linked_probabilistic,
           0 AS unlinked
    FROM registry.person
    UNION ALL
    SELECT 'gp_events', count(person_id), 0, count(*) - count(person_id) FROM registry.gp_events
    UNION ALL
    SELECT 'gp_medications', count(person_id), 0, count(*) - count(person_id)
    FROM registry.gp_medications
    UNION ALL
    SELECT 'apc_spells', count(person_id), 0, count(*) - count(person_id) FROM registry.spells
    UNION ALL
    SELECT 'ecds_attendances', count(person_id), 0, count(*) - count(person_id)
    FROM registry.ae_attendances
    UNION ALL
    SELECT 'op_appointments', count(person_id), 0, count(*) - count(person_id)
    FROM registry.op_appointments
    UNION ALL
    SELECT feed,
           count(*) FILTER (WHERE link_method = 'nhs_number'),
           count(*) FILTER (WHERE link_method IN ('probabilistic', 'clerical')),
           count(*) FILTER (WHERE link_method = 'unlinked')
    FROM registry.record_links
    GROUP BY feed
)
SELECT
    f.feed,
    f.file,
    f.contract_version,
    f.rows_read,
    f.rows_accepted,
    f.rows_quarantined,
    f.rows_flagged,
    coalesce(l.linked_nhs_number, 0) AS linked_nhs_number,
    coalesce(l.linked_probabilistic, 0) AS linked_probabilistic,
    coalesce(l.unlinked, 0) AS unlinked
FROM staging.feed_loads AS f
LEFT JOIN links AS l USING (feed)
ORDER BY f.feed;
