"""Settings refuse insecure secrets and parse the Sentinel list."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tier0.common.settings import Scope, Settings, check_secret

GOOD = "q8JvT1c0xYl3pZ2w9sR7uV4k"


@pytest.mark.parametrize("secret", ["", "changeme", "Password", "guest", "short-but-fine"])
def test_well_known_or_short_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="generate one"):
        check_secret(secret, "the test secret")


def test_a_generated_secret_is_accepted() -> None:
    assert check_secret(GOOD, "the test secret") == GOOD


def test_postgres_dsn_with_a_default_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIER0_POSTGRES_DSN", "postgresql://tier0:changeme@db:5432/tier0")
    with pytest.raises(ValidationError, match="PostgreSQL password"):
        Settings()  # type: ignore[call-arg]


def test_multihost_dsn_and_sentinels_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    dsn = f"postgresql://tier0:{GOOD}@10.0.0.1:5432,10.0.0.2:5433/tier0?target_session_attrs=read-write"
    monkeypatch.setenv("TIER0_POSTGRES_DSN", dsn)
    monkeypatch.setenv("TIER0_REDIS_SENTINELS", "127.0.0.1:26379, 127.0.0.1:26380,")
    monkeypatch.setenv("TIER0_API_KEY", GOOD)
    settings = Settings()  # type: ignore[call-arg]
    assert settings.postgres_dsn == dsn
    assert settings.sentinel_addresses == [("127.0.0.1", 26379), ("127.0.0.1", 26380)]
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == GOOD


def test_short_api_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIER0_POSTGRES_DSN", f"postgresql://tier0:{GOOD}@db/tier0")
    monkeypatch.setenv("TIER0_API_KEY", "abc")
    with pytest.raises(ValidationError, match="Tier-0 secret"):
        Settings()  # type: ignore[call-arg]


def test_each_key_grants_its_own_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIER0_POSTGRES_DSN", f"postgresql://tier0:{GOOD}@db/tier0")
    monkeypatch.setenv("TIER0_API_KEY", GOOD)
    monkeypatch.setenv("TIER0_OPERATE_API_KEY", GOOD[::-1])
    monkeypatch.setenv("TIER0_CORS_ORIGINS", '["http://localhost:8080"]')
    settings = Settings()  # type: ignore[call-arg]
    granted = {c.key.get_secret_value(): c.scope for c in settings.api_credentials}
    assert granted == {GOOD: Scope.WRITE, GOOD[::-1]: Scope.OPERATE}
    assert settings.cors_origins == ["http://localhost:8080"]


def test_one_key_for_both_scopes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIER0_POSTGRES_DSN", f"postgresql://tier0:{GOOD}@db/tier0")
    monkeypatch.setenv("TIER0_API_KEY", GOOD)
    monkeypatch.setenv("TIER0_OPERATE_API_KEY", GOOD)
    with pytest.raises(ValidationError, match="must differ"):
        Settings()  # type: ignore[call-arg]
