-- Every version of a person's care plans, newest first.
SELECT plan_id, version, status, goals, actions, preferences, family_involved, carer_involved,
       review_date, change_note, recorded_by, recorded_at
FROM ops.care_plans WHERE person_id = $person_id ORDER BY recorded_at DESC, version DESC;
