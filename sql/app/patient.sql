-- One registered person: who they are and where registered (identifiable: direct care).
SELECT person_id, nhs_number, given_name || ' ' || family_name AS patient_name, date_of_birth,
       date_diff('year', date_of_birth, current_date) - CASE WHEN strftime(current_date, '%m%d')
           < strftime(date_of_birth, '%m%d') THEN 1 ELSE 0 END AS age,
       sex, postcode, practice_code, practice_name, cluster_code, cluster_name, date_of_death
FROM registry.person WHERE person_id = $person_id;
