-- registry.gp_events: the GP coded record, by person.
CREATE OR REPLACE TABLE registry.gp_events AS
SELECT
    p.person_id,
    e.event_date,
    e.snomed_code,
    e.value,
    e.unit,
    e.practice_code,
    e.event_id,
    e.source_row
FROM staging.gp_events AS e
LEFT JOIN registry.person AS p USING (nhs_number);
