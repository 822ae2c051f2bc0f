-- Rows read, accepted, quarantined and linked per feed in the current build.
SELECT feed, file, contract_version, rows_read, rows_accepted, rows_quarantined, rows_flagged,
       linked_nhs_number, linked_probabilistic, unlinked
FROM registry.dq_feed_summary ORDER BY feed;
