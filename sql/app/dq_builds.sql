-- Registry builds, newest first.
SELECT build_id, built_at, data_cut, feeds FROM meta.builds ORDER BY built_at DESC LIMIT 20;
