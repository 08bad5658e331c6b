"""PostgreSQL schema: numbered SQL migrations applied idempotently by ``tier0 migrate``."""
