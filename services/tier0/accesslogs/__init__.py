"""Apache-style access logs: parsing, formatting and idempotent bulk loads into system_logs."""
