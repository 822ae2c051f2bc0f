-- The app's users and what they did: every view of a patient-level page, every export, and every
-- refusal. Append-only like every operational table; written by dashboards/store.py only.
CREATE TABLE IF NOT EXISTS ops.access_log (
    record_id BIGINT PRIMARY KEY DEFAULT nextval('ops.record_id'),
    accessed_at TIMESTAMP NOT NULL,
    username VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    action VARCHAR NOT NULL CHECK (action IN ('view', 'export', 'record', 'refused', 'login', 'logout', 'login_failed')),
    page VARCHAR NOT NULL,
    cluster_code VARCHAR,
    person_id BIGINT,
    detail VARCHAR
);
