-- audit.measures (practice level) for one month, $month_start to $month_end. The population is
-- everyone registered and alive at the month's start (features.person_features computed for
-- that index date), so deaths and activity during the month count; enrolment and coordinators
-- as recorded by the month's end; protocol adherence as at the month's end.
-- Eligible: the frail and diabetic cohorts (tiers need monthly scores, which history lacks).
CREATE TABLE IF NOT EXISTS audit.measures (
    month DATE, level VARCHAR, unit_code VARCHAR, measure VARCHAR, numerator DOUBLE,
    denominator DOUBLE, multiplier DOUBLE
);
DELETE FROM audit.measures WHERE month = $month_end;
INSERT INTO audit.measures
WITH people AS (
    SELECT person_id, practice_code,
           efi_category IN ('moderate', 'severe') AS frail,
           diabetes_type1 + diabetes_type2 > 0 AS diabetic
    FROM features.person_features
),
eligible AS (SELECT * FROM people WHERE frail OR diabetic),
enrolment AS (
    SELECT person_id, arg_max(action, record_id) AS status
    FROM ops.enrolment WHERE CAST(recorded_at AS DATE) <= $month_end GROUP BY person_id
),
coordinated AS (
    SELECT DISTINCT person_id FROM ops.coordinators WHERE CAST(recorded_at AS DATE) <= $month_end
),
groups AS (
    SELECT e.person_id, e.practice_code, e.frail,
           coalesce(n.status = 'enrolled', false) AS enrolled,
           c.person_id IS NOT NULL AS coordinated
    FROM eligible AS e
    LEFT JOIN enrolment AS n USING (person_id)
    LEFT JOIN coordinated AS c USING (person_id)
),
activity AS (
    SELECT person_id,
           count(*) FILTER (WHERE kind = 'emergency') AS emergency_admissions,
           sum(bed_days) FILTER (WHERE kind = 'emergency' OR kind = 'elective') AS bed_days,
           count(*) FILTER (WHERE kind = 'ae') AS ae_attendances
    FROM (
        SELECT person_id, CASE WHEN is_emergency THEN 'emergency' ELSE 'elective' END AS kind,
               date_diff('day', admission_date, least(coalesce(discharge_date, $month_end), $month_end)) AS bed_days
        FROM registry.spells WHERE admission_date BETWEEN $month_start AND $month_end
        UNION ALL
        SELECT person_id, 'ae', 0 FROM registry.ae_attendances WHERE arrival_date BETWEEN $month_start AND $month_end
    )
    GROUP BY person_id
),
deaths AS (
    SELECT g.practice_code, count(*) AS deaths,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM registry.spells AS s
               WHERE s.person_id = p.person_id AND s.died_in_hospital AND s.discharge_date = p.date_of_death
           )) AS in_hospital
    FROM registry.person AS p JOIN people AS g USING (person_id)
    WHERE g.frail AND p.date_of_death BETWEEN $month_start AND $month_end
    GROUP BY g.practice_code
),
by_practice AS (
    SELECT
        g.practice_code,
        count(*) AS eligible,
        count(*) FILTER (WHERE g.enrolled) AS enrolled,
        count(*) FILTER (WHERE g.enrolled AND g.coordinated) AS enrolled_coordinated,
        coalesce(sum(a.emergency_admissions) FILTER (WHERE g.enrolled), 0) AS em_enrolled,
        coalesce(sum(a.emergency_admissions) FILTER (WHERE NOT g.enrolled), 0) AS em_not,
        coalesce(sum(a.bed_days) FILTER (WHERE g.enrolled), 0) AS bd_enrolled,
        coalesce(sum(a.bed_days) FILTER (WHERE NOT g.enrolled), 0) AS bd_not,
        coalesce(sum(a.ae_attendances) FILTER (WHERE g.enrolled), 0) AS ae_enrolled,
        coalesce(sum(a.ae_attendances) FILTER (WHERE NOT g.enrolled), 0) AS ae_not
    FROM groups AS g LEFT JOIN activity AS a USING (person_id)
    GROUP BY g.practice_code
),
adherence AS (
    SELECT practice_code, protocol || '.' || step AS measure,
           count(*) FILTER (WHERE status IN ('met', 'due_soon') AND NOT pending) AS met,
           count(*) FILTER (WHERE status <> 'not_applicable' AND NOT pending) AS applicable
    FROM care.adherence WHERE as_of = $month_end
    GROUP BY ALL
)
SELECT CAST($month_end AS DATE), 'practice', practice_code, measure, numerator, denominator, multiplier
FROM (
    SELECT practice_code, 'eligible_people' AS measure, eligible AS numerator, NULL AS denominator, NULL AS multiplier FROM by_practice
    UNION ALL SELECT practice_code, 'enrolment_rate', enrolled, eligible, 100 FROM by_practice
    UNION ALL SELECT practice_code, 'coordinator_coverage', enrolled_coordinated, enrolled, 100 FROM by_practice
    UNION ALL SELECT practice_code, 'emergency_admissions_per_1000_enrolled', em_enrolled, enrolled, 1000 FROM by_practice
    UNION ALL SELECT practice_code, 'emergency_admissions_per_1000_eligible_not_enrolled', em_not, eligible - enrolled, 1000 FROM by_practice
    UNION ALL SELECT practice_code, 'bed_days_per_1000_enrolled', bd_enrolled, enrolled, 1000 FROM by_practice
    UNION ALL SELECT practice_code, 'bed_days_per_1000_eligible_not_enrolled', bd_not, eligible - enrolled, 1000 FROM by_practice
    UNION ALL SELECT practice_code, 'ae_attendances_per_1000_enrolled', ae_enrolled, enrolled, 1000 FROM by_practice
    UNION ALL SELECT practice_code, 'ae_attendances_per_1000_eligible_not_enrolled', ae_not, eligible - enrolled, 1000 FROM by_practice
    UNION ALL SELECT practice_code, 'frail_deaths_in_hospital', in_hospital, deaths, 100 FROM deaths
    UNION ALL SELECT practice_code, measure, met, applicable, 100 FROM adherence
);
