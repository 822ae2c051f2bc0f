-- features.observations: the latest HbA1c and blood pressure before the index date.
CREATE OR REPLACE TABLE features.observations AS
WITH latest AS (
    SELECT
        e.person_id,
        c.list,
        arg_max(e.value, e.event_date) AS value,
        max(e.event_date) AS recorded
    FROM registry.gp_events AS e
    JOIN ref.codelists AS c
        ON c.code = e.snomed_code AND c.list IN ('hba1c', 'systolic_bp', 'diastolic_bp')
    JOIN features.population AS p USING (person_id)
    WHERE e.event_date < $index_date AND e.value IS NOT NULL
    GROUP BY ALL
)
SELECT
    p.person_id,
    max(value) FILTER (WHERE list = 'hba1c') AS latest_hba1c,
    max(value) FILTER (WHERE list = 'systolic_bp') AS latest_systolic_bp,
    max(value) FILTER (WHERE list = 'diastolic_bp') AS latest_diastolic_bp
FROM features.population AS p
LEFT JOIN latest USING (person_id)
GROUP BY p.person_id;
