-- audit_month_inputs: what each requested month (temp table audit_requested(month_start,
-- month_end)) is computed from: the registry build, the protocol versions and the operational
-- records up to the month's end (how many and the highest record id, per table). A month whose
-- fingerprint matches audit.months is not recomputed.
CREATE OR REPLACE TEMP TABLE audit_month_inputs AS
WITH ops AS (
    SELECT 'enrolment' AS source, record_id, CAST(recorded_at AS DATE) AS day FROM ops.enrolment
    UNION ALL SELECT 'coordinators', record_id, CAST(recorded_at AS DATE) FROM ops.coordinators
    UNION ALL SELECT 'care_plans', record_id, CAST(recorded_at AS DATE) FROM ops.care_plans
),
counted AS (
    SELECT r.month_end,
           string_agg(o.source || ':' || o.records || ':' || o.last_id, ',' ORDER BY o.source) AS ops_records
    FROM audit_requested AS r
    LEFT JOIN (
        SELECT r2.month_end, o.source, count(*) AS records, max(o.record_id) AS last_id
        FROM audit_requested AS r2 JOIN ops AS o ON o.day <= r2.month_end
        GROUP BY ALL
    ) AS o USING (month_end)
    GROUP BY r.month_end
)
SELECT r.month_start, r.month_end, CAST($build_id AS VARCHAR) AS build_id,
       CAST($protocols AS VARCHAR) AS protocol_versions,
       coalesce(c.ops_records, '') AS ops_records,
       md5(concat_ws('|', $build_id, $protocols, coalesce(c.ops_records, ''), r.month_start)) AS fingerprint
FROM audit_requested AS r LEFT JOIN counted AS c USING (month_end);
