-- risk/trajectory: persistence and trajectory flags beside each tier of the scores on $index_date,
-- from the stored monthly scores (risk.scores) and feature snapshots (risk.person_features).
-- persistently_high: in the top two tiers in at least 3 of the last 6 stored monthly scores.
-- newly_high: in the top two tiers now, not in them (or not scored) at the previous stored score;
--   NULL when there is no earlier score.
-- rising_frailty: eFI category above its category 11-13 months earlier (the latest snapshot in
--   that window); NULL when no snapshot lies in it.
UPDATE risk.scores AS s
SET high_scores_in_last_6 = t.high_scores_in_last_6,
    persistently_high = t.persistently_high,
    newly_high = t.newly_high,
    rising_frailty = t.rising_frailty,
    efi_category_year_before = t.efi_category_year_before
FROM (
    WITH recent AS (
        SELECT DISTINCT index_date FROM risk.scores
        WHERE index_date <= $index_date ORDER BY index_date DESC LIMIT 6
    ),
    previous AS (SELECT max(index_date) AS d FROM risk.scores WHERE index_date < $index_date),
    history AS (
        SELECT person_id, count(*) FILTER (WHERE tier IN ('very_high', 'high')) AS high
        FROM risk.scores WHERE index_date IN (SELECT index_date FROM recent)
        GROUP BY person_id
    ),
    before AS (
        SELECT person_id, tier FROM risk.scores WHERE index_date = (SELECT d FROM previous)
    ),
    year_before AS (
        SELECT max(index_date) AS d FROM risk.person_features
        WHERE index_date BETWEEN CAST($index_date AS DATE) - INTERVAL 13 MONTH
                             AND CAST($index_date AS DATE) - INTERVAL 11 MONTH
    ),
    efi_then AS (
        SELECT person_id, efi_category FROM risk.person_features
        WHERE index_date = (SELECT d FROM year_before)
    ),
    efi_now AS (
        SELECT person_id, efi_category FROM risk.person_features WHERE index_date = $index_date
    ),
    levels AS (
        SELECT * FROM (VALUES ('fit', 0), ('mild', 1), ('moderate', 2), ('severe', 3)) AS v(category, level)
    )
    SELECT
        c.person_id,
        h.high AS high_scores_in_last_6,
        h.high >= 3 AS persistently_high,
        CASE WHEN (SELECT d FROM previous) IS NULL THEN NULL
             ELSE c.tier IN ('very_high', 'high')
                  AND coalesce(b.tier NOT IN ('very_high', 'high'), true) END AS newly_high,
        CASE WHEN e0.person_id IS NULL THEN NULL ELSE l1.level > l0.level END AS rising_frailty,
        e0.efi_category AS efi_category_year_before
    FROM risk.scores AS c
    JOIN history AS h USING (person_id)
    LEFT JOIN before AS b USING (person_id)
    LEFT JOIN efi_now AS e1 USING (person_id)
    LEFT JOIN efi_then AS e0 USING (person_id)
    LEFT JOIN levels AS l1 ON l1.category = e1.efi_category
    LEFT JOIN levels AS l0 ON l0.category = e0.efi_category
    WHERE c.index_date = $index_date
) AS t
WHERE s.index_date = $index_date AND s.person_id = t.person_id;
