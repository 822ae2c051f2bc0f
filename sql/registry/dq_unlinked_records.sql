-- registry.dq_unlinked_records: accepted records that belong to no registered person, and why.
-- `reason` is the kind (so that the report can count them), `detail` the record's own reason with
-- its probabilities, e.g. "best candidate below threshold (p = 0.6183)".
CREATE OR REPLACE TABLE registry.dq_unlinked_records AS
SELECT feed, source_row,
       regexp_replace(unlinked_reason, ' \(p = [0-9., ]+\)', '') AS reason,
       unlinked_reason AS detail
FROM registry.record_links
WHERE link_method = 'unlinked'
UNION ALL
SELECT 'gp_events', source_row, 'NHS number not registered with any practice', NULL
FROM registry.gp_events WHERE person_id IS NULL
UNION ALL
SELECT 'gp_medications', source_row, 'NHS number not registered with any practice', NULL
FROM registry.gp_medications WHERE person_id IS NULL
UNION ALL
SELECT 'apc_spells', source_row, 'NHS number not registered with any practice', NULL
FROM registry.spells WHERE person_id IS NULL
UNION ALL
SELECT 'ecds_attendances', source_row, 'NHS number not registered with any practice', NULL
FROM registry.ae_attendances WHERE person_id IS NULL
UNION ALL
SELECT 'op_appointments', source_row, 'NHS number not registered with any practice', NULL
FROM registry.op_appointments WHERE person_id IS NULL;
