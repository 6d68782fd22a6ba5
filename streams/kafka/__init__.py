"""Kafka: the wire codec, topics and their creation, batched output, faust's fetch and offset
patches, TLS/SASL, signed commands, the audit chain on the wire, dead letters."""
