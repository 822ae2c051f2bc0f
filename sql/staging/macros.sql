-- Macros the contract checks use. Loaded once per connection by stratify.contracts.
-- The code checks (Verhoeff, SCTID partition, Modulus 11) run on the distinct values of a column,
-- not on every row, so their cost does not grow with the feed.

-- NHS number as people write it ("999 123 4567", "999-123-4567"): spaces and hyphens removed.
CREATE OR REPLACE TEMP MACRO nhs_number_clean(x) AS
    NULLIF(replace(replace(trim(x), ' ', ''), '-', ''), '');

-- Modulus 11 check digit of a ten-character NHS number (10 means no valid number has this stem).
CREATE OR REPLACE TEMP MACRO nhs_check_digit(x) AS
    (11 - ((
        TRY_CAST(substr(x, 1, 1) AS INTEGER) * 10 + TRY_CAST(substr(x, 2, 1) AS INTEGER) * 9
        + TRY_CAST(substr(x, 3, 1) AS INTEGER) * 8 + TRY_CAST(substr(x, 4, 1) AS INTEGER) * 7
        + TRY_CAST(substr(x, 5, 1) AS INTEGER) * 6 + TRY_CAST(substr(x, 6, 1) AS INTEGER) * 5
        + TRY_CAST(substr(x, 7, 1) AS INTEGER) * 4 + TRY_CAST(substr(x, 8, 1) AS INTEGER) * 3
        + TRY_CAST(substr(x, 9, 1) AS INTEGER) * 2
    ) % 11)) % 11;

CREATE OR REPLACE TEMP MACRO nhs_number_valid(x) AS
    coalesce(
        regexp_full_match(x, '[0-9]{10}')
        AND nhs_check_digit(x) <> 10
        AND nhs_check_digit(x) = TRY_CAST(substr(x, 10, 1) AS INTEGER),
        false
    );

-- Verhoeff check digit (SNOMED CT and dm+d identifiers): the dihedral group D5 product over the
-- digits from the right, each through the permutation p^(position mod 8); valid when it is 0.
-- p is p1 = (1 5 7 6 2 8 3 0 9 4) composed with itself, flattened as p[i][d] = [i * 10 + d + 1];
-- d is the D5 multiplication table flattened the same way.
CREATE OR REPLACE TEMP MACRO verhoeff_valid(x) AS
    CASE WHEN regexp_full_match(x, '[0-9]{1,18}') THEN list_reduce(
        list_transform(
            range(length(x)),
            lambda i: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 5, 7, 6, 2, 8, 3, 0, 9, 4,
                       5, 8, 0, 3, 7, 9, 6, 1, 4, 2, 8, 9, 1, 6, 0, 4, 3, 5, 2, 7,
                       9, 4, 5, 3, 1, 2, 6, 8, 7, 0, 4, 2, 8, 6, 5, 7, 3, 9, 0, 1,
                       2, 7, 9, 3, 8, 0, 6, 4, 1, 5, 7, 0, 4, 6, 9, 1, 3, 2, 5, 8]
                [(i % 8) * 10 + CAST(substr(x, length(x) - CAST(i AS INTEGER), 1) AS INTEGER) + 1]
        ),
        lambda c, v: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 0, 6, 7, 8, 9, 5,
                      2, 3, 4, 0, 1, 7, 8, 9, 5, 6, 3, 4, 0, 1, 2, 8, 9, 5, 6, 7,
                      4, 0, 1, 2, 3, 9, 5, 6, 7, 8, 5, 9, 8, 7, 6, 0, 4, 3, 2, 1,
                      6, 5, 9, 8, 7, 1, 0, 4, 3, 2, 7, 6, 5, 9, 8, 2, 1, 0, 4, 3,
                      8, 7, 6, 5, 9, 3, 2, 1, 0, 4, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
            [c * 10 + v + 1],
        0
    ) = 0 ELSE false END;

-- Why a value is not a SNOMED CT concept identifier (SCTID), or NULL when it is one: 6 to 18
-- digits without a leading zero, a concept partition (00 short format, 10 with a namespace), and
-- the Verhoeff check digit. dm+d identifiers are SCTIDs too.
CREATE OR REPLACE TEMP MACRO sctid_problem(x) AS
    CASE
        WHEN NOT regexp_full_match(x, '[1-9][0-9]{5,17}') THEN 'not 6 to 18 digits'
        WHEN substr(x, length(x) - 2, 2) NOT IN ('00', '10')
            THEN 'partition ' || substr(x, length(x) - 2, 2) || ' is not a concept'
        WHEN substr(x, length(x) - 2, 2) = '10' AND length(x) < 11
            THEN 'too short for a namespace identifier'
        WHEN NOT verhoeff_valid(x) THEN 'the Verhoeff check digit does not match'
    END;

-- ICD-10 as hospitals write it ("J18.9", "j189 "): upper case, no dot, no spaces.
CREATE OR REPLACE TEMP MACRO icd10_clean(x) AS
    NULLIF(upper(replace(replace(trim(x), '.', ''), ' ', '')), '');

-- A unit as written ("mmol/L", " MMOL/L", "kg/m²"): lower case, no spaces, ² as 2, µ as u.
CREATE OR REPLACE TEMP MACRO unit_key(x) AS
    NULLIF(replace(replace(replace(lower(trim(x)), ' ', ''), '²', '2'), 'µ', 'u'), '');

-- Linkage keys: upper-case trimmed names; postcode upper case with one space before the inward part.
CREATE OR REPLACE TEMP MACRO name_key(x) AS upper(trim(x));
CREATE OR REPLACE TEMP MACRO postcode_key(x) AS
    regexp_replace(upper(replace(x, ' ', '')), '^(.+)(...)$', '\1 \2');
