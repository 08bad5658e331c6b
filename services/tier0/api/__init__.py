"""The Tier-0 HTTP API (FastAPI): devices, sites, user sessions, access-log summaries."""
