-- Every measure with an SPC series, for the audit lead's chooser.
SELECT DISTINCT measure, title FROM audit.spc ORDER BY measure;
