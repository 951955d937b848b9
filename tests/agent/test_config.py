"""Configuration comes from Settings only: `.env` values reach connectors and are masked."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from agent.errors import ConfigError, ConnectorError
from agent.sources import Context, _github
from agent.wiring import load_settings, open_store
from knowledge.base import KnowledgeBase

TOKEN = "ghp_DotEnvOnly0123456789abcdefghijklmnopq"


def test_a_token_only_in_dotenv_reaches_the_connector_and_is_masked(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kb: KnowledgeBase,
) -> None:
    from tests.fakes.github_server import FakeGitHub, load_dataset

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    today = dt.date(2026, 11, 28)
    with FakeGitHub(load_dataset("alice"), token=TOKEN) as fake:
        # A wrong token in .env is sent (and refused): the connector reads .env via Settings.
        (tmp_path / ".env").write_text(
            f"GITHUB_TOKEN=ghp_wrong{TOKEN[9:]}\nGITHUB_API_URL={fake.url}\n"
        )
        with pytest.raises(ConnectorError):
            _github(["alice"], Context(kb=kb, settings=load_settings(), today=today))
        (tmp_path / ".env").write_text(f"GITHUB_TOKEN={TOKEN}\nGITHUB_API_URL={fake.url}\n")
        settings = load_settings()
        assert settings.github_token is not None
        assert settings.github_token.get_secret_value() == TOKEN
        result = _github(["alice"], Context(kb=kb, settings=settings, today=today))
        assert result.evidence
    caplog.set_level(logging.INFO)
    logging.getLogger("probe").info("calling GitHub with %s", TOKEN)
    assert TOKEN not in caplog.text and "[redacted]" in caplog.text


def test_bad_configuration_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHROMA_PORT", "not-a-port")
    with pytest.raises(ConfigError, match=r"CHROMA_PORT|chroma_port"):
        load_settings()
    monkeypatch.delenv("CHROMA_PORT")
    monkeypatch.setenv("DATABASE_URL", "this is not a url")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        open_store(load_settings())
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(ConfigError, match="cannot open the store"):
        open_store(load_settings())


def test_secrets_lists_every_configured_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "TELEGRAM_BOT_TOKEN": "123456:telegram-secret-value",
        "OPENAI_API_KEY": "sk-openai-secret-value",
        "KAGGLE_KEY": "kaggle-secret-value-123",
        "TELEGRAM_WEBHOOK_SECRET": "webhook-secret-value",
        "DATABASE_URL": "postgresql+psycopg://me:db-password-value@127.0.0.1/test",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    secrets = load_settings().secrets()
    for value in (*list(values.values())[:4], "db-password-value"):
        assert value in secrets
