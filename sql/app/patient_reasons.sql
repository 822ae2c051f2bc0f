-- The reasons behind a person's latest score, strongest first.
SELECT index_date, reason_rank, reason, round(contribution, 3) AS contribution
FROM risk.reasons
WHERE person_id = $person_id
  AND index_date = (SELECT max(index_date) FROM risk.reasons WHERE person_id = $person_id)
ORDER BY reason_rank;
