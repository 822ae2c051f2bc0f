-- A person's protocol steps as at the latest adherence run, with evidence or what is missing.
SELECT protocol, protocol_version, step_title, owner, status, evidence_date, evidence, missing
FROM care.adherence
WHERE person_id = $person_id AND as_of = $as_of
ORDER BY protocol, step;
