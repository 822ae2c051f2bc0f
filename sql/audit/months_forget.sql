-- Forget the months to recompute (temp table audit_todo) and those outside the requested window
-- (temp table audit_requested): their measures and their audit.months rows.
DELETE FROM audit.measures
WHERE month IN (SELECT month_end FROM audit_todo)
   OR month NOT IN (SELECT month_end FROM audit_requested);
DELETE FROM audit.months
WHERE month_end IN (SELECT month_end FROM audit_todo)
   OR month_end NOT IN (SELECT month_end FROM audit_requested);
