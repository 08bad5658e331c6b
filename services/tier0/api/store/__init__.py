"""PostgreSQL queries behind the API; every function takes keyword-only arguments."""
