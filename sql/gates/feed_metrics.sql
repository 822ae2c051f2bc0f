-- Per feed, the figures a delivery is gated on, as the build in this database left them.
SELECT feed, rows_read, rows_accepted, people FROM registry.dq_gate_metrics ORDER BY feed;
