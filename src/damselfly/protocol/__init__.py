"""RESP2/RESP3 wire format: request parsing, reply types and reply encoding."""
