-- registry.gp_events: the GP coded record, by person. Values are in the canonical unit of their
-- concept (stratify/codelists/units.yaml); what the practice sent is kept beside them.
CREATE OR REPLACE TABLE registry.gp_events AS
SELECT
    p.person_id,
    e.event_date,
    e.snomed_code,
    e.value,
    e.unit,
    e.value_as_sent,
    e.unit_as_sent,
    e.practice_code,
    e.event_id,
    e.source_row
FROM staging.gp_events AS e
LEFT JOIN registry.person AS p USING (nhs_number);
