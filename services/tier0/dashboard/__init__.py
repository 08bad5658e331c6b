"""The web dashboard: static assets (no build step) and a small server that proxies the API."""
