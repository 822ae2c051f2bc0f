-- The latest trained model and its card (metrics as JSON).
SELECT model_id, trained_at, index_date, data_cut, config_version, population, outcome_rate,
       calibration_choice, card
FROM models.trained ORDER BY trained_at DESC LIMIT 1;
