"""The composition root: settings, then the store, then the engine, once for every front end.

The REPL, the subcommands, the Telegram bot and the benchmarks all start here, so a setting
given only in `.env` reaches every part (connector tokens included) and every secret it
holds is masked in logs from the first line on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.config import Settings
from tools.errors import ConfigError

if TYPE_CHECKING:
    from agent.engine import Engine
    from agent.store import Store
    from agent.workbench import Workbench


def load_settings() -> Settings:
    """Read the environment (and `.env`) once; a bad value is one clear ConfigError."""
    from pydantic import ValidationError

    from agent.redact import redact_secrets

    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'setting'}: {error['msg']}"
            for error in exc.errors(include_input=False)
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
    except UnicodeDecodeError:
        raise ConfigError(".env in this folder is not UTF-8 text; fix or remove it") from None
    except OSError as exc:
        raise ConfigError(f"cannot read .env in this folder: {exc.strerror}") from None
    redact_secrets(settings.secrets())
    return settings


def open_store(settings: Settings, pooled: bool = True) -> Store:
    """The configured store, migrated; an unusable DATABASE_URL or database is a ConfigError.

    `pooled=False` for a terminal chat: no connection is held while the person types.
    """
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from agent.store import Store

    try:
        return Store(settings.resolved_database_url(), settings.busy_timeout_s, pooled)
    except ArgumentError:
        raise ConfigError(
            "DATABASE_URL is not a database URL (e.g. postgresql://host/db)"
        ) from None
    except (SQLAlchemyError, OSError, ImportError, ValueError) as exc:
        reason = type(exc).__name__
        raise ConfigError(
            f"cannot open the store at {settings.describe_storage()} ({reason}); check DATABASE_URL "
            "or SKILLAUDIT_HOME"
        ) from None


def build_engine(settings: Settings | None = None, pooled: bool = True) -> Engine:
    """The engine over the configured store, knowledge, index and (optional) language model."""
    from agent.engine import Engine

    settings = settings or load_settings()
    return Engine(open_store(settings, pooled), settings)


def build_workbench(settings: Settings | None = None) -> Workbench:
    """Units of work over the configured store for the CLI's subcommands: the use cases
    without the conversation (no flows, no language model, so nothing of them is imported)."""
    from agent.workbench import Workbench

    settings = settings or load_settings()
    return Workbench(open_store(settings), settings)
