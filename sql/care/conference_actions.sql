-- Every action for one cluster's patients with its latest status, open ones first (identifiable).
WITH latest AS (
    SELECT action_id, arg_max(person_id, record_id) AS person_id,
           arg_max(description, record_id) AS action, arg_max(owner, record_id) AS owner,
           arg_max(owner_role, record_id) AS owner_role, arg_max(due_date, record_id) AS due_date,
           arg_max(status, record_id) AS status, min(recorded_at) AS agreed_at,
           arg_max(recorded_by, record_id) AS last_recorded_by
    FROM ops.conference_actions GROUP BY action_id
)
SELECT l.action_id, l.person_id, p.given_name || ' ' || p.family_name AS patient_name, p.nhs_number,
       p.practice_code, l.action, l.owner, l.owner_role, l.due_date, l.status, l.agreed_at,
       l.last_recorded_by
FROM latest AS l JOIN registry.person AS p USING (person_id)
WHERE p.cluster_code = $cluster
ORDER BY l.status = 'open' DESC, l.due_date, l.person_id;
