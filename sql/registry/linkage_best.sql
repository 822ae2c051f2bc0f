-- Each record's two best candidates among Splink's scored pairs (in Splink's own database), the
-- person on one side and the record on the other. Weights and probabilities are rounded so that
-- the last bits of a floating-point sum never decide a link; ties go to the lower NHS number.
WITH oriented AS (
    SELECT
        CASE WHEN source_dataset_l = 'registered_people' THEN unique_id_l ELSE unique_id_r END
            AS person,
        CASE WHEN source_dataset_l = 'registered_people' THEN unique_id_r ELSE unique_id_l END
            AS record,
        round(match_weight, 4) AS match_weight,
        round(match_probability, 6) AS match_probability,
        gamma_names,
        gamma_date_of_birth,
        gamma_postcode_key,
        gamma_sex,
        match_key
    FROM predictions
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY record ORDER BY match_weight DESC, person) AS rank
    FROM oriented
)
SELECT * FROM ranked WHERE rank <= 2 ORDER BY record, rank
