-- A person's named coordinators, latest (current) first.
SELECT coordinator_name, coordinator_role, organisation, accountable_gp, recorded_by, recorded_at
FROM ops.coordinators WHERE person_id = $person_id ORDER BY record_id DESC;
