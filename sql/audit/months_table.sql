-- audit.months: one row per audited month with what it was computed from (registry build,
-- protocol versions, operational records up to the month's end) and their fingerprint.
CREATE TABLE IF NOT EXISTS audit.months (
    month_start DATE, month_end DATE, build_id VARCHAR, protocol_versions VARCHAR,
    ops_records VARCHAR, fingerprint VARCHAR, computed_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit.measures (
    month DATE, level VARCHAR, unit_code VARCHAR, measure VARCHAR, numerator DOUBLE,
    denominator DOUBLE, multiplier DOUBLE
);
