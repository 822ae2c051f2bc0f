-- registry.spells: hospital spells with emergency/elective, length of stay and death in hospital.
CREATE OR REPLACE TABLE registry.spells AS
SELECT
    p.person_id,
    s.spell_id,
    s.provider_code,
    s.admission_date,
    s.discharge_date,
    s.admission_method,
    s.admission_method LIKE '2%' AS is_emergency,
    s.admission_method LIKE '1%' AS is_elective,
    date_diff('day', s.admission_date, s.discharge_date) AS length_of_stay,
    s.primary_diagnosis,
    s.discharge_method = '4' AS died_in_hospital,
    s.source_row
FROM staging.apc_spells AS s
LEFT JOIN registry.person AS p USING (nhs_number);
