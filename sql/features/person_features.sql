-- features.person_features: one row per person on the index date, every feature the models use.
CREATE OR REPLACE TABLE features.person_features AS
SELECT
    p.*,
    c.* EXCLUDE (person_id),
    c.diabetes_type1 + c.diabetes_type2 + c.hypertension + c.copd + c.asthma + c.heart_failure
        + c.atrial_fibrillation + c.ischaemic_heart_disease + c.stroke + c.ckd + c.dementia
        + c.depression + c.severe_mental_illness + c.cancer + c.osteoporosis + c.parkinsonism
        + c.thyroid_disease AS long_term_conditions,
    e.* EXCLUDE (person_id),
    u.* EXCLUDE (person_id),
    o.* EXCLUDE (person_id)
FROM features.population AS p
JOIN features.conditions AS c USING (person_id)
JOIN features.efi AS e USING (person_id)
JOIN features.utilisation AS u USING (person_id)
JOIN features.observations AS o USING (person_id)
ORDER BY p.person_id;
