-- Practices on one proportion for the latest month, unsuppressed (audit leads).
SELECT unit, numerator, denominator, rate, z, lower_95, upper_95, position_95, lower_998,
       upper_998, position_998, month, measure, title, theta, phi, adjusted,
       CAST(numerator AS VARCHAR) AS numerator_display,
       CAST(denominator AS VARCHAR) AS denominator_display
FROM audit.funnel WHERE measure = $measure ORDER BY unit;
