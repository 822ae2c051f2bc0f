-- features.utilisation: use of every setting in the 3, 6, 12 and 24 months before the index date.
-- Bed days count only days before the index date, so a spell open on it reveals nothing later.
CREATE OR REPLACE TABLE features.utilisation AS
WITH d AS (SELECT CAST($index_date AS DATE) AS i),
spells AS (
    SELECT
        s.person_id,
        s.is_emergency,
        s.is_elective,
        s.admission_date,
        date_diff('day', s.admission_date,
                  least(coalesce(s.discharge_date, d.i), d.i)) AS days_before_index,
        date_diff('day', s.admission_date, d.i) AS days_ago
    FROM registry.spells AS s, d
    WHERE s.admission_date < d.i AND s.admission_date >= d.i - INTERVAL 24 MONTH
),
spell_counts AS (
    SELECT
        person_id,
        count(*) FILTER (WHERE is_emergency AND admission_date >= i - INTERVAL 3 MONTH) AS emergency_admissions_3m,
        count(*) FILTER (WHERE is_emergency AND admission_date >= i - INTERVAL 6 MONTH) AS emergency_admissions_6m,
        count(*) FILTER (WHERE is_emergency AND admission_date >= i - INTERVAL 12 MONTH) AS emergency_admissions_12m,
        count(*) FILTER (WHERE is_emergency) AS emergency_admissions_24m,
        count(*) FILTER (WHERE is_elective AND admission_date >= i - INTERVAL 3 MONTH) AS elective_admissions_3m,
        count(*) FILTER (WHERE is_elective AND admission_date >= i - INTERVAL 6 MONTH) AS elective_admissions_6m,
        count(*) FILTER (WHERE is_elective AND admission_date >= i - INTERVAL 12 MONTH) AS elective_admissions_12m,
        count(*) FILTER (WHERE is_elective) AS elective_admissions_24m,
        coalesce(sum(days_before_index) FILTER (WHERE admission_date >= i - INTERVAL 3 MONTH), 0) AS bed_days_3m,
        coalesce(sum(days_before_index) FILTER (WHERE admission_date >= i - INTERVAL 6 MONTH), 0) AS bed_days_6m,
        coalesce(sum(days_before_index) FILTER (WHERE admission_date >= i - INTERVAL 12 MONTH), 0) AS bed_days_12m,
        coalesce(sum(days_before_index), 0) AS bed_days_24m
    FROM features.population AS p LEFT JOIN spells USING (person_id), d
    GROUP BY person_id
),
last_emergency AS (
    SELECT s.person_id, date_diff('day', max(s.admission_date), d.i) AS days_since_emergency_admission
    FROM registry.spells AS s, d
    WHERE s.is_emergency AND s.admission_date < d.i
    GROUP BY s.person_id, d.i
),
dated AS (  -- one row per contact-like event: (person, setting, date)
    SELECT person_id, 'ae' AS kind, arrival_date AS day FROM registry.ae_attendances
    UNION ALL
    SELECT person_id, CASE WHEN did_not_attend THEN 'op_dna' WHEN attended THEN 'op' END,
           appointment_date FROM registry.op_appointments
    UNION ALL
    SELECT person_id, 'community', contact_date FROM registry.community_contacts
    UNION ALL
    SELECT person_id, 'mental_health', contact_date FROM registry.mh_contacts
    UNION ALL
    SELECT person_id, 'social_care', start_date FROM registry.social_care_episodes
),
windowed AS (
    SELECT person_id, kind, day FROM dated, d
    WHERE person_id IS NOT NULL AND day < d.i AND day >= d.i - INTERVAL 24 MONTH
),
contact_counts AS (
    SELECT
        person_id,
        count(*) FILTER (WHERE kind = 'ae' AND day >= i - INTERVAL 3 MONTH) AS ae_attendances_3m,
        count(*) FILTER (WHERE kind = 'ae' AND day >= i - INTERVAL 6 MONTH) AS ae_attendances_6m,
        count(*) FILTER (WHERE kind = 'ae' AND day >= i - INTERVAL 12 MONTH) AS ae_attendances_12m,
        count(*) FILTER (WHERE kind = 'ae') AS ae_attendances_24m,
        count(*) FILTER (WHERE kind = 'op' AND day >= i - INTERVAL 3 MONTH) AS outpatient_attendances_3m,
        count(*) FILTER (WHERE kind = 'op' AND day >= i - INTERVAL 6 MONTH) AS outpatient_attendances_6m,
        count(*) FILTER (WHERE kind = 'op' AND day >= i - INTERVAL 12 MONTH) AS outpatient_attendances_12m,
        count(*) FILTER (WHERE kind = 'op') AS outpatient_attendances_24m,
        count(*) FILTER (WHERE kind = 'op_dna' AND day >= i - INTERVAL 3 MONTH) AS outpatient_dna_3m,
        count(*) FILTER (WHERE kind = 'op_dna' AND day >= i - INTERVAL 6 MONTH) AS outpatient_dna_6m,
        count(*) FILTER (WHERE kind = 'op_dna' AND day >= i - INTERVAL 12 MONTH) AS outpatient_dna_12m,
        count(*) FILTER (WHERE kind = 'op_dna') AS outpatient_dna_24m,
        count(*) FILTER (WHERE kind = 'community' AND day >= i - INTERVAL 3 MONTH) AS community_contacts_3m,
        count(*) FILTER (WHERE kind = 'community' AND day >= i - INTERVAL 6 MONTH) AS community_contacts_6m,
        count(*) FILTER (WHERE kind = 'community' AND day >= i - INTERVAL 12 MONTH) AS community_contacts_12m,
        count(*) FILTER (WHERE kind = 'community') AS community_contacts_24m,
        count(*) FILTER (WHERE kind = 'mental_health' AND day >= i - INTERVAL 3 MONTH) AS mental_health_contacts_3m,
        count(*) FILTER (WHERE kind = 'mental_health' AND day >= i - INTERVAL 6 MONTH) AS mental_health_contacts_6m,
        count(*) FILTER (WHERE kind = 'mental_health' AND day >= i - INTERVAL 12 MONTH) AS mental_health_contacts_12m,
        count(*) FILTER (WHERE kind = 'mental_health') AS mental_health_contacts_24m,
        count(*) FILTER (WHERE kind = 'social_care' AND day >= i - INTERVAL 3 MONTH) AS social_care_services_3m,
        count(*) FILTER (WHERE kind = 'social_care' AND day >= i - INTERVAL 6 MONTH) AS social_care_services_6m,
        count(*) FILTER (WHERE kind = 'social_care' AND day >= i - INTERVAL 12 MONTH) AS social_care_services_12m,
        count(*) FILTER (WHERE kind = 'social_care') AS social_care_services_24m
    FROM features.population AS p LEFT JOIN windowed USING (person_id), d
    GROUP BY person_id
),
care_home AS (  -- in a care home on the index date: a placement started before it, not ended before it
    SELECT DISTINCT s.person_id
    FROM registry.social_care_episodes AS s, d
    WHERE s.is_care_home AND s.start_date < d.i AND (s.end_date IS NULL OR s.end_date >= d.i)
),
gp AS (
    SELECT e.person_id, count(*) AS gp_encounters_12m
    FROM registry.gp_events AS e
    JOIN ref.codelists AS c ON c.code = e.snomed_code AND c.list = 'consultation', d
    WHERE e.event_date < d.i AND e.event_date >= d.i - INTERVAL 12 MONTH
    GROUP BY e.person_id
)
SELECT
    p.person_id,
    s.* EXCLUDE (person_id),
    k.* EXCLUDE (person_id),
    coalesce(g.gp_encounters_12m, 0) AS gp_encounters_12m,
    least(coalesce(l.days_since_emergency_admission, 3650), 3650) AS days_since_emergency_admission,
    CASE WHEN h.person_id IS NULL THEN 0 ELSE 1 END AS care_home
FROM features.population AS p
JOIN spell_counts AS s USING (person_id)
JOIN contact_counts AS k USING (person_id)
LEFT JOIN gp AS g USING (person_id)
LEFT JOIN last_emergency AS l USING (person_id)
LEFT JOIN care_home AS h USING (person_id);
