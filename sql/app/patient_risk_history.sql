-- Every score a person has had, oldest first.
SELECT index_date, round(probability * 100, 1) AS risk_pct, tier, frail, diabetic, model_id
FROM risk.scores WHERE person_id = $person_id ORDER BY index_date;
