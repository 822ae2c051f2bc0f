-- One unsuppressed SPC series (audit leads: practice-level aggregates).
SELECT month, title, direction, numerator, denominator, value, mean, lower, upper, special_cause,
       meaning, rules, variation, assurance, CAST(numerator AS VARCHAR) AS numerator_display,
       CAST(denominator AS VARCHAR) AS denominator_display
FROM audit.spc WHERE measure = $measure AND level = $level AND unit_code = $unit ORDER BY month;
