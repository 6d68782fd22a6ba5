"""The hot path: ingest → correlate → incident, and the state only these stages use
(signal batches, correlation windows, explicit table partitions)."""
