-- The columns Splink compares and blocks on, for both sides of the linkage, made in Splink's own
-- in-memory database from people_in (sql/registry/linkage_people.sql), records_in
-- (sql/registry/linkage_records.sql) and nicknames (stratify/registry/nicknames.csv).

-- Soundex, simplified (H and W separate codes like vowels): "sound-alike" family names for
-- blocking, e.g. SMITH / SMYTH / SMITHE -> S530.
CREATE OR REPLACE TEMP MACRO soundex_digits(letters) AS
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(regexp_replace(
        translate(letters, 'AEIOUYHWBFPVCGJKQSXZDTLMNR', '00000000111122222222334556'),
    '0+', '0', 'g'), '1+', '1', 'g'), '2+', '2', 'g'), '3+', '3', 'g'), '4+', '4', 'g'),
    '5+', '5', 'g'), '6+', '6', 'g');
CREATE OR REPLACE TEMP MACRO sound_key(x) AS
    CASE WHEN nullif(regexp_replace(x, '[^A-Z]', '', 'g'), '') IS NULL THEN NULL
    ELSE left(regexp_replace(x, '[^A-Z]', '', 'g'), 1) || rpad(left(replace(
        substr(soundex_digits(regexp_replace(x, '[^A-Z]', '', 'g')), 2), '0', ''), 3), 3, '0')
    END;

CREATE OR REPLACE TEMP TABLE linkage_inputs AS
SELECT 'registered_people' AS side, * FROM people_in
UNION ALL
SELECT 'records_to_link', * FROM records_in;

CREATE OR REPLACE TEMP TABLE linkage_with_features AS
WITH forms AS (
    SELECT short_form, list(DISTINCT name) AS formal FROM nicknames GROUP BY short_form
)
SELECT
    i.side,
    i.unique_id,
    i.given_key,
    i.family_key,
    i.given_key || ' ' || i.family_key AS full_name,
    CASE WHEN i.given_key IS NOT NULL
        THEN list_sort(list_distinct(list_prepend(i.given_key, coalesce(f.formal, []))))
    END AS given_forms,
    string_split(i.family_key, ' ') AS family_parts,
    sound_key(i.family_key) AS family_sound,
    i.date_of_birth,
    year(i.date_of_birth) AS birth_year,
    strftime(i.date_of_birth, '%m-%d') AS birth_month_day,
    i.sex,
    i.postcode_key,
    nullif(regexp_extract(i.postcode_key, '^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]'), '') AS postcode_sector
FROM linkage_inputs AS i
LEFT JOIN forms AS f ON f.short_form = i.given_key;

CREATE OR REPLACE TABLE registered_people AS
SELECT * EXCLUDE (side) FROM linkage_with_features WHERE side = 'registered_people'
ORDER BY unique_id;

CREATE OR REPLACE TABLE records_to_link AS
SELECT * EXCLUDE (side) FROM linkage_with_features WHERE side = 'records_to_link'
ORDER BY unique_id;
