-- Protocol adherence by step and practice as at the latest run (aggregates, no patients).
SELECT as_of, protocol, protocol_version, step, step_title, practice_code, cluster_code, applicable,
       met, not_met, due_soon, pending, round(met_rate * 100, 1) AS met_pct
FROM care.adherence_by_practice
WHERE as_of = (SELECT max(as_of) FROM care.adherence_by_practice)
  AND ($practice IS NULL OR practice_code = $practice)
ORDER BY protocol, step_order, practice_code;
