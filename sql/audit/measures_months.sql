-- audit.measures (practice level, all measures but protocol adherence) for every month in the
-- temp table audit_todo(month_start, month_end) in one set-based pass. The same definitions as
-- the per-month path (features.population / conditions / efi for the month's start, then
-- audit/measures_practice): the population is everyone registered and alive at the month's
-- start; frail = eFI moderate or severe, diabetic = a diabetes code, both from the GP record
-- before the month's start; enrolment and coordinators as recorded by the month's end.
CREATE TABLE IF NOT EXISTS audit.measures (
    month DATE, level VARCHAR, unit_code VARCHAR, measure VARCHAR, numerator DOUBLE,
    denominator DOUBLE, multiplier DOUBLE
);
INSERT INTO audit.measures
WITH months AS (SELECT month_start, month_end FROM audit_todo),
population AS (
    SELECT m.month_start, m.month_end, p.person_id, p.practice_code
    FROM months AS m JOIN registry.person AS p
      ON p.date_of_birth < m.month_start
     AND p.registration_date < m.month_start
     AND (p.deregistration_date IS NULL OR p.deregistration_date >= m.month_start)
     AND (p.date_of_death IS NULL OR p.date_of_death >= m.month_start)
),
coded AS (  -- the first date each person had each code list / eFI deficit coded
    SELECT e.person_id, c.list, min(e.event_date) AS first_date
    FROM registry.gp_events AS e
    JOIN ref.codelists AS c ON c.code = e.snomed_code AND c.system = 'snomed_ct'
    GROUP BY ALL
),
diabetes AS (
    SELECT person_id, min(first_date) AS first_date FROM coded
    WHERE list IN ('diabetes_type1', 'diabetes_type2') GROUP BY person_id
),
deficits AS (
    SELECT c.person_id, d.deficit, min(c.first_date) AS first_date
    FROM coded AS c JOIN ref.efi_deficits AS d ON d.list = c.list GROUP BY ALL
),
deficit_counts AS (
    SELECT m.month_start, d.person_id, count(*) AS deficits
    FROM months AS m JOIN deficits AS d ON d.first_date < m.month_start
    GROUP BY ALL
),
repeats AS (
    SELECT m.month_start, x.person_id, count(DISTINCT x.dmd_code) AS repeat_medicines
    FROM months AS m JOIN registry.gp_medications AS x
      ON x.issue_date < m.month_start AND x.issue_date >= m.month_start - INTERVAL 6 MONTH
    WHERE x.is_repeat
    GROUP BY ALL
),
people AS (
    SELECT p.month_start, p.month_end, p.person_id, p.practice_code,
           (coalesce(d.deficits, 0) + CASE WHEN coalesce(r.repeat_medicines, 0) >= 5 THEN 1 ELSE 0 END)
               / 36.0 > 0.24 AS frail,
           coalesce(g.first_date < p.month_start, false) AS diabetic
    FROM population AS p
    LEFT JOIN deficit_counts AS d USING (month_start, person_id)
    LEFT JOIN repeats AS r USING (month_start, person_id)
    LEFT JOIN diabetes AS g USING (person_id)
),
eligible AS (SELECT * FROM people WHERE frail OR diabetic),
enrolment AS (
    SELECT m.month_end, n.person_id, arg_max(n.action, n.record_id) AS status
    FROM months AS m JOIN ops.enrolment AS n ON CAST(n.recorded_at AS DATE) <= m.month_end
    GROUP BY ALL
),
coordinated AS (
    SELECT DISTINCT m.month_end, c.person_id
    FROM months AS m JOIN ops.coordinators AS c ON CAST(c.recorded_at AS DATE) <= m.month_end
),
groups AS (
    SELECT e.month_end, e.person_id, e.practice_code, e.frail,
           coalesce(n.status = 'enrolled', false) AS enrolled,
           c.person_id IS NOT NULL AS coordinated
    FROM eligible AS e
    LEFT JOIN enrolment AS n USING (month_end, person_id)
    LEFT JOIN coordinated AS c USING (month_end, person_id)
),
activity AS (
    SELECT month_end, person_id,
           count(*) FILTER (WHERE kind = 'emergency') AS emergency_admissions,
           sum(bed_days) FILTER (WHERE kind = 'emergency' OR kind = 'elective') AS bed_days,
           count(*) FILTER (WHERE kind = 'ae') AS ae_attendances
    FROM (
        SELECT m.month_end, s.person_id, CASE WHEN s.is_emergency THEN 'emergency' ELSE 'elective' END AS kind,
               date_diff('day', s.admission_date, least(coalesce(s.discharge_date, m.month_end), m.month_end)) AS bed_days
        FROM months AS m JOIN registry.spells AS s ON s.admission_date BETWEEN m.month_start AND m.month_end
        UNION ALL
        SELECT m.month_end, a.person_id, 'ae', 0
        FROM months AS m JOIN registry.ae_attendances AS a ON a.arrival_date BETWEEN m.month_start AND m.month_end
    )
    GROUP BY ALL
),
died_in_hospital AS (
    SELECT DISTINCT person_id, discharge_date FROM registry.spells WHERE died_in_hospital
),
deaths AS (
    SELECT g.month_end, g.practice_code, count(*) AS deaths, count(h.person_id) AS in_hospital
    FROM people AS g
    JOIN registry.person AS p USING (person_id)
    LEFT JOIN died_in_hospital AS h ON h.person_id = p.person_id AND h.discharge_date = p.date_of_death
    WHERE g.frail AND p.date_of_death BETWEEN g.month_start AND g.month_end
    GROUP BY ALL
),
by_practice AS (
    SELECT
        g.month_end,
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
    FROM groups AS g LEFT JOIN activity AS a USING (month_end, person_id)
    GROUP BY ALL
)
SELECT CAST(month_end AS DATE), 'practice', practice_code, measure, numerator, denominator, multiplier
FROM (
    SELECT month_end, practice_code, 'eligible_people' AS measure, eligible AS numerator, NULL AS denominator, NULL AS multiplier FROM by_practice
    UNION ALL SELECT month_end, practice_code, 'enrolment_rate', enrolled, eligible, 100 FROM by_practice
    UNION ALL SELECT month_end, practice_code, 'coordinator_coverage', enrolled_coordinated, enrolled, 100 FROM by_practice
    UNION ALL SELECT month_end, practice_code, 'emergency_admissions_per_1000_enrolled', em_enrolled, enrolled, 1000 FROM by_practice
    UNION ALL SELECT month_end, practice_code, 'emergency_admissions_per_1000_eligible_not_enrolled', em_not, eligible - enrolled, 1000 FROM by_practice
    UNION ALL SELECT month_end, practice_code, 'bed_days_per_1000_enrolled', bd_enrolled, enrolled, 1000 FROM by_practice
    UNION ALL SELECT month_end, practice_code, 'bed_days_per_1000_eligible_not_enrolled', bd_not, eligible - enrolled, 1000 FROM by_practice
    UNION ALL SELECT month_end, practice_code, 'ae_attendances_per_1000_enrolled', ae_enrolled, enrolled, 1000 FROM by_practice
    UNION ALL SELECT month_end, practice_code, 'ae_attendances_per_1000_eligible_not_enrolled', ae_not, eligible - enrolled, 1000 FROM by_practice
    UNION ALL SELECT month_end, practice_code, 'frail_deaths_in_hospital', in_hospital, deaths, 100 FROM deaths
);
