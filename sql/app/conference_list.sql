-- One cluster's case-conference list for one month, in discussion order (identifiable: direct care).
SELECT list_order, person_id, patient_name, nhs_number, age, practice_code, practice_name,
       why_discuss, tier, round(probability * 100, 1) AS risk_pct,
       round(probability_change * 100, 1) AS risk_change_pct, top_reasons, frailty_category,
       conditions, enrolment_status, coordinator_name, care_plan_status, care_plan_review_due,
       last_discharge_date, post_discharge_detail
FROM care.conference_list
WHERE cluster_code = $cluster AND month = $month
ORDER BY list_order;
