-- registry.record_links: how every record of the feeds that may lack an NHS number joined a person:
-- by a valid registered NHS number, probabilistically (Splink, with its match probability), by a
-- clerical review decision (ops.linkage_resolutions), or not at all (kept, with the reason, never
-- guessed).
CREATE OR REPLACE TABLE registry.record_links AS
SELECT
    c.feed,
    c.source_row,
    coalesce(c.nhs_person_id, m.person_id) AS person_id,
    CASE
        WHEN c.nhs_person_id IS NOT NULL THEN 'nhs_number'
        WHEN m.person_id IS NOT NULL THEN m.link_method
        ELSE 'unlinked'
    END AS link_method,
    CASE WHEN c.nhs_person_id IS NOT NULL THEN 1.0 ELSE m.match_probability END
        AS match_probability,
    CASE
        WHEN c.nhs_person_id IS NOT NULL OR m.person_id IS NOT NULL THEN NULL
        WHEN c.nhs_number_valid THEN 'valid NHS number not registered with any practice'
        ELSE m.unlinked_reason
    END AS unlinked_reason
FROM registry.linkage_candidates AS c
LEFT JOIN registry.probabilistic_links AS m
    ON c.nhs_person_id IS NULL AND NOT c.nhs_number_valid AND m.identity_key = c.identity_key
ORDER BY c.feed, c.source_row;
