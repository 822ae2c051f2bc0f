-- registry.ae_attendances: emergency department attendances.
CREATE OR REPLACE TABLE registry.ae_attendances AS
SELECT
    p.person_id,
    a.attendance_id,
    a.provider_code,
    a.arrival_date,
    a.arrival_mode,
    a.discharge_destination,
    a.discharge_destination = 'admitted' AS admitted,
    a.source_row
FROM staging.ecds_attendances AS a
LEFT JOIN registry.person AS p USING (nhs_number);
