import pytest
from pydantic import ValidationError

from server.config import Settings


def test_development_defaults_to_an_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SGSS_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.database_kind == "sqlite"
    assert settings.database_url.endswith("sgss.db")


def test_production_refuses_unsafe_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SGSS_DATABASE_URL", raising=False)
    with pytest.raises(ValidationError) as err:
        Settings(environment="production")
    text = str(err.value)
    assert "SGSS_DATABASE_URL" in text and "日志" in text


def test_production_with_explicit_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SGSS_DATABASE_URL", "postgresql://sgss@db/sgss")
    monkeypatch.setenv("SGSS_ENVIRONMENT", "production")
    monkeypatch.setenv("SGSS_NOTIFICATION_SENDER", "http")
    monkeypatch.setenv("SGSS_SMS_GATEWAY_URL", "http://sms.example/send")
    settings = Settings()
    assert settings.database_kind == "postgresql"
    monkeypatch.setenv("SGSS_ARGON2_MEMORY_KIB", "1024")
    with pytest.raises(ValidationError, match="argon2"):
        Settings()


def test_production_refuses_a_short_document_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SGSS_DATABASE_URL", "postgresql://sgss@db/sgss")
    monkeypatch.setenv("SGSS_ENVIRONMENT", "production")
    monkeypatch.setenv("SGSS_NOTIFICATION_SENDER", "http")
    monkeypatch.setenv("SGSS_SMS_GATEWAY_URL", "http://sms.example/send")
    monkeypatch.setenv("SGSS_DOCUMENT_SECRET", "short")
    with pytest.raises(ValidationError, match="SGSS_DOCUMENT_SECRET"):
        Settings()
    monkeypatch.setenv("SGSS_DOCUMENT_SECRET", "s" * 32)
    secret = Settings().document_secret
    assert secret is not None and "s" * 32 not in repr(secret)  # never printed in full


def test_fewer_worker_threads_than_connections_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SGSS_DB_CONNECTIONS", "20")
    monkeypatch.setenv("SGSS_WORKER_THREADS", "19")
    with pytest.raises(ValidationError, match="SGSS_WORKER_THREADS"):
        Settings()
    monkeypatch.setenv("SGSS_WORKER_THREADS", "20")
    assert Settings().db_connections == 20
