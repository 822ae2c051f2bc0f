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
    -- a feed that does not cover the practice is unknown (NULL), not "no contacts"
    u.* EXCLUDE (person_id) REPLACE (
        CASE WHEN v.community_feed THEN u.community_contacts_3m END AS community_contacts_3m,
        CASE WHEN v.community_feed THEN u.community_contacts_6m END AS community_contacts_6m,
        CASE WHEN v.community_feed THEN u.community_contacts_12m END AS community_contacts_12m,
        CASE WHEN v.community_feed THEN u.community_contacts_24m END AS community_contacts_24m,
        CASE WHEN v.mental_health_feed THEN u.mental_health_contacts_3m END AS mental_health_contacts_3m,
        CASE WHEN v.mental_health_feed THEN u.mental_health_contacts_6m END AS mental_health_contacts_6m,
        CASE WHEN v.mental_health_feed THEN u.mental_health_contacts_12m END AS mental_health_contacts_12m,
        CASE WHEN v.mental_health_feed THEN u.mental_health_contacts_24m END AS mental_health_contacts_24m
    ),
    o.* EXCLUDE (person_id),
    v.gp_record,
    v.incomplete_record,
    v.incomplete_because
FROM features.population AS p
JOIN features.conditions AS c USING (person_id)
JOIN features.efi AS e USING (person_id)
JOIN features.utilisation AS u USING (person_id)
JOIN features.observations AS o USING (person_id)
JOIN features.coverage AS v USING (person_id)
ORDER BY p.person_id;
