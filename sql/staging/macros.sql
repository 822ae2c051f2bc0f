-- Macros the contract checks use. Loaded once per connection by stratify.contracts.

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

-- Linkage keys: upper-case trimmed names; postcode upper case with one space before the inward part.
CREATE OR REPLACE TEMP MACRO name_key(x) AS upper(trim(x));
CREATE OR REPLACE TEMP MACRO postcode_key(x) AS
    regexp_replace(upper(replace(x, ' ', '')), '^(.+)(...)$', '\1 \2');
