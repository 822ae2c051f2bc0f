-- care.candidates: who is eligible for proactive care on the latest scoring date (by the cohorts
-- and tiers in stratify/care/enrolment.yaml), plus everyone currently enrolled, with the latest
-- enrolment decision, named coordinator and care plan.
CREATE OR REPLACE TABLE care.candidates AS
WITH scored AS (
    SELECT * FROM risk.scores WHERE index_date = (SELECT max(index_date) FROM risk.scores)
),
decisions AS (
    SELECT person_id, arg_max(action, record_id) AS status, arg_max(reason, record_id) AS reason,
           arg_max(recorded_by, record_id) AS decided_by, max(recorded_at) AS decided_at
    FROM ops.enrolment GROUP BY person_id
),
coordinators AS (
    SELECT person_id, arg_max(coordinator_name, record_id) AS coordinator_name,
           arg_max(coordinator_role, record_id) AS coordinator_role,
           arg_max(organisation, record_id) AS coordinator_organisation,
           arg_max(accountable_gp, record_id) AS accountable_gp
    FROM ops.coordinators GROUP BY person_id
),
plans AS (
    SELECT person_id, arg_max(plan_id, record_id) AS plan_id, arg_max(version, record_id) AS plan_version,
           arg_max(status, record_id) AS plan_status, arg_max(review_date, record_id) AS plan_review_date,
           CAST(max(recorded_at) AS DATE) AS plan_updated
    FROM ops.care_plans GROUP BY person_id
)
SELECT
    s.person_id,
    p.practice_code,
    p.cluster_code,
    s.index_date,
    s.probability,
    s.tier,
    s.frail,
    s.diabetic,
    concat_ws(', ',
        CASE WHEN s.frail AND list_contains($cohorts, 'frail') THEN 'frail' END,
        CASE WHEN s.diabetic AND list_contains($cohorts, 'diabetic') THEN 'diabetic' END,
        CASE WHEN list_contains($tiers, s.tier) THEN replace(s.tier, '_', ' ') || ' risk' END
    ) AS eligible_because,
    coalesce(d.status, 'candidate') AS enrolment_status,
    d.reason AS enrolment_reason,
    d.decided_by,
    d.decided_at,
    c.coordinator_name,
    c.coordinator_role,
    c.coordinator_organisation,
    c.accountable_gp,
    pl.plan_id,
    pl.plan_version,
    pl.plan_status,
    pl.plan_review_date,
    pl.plan_updated
FROM scored AS s
JOIN registry.person AS p USING (person_id)
LEFT JOIN decisions AS d USING (person_id)
LEFT JOIN coordinators AS c USING (person_id)
LEFT JOIN plans AS pl USING (person_id)
WHERE (s.frail AND list_contains($cohorts, 'frail'))
   OR (s.diabetic AND list_contains($cohorts, 'diabetic'))
   OR list_contains($tiers, s.tier)
   OR d.status = 'enrolled';
