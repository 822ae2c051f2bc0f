-- care.conference_candidates: for one cluster and month, everyone eligible or enrolled with the
-- facts the list rules test and the facts the team needs on the page, on one row each.
-- Parameters: $cluster, $month_start (first day of the conference month), $since (the last
-- conference of the cluster, or the default look-back), $recent_start (the start of the
-- 90-day window), $as_of (the data cut).
CREATE OR REPLACE TABLE care.conference_candidates AS
WITH score_dates AS (
    SELECT max(index_date) FILTER (WHERE index_date <= $month_start) AS now_date FROM risk.scores
),
previous_date AS (
    SELECT max(r.index_date) AS prev_date FROM risk.scores AS r, score_dates AS d WHERE r.index_date < d.now_date
),
now_scores AS (
    SELECT s.* FROM risk.scores AS s, score_dates AS d WHERE s.index_date = d.now_date
),
prev_scores AS (
    SELECT s.person_id, s.tier AS previous_tier, s.probability AS previous_probability
    FROM risk.scores AS s, previous_date AS d WHERE s.index_date = d.prev_date
),
pool AS (
    SELECT c.person_id, c.enrolment_status, c.eligible_because, c.coordinator_name, c.coordinator_role,
           c.coordinator_organisation, c.accountable_gp, c.plan_status, c.plan_review_date, c.plan_updated
    FROM care.candidates AS c WHERE c.cluster_code = $cluster
),
spells AS (
    SELECT s.person_id,
           count(*) FILTER (WHERE s.is_emergency AND s.admission_date >= $recent_start) AS emergency_admissions_90d,
           count(*) FILTER (WHERE s.is_emergency AND s.admission_date >= $since) AS emergency_since_last,
           max(s.discharge_date) FILTER (WHERE s.is_emergency) AS last_discharge_date
    FROM registry.spells AS s JOIN pool USING (person_id)
    WHERE s.admission_date <= $as_of
    GROUP BY s.person_id
),
ae AS (
    SELECT a.person_id,
           count(*) FILTER (WHERE a.arrival_date >= $recent_start) AS ae_attendances_90d,
           count(*) FILTER (WHERE a.arrival_date >= $since) AS ae_since_last
    FROM registry.ae_attendances AS a JOIN pool USING (person_id)
    WHERE a.arrival_date <= $as_of
    GROUP BY a.person_id
),
coded AS (
    SELECT e.person_id,
           max(e.event_date) FILTER (WHERE c.list IN ('medication_review', 'structured_medication_review'))
               AS last_medication_review,
           max(e.event_date) FILTER (WHERE c.list IN ('care_plan', 'care_plan_review')) AS last_care_plan_code,
           count(*) FILTER (WHERE c.list = 'efi_falls'
                            AND e.event_date > CAST($as_of AS DATE) - INTERVAL 12 MONTH) AS falls_12m
    FROM registry.gp_events AS e
    JOIN ref.codelists AS c ON c.code = e.snomed_code
    JOIN pool USING (person_id)
    WHERE e.event_date <= $as_of
    GROUP BY e.person_id
),
latest_adherence AS (
    SELECT a.* FROM care.adherence AS a
    WHERE a.as_of = (SELECT max(as_of) FROM care.adherence)
),
overdue AS (
    SELECT person_id, count(*) AS overdue_steps,
           string_agg(step_title, '; ' ORDER BY protocol, step) AS overdue_list
    FROM latest_adherence WHERE status = 'not_met' AND step NOT LIKE 'all\_%' ESCAPE '\'
    GROUP BY person_id
),
discharge_contact AS (
    SELECT person_id, arg_max(status, evidence_date) AS contact_status,
           arg_max(coalesce(evidence, missing), evidence_date) AS contact_detail
    FROM latest_adherence WHERE protocol = 'transitions'
    GROUP BY person_id
),
actions AS (
    SELECT action_id, arg_max(person_id, record_id) AS person_id, arg_max(description, record_id) AS description,
           arg_max(owner, record_id) AS owner, arg_max(owner_role, record_id) AS owner_role,
           arg_max(due_date, record_id) AS due_date, arg_max(status, record_id) AS status
    FROM ops.conference_actions GROUP BY action_id
),
open_actions AS (
    SELECT person_id, count(*) AS open_actions,
           count(*) FILTER (WHERE due_date < $month_start) AS open_actions_past_due,
           string_agg(description || ' (' || owner || ', ' || owner_role || ', due ' || due_date
                      || CASE WHEN due_date < $month_start THEN ', PAST DUE' ELSE '' END || ')', '; '
                      ORDER BY due_date) AS open_action_list
    FROM actions WHERE status = 'open'
    GROUP BY person_id
),
why AS (
    SELECT person_id, string_agg(reason, '; ' ORDER BY reason_rank) AS top_reasons
    FROM risk.reasons AS r, score_dates AS d WHERE r.index_date = d.now_date
    GROUP BY person_id
)
SELECT
    pool.person_id,
    p.given_name || ' ' || p.family_name AS patient_name,
    p.nhs_number,
    date_diff('year', p.date_of_birth, CAST($as_of AS DATE))
        - CASE WHEN strftime(p.date_of_birth, '%m%d') > strftime(CAST($as_of AS DATE), '%m%d') THEN 1 ELSE 0 END AS age,
    p.practice_code,
    p.practice_name,
    pool.enrolment_status,
    pool.eligible_because,
    n.probability,
    n.tier,
    pv.previous_tier,
    n.probability - pv.previous_probability AS probability_change,
    why.top_reasons,
    f.efi_category AS frailty_category,
    concat_ws(', ',
        CASE WHEN f.diabetes_type1 = 1 THEN 'type 1 diabetes' END, CASE WHEN f.diabetes_type2 = 1 THEN 'type 2 diabetes' END,
        CASE WHEN f.heart_failure = 1 THEN 'heart failure' END, CASE WHEN f.copd = 1 THEN 'COPD' END,
        CASE WHEN f.ckd = 1 THEN 'CKD' END, CASE WHEN f.dementia = 1 THEN 'dementia' END,
        CASE WHEN f.atrial_fibrillation = 1 THEN 'AF' END, CASE WHEN f.ischaemic_heart_disease = 1 THEN 'IHD' END,
        CASE WHEN f.stroke = 1 THEN 'stroke' END, CASE WHEN f.cancer = 1 THEN 'cancer' END,
        CASE WHEN f.severe_mental_illness = 1 THEN 'SMI' END, CASE WHEN f.depression = 1 THEN 'depression' END,
        CASE WHEN f.hypertension = 1 THEN 'hypertension' END, CASE WHEN f.asthma = 1 THEN 'asthma' END
    ) AS conditions,
    coalesce(sp.emergency_admissions_90d, 0) AS emergency_admissions_90d,
    coalesce(ae.ae_attendances_90d, 0) AS ae_attendances_90d,
    sp.last_discharge_date,
    dc.contact_status AS post_discharge_contact,
    dc.contact_detail AS post_discharge_detail,
    coalesce(pool.plan_status, CASE WHEN cd.last_care_plan_code IS NOT NULL THEN 'coded in GP record' END, 'none')
        AS care_plan_status,
    greatest(pool.plan_updated, cd.last_care_plan_code) AS care_plan_date,
    pool.plan_review_date AS care_plan_review_due,
    pool.coordinator_name,
    pool.coordinator_role,
    pool.coordinator_organisation,
    pool.accountable_gp,
    f.repeat_medicines,
    cd.last_medication_review,
    coalesce(cd.falls_12m, 0) AS falls_12m,
    coalesce(oa.open_actions, 0) AS open_actions,
    oa.open_action_list,
    coalesce(ov.overdue_steps, 0) AS overdue_steps,
    ov.overdue_list,
    -- the list rules
    coalesce(oa.open_actions_past_due, 0) > 0 AS open_actions_past_due,
    coalesce(sp.emergency_since_last, 0) > 0 AS emergency_admission_since_last,
    n.tier IN ('very_high', 'high') AND coalesce(pv.previous_tier, 'none') NOT IN ('very_high', 'high')
        AND pv.previous_tier IS NOT NULL AS new_in_top_tiers,
    list_position(['low', 'moderate', 'high', 'very_high'], n.tier)
        > list_position(['low', 'moderate', 'high', 'very_high'], pv.previous_tier) AS risen_a_tier,
    coalesce(ae.ae_since_last, 0) > 0 AS ae_since_last,
    coalesce(ov.overdue_steps, 0) > 0 AS overdue_protocol_steps
FROM pool
JOIN registry.person AS p USING (person_id)
JOIN now_scores AS n USING (person_id)
LEFT JOIN prev_scores AS pv USING (person_id)
LEFT JOIN risk.person_features AS f ON f.person_id = pool.person_id AND f.index_date = n.index_date
LEFT JOIN spells AS sp USING (person_id)
LEFT JOIN ae USING (person_id)
LEFT JOIN coded AS cd USING (person_id)
LEFT JOIN overdue AS ov USING (person_id)
LEFT JOIN discharge_contact AS dc USING (person_id)
LEFT JOIN open_actions AS oa USING (person_id)
LEFT JOIN why USING (person_id);
