-- A person's enrolment decisions, latest (current) first.
SELECT action, reason, recorded_by, recorded_at
FROM ops.enrolment WHERE person_id = $person_id ORDER BY record_id DESC;
