-- The cluster a person is registered in: the scope check before any patient-level read.
SELECT cluster_code FROM registry.person WHERE person_id = $person_id;
