-- registry.gp_medications: prescription issues, by person.
CREATE OR REPLACE TABLE registry.gp_medications AS
SELECT
    p.person_id,
    m.issue_date,
    m.dmd_code,
    m.description,
    m.issue_type = 'repeat' AS is_repeat,
    m.practice_code,
    m.issue_id,
    m.source_row
FROM staging.gp_medications AS m
LEFT JOIN registry.person AS p USING (nhs_number);
