-- registry.op_appointments: outpatient appointments with attended / did not attend.
CREATE OR REPLACE TABLE registry.op_appointments AS
SELECT
    p.person_id,
    o.appointment_id,
    o.provider_code,
    o.appointment_date,
    o.treatment_function_code,
    o.attendance_status,
    o.attendance_status = 'attended' AS attended,
    o.attendance_status = 'did_not_attend' AS did_not_attend,
    o.source_row
FROM staging.op_appointments AS o
LEFT JOIN registry.person AS p USING (nhs_number);
