-- The date of the latest adherence run (the patient page shows protocol status as at it).
SELECT max(as_of) AS as_of FROM care.adherence;
