-- features.conditions: long-term conditions ever coded in the GP record before the index date.
CREATE OR REPLACE TABLE features.conditions AS
WITH coded AS (
    SELECT DISTINCT e.person_id, c.list
    FROM registry.gp_events AS e
    JOIN ref.codelists AS c ON c.code = e.snomed_code AND c.system = 'snomed_ct'
    JOIN features.population AS p USING (person_id)
    WHERE e.event_date < $index_date
)
SELECT
    p.person_id,
    coalesce(max(CASE WHEN list = 'diabetes_type1' THEN 1 END), 0) AS diabetes_type1,
    coalesce(max(CASE WHEN list = 'diabetes_type2' THEN 1 END), 0) AS diabetes_type2,
    coalesce(max(CASE WHEN list = 'hypertension' THEN 1 END), 0) AS hypertension,
    coalesce(max(CASE WHEN list = 'copd' THEN 1 END), 0) AS copd,
    coalesce(max(CASE WHEN list = 'asthma' THEN 1 END), 0) AS asthma,
    coalesce(max(CASE WHEN list = 'heart_failure' THEN 1 END), 0) AS heart_failure,
    coalesce(max(CASE WHEN list = 'atrial_fibrillation' THEN 1 END), 0) AS atrial_fibrillation,
    coalesce(max(CASE WHEN list = 'ischaemic_heart_disease' THEN 1 END), 0) AS ischaemic_heart_disease,
    coalesce(max(CASE WHEN list = 'stroke' THEN 1 END), 0) AS stroke,
    coalesce(max(CASE WHEN list = 'ckd' THEN 1 END), 0) AS ckd,
    coalesce(max(CASE WHEN list = 'dementia' THEN 1 END), 0) AS dementia,
    coalesce(max(CASE WHEN list = 'depression' THEN 1 END), 0) AS depression,
    coalesce(max(CASE WHEN list = 'severe_mental_illness' THEN 1 END), 0) AS severe_mental_illness,
    coalesce(max(CASE WHEN list = 'cancer' THEN 1 END), 0) AS cancer,
    coalesce(max(CASE WHEN list = 'osteoporosis' THEN 1 END), 0) AS osteoporosis,
    coalesce(max(CASE WHEN list = 'parkinsonism' THEN 1 END), 0) AS parkinsonism,
    coalesce(max(CASE WHEN list = 'thyroid_disease' THEN 1 END), 0) AS thyroid_disease
FROM features.population AS p
LEFT JOIN coded AS c USING (person_id)
GROUP BY p.person_id;
