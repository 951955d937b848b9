"""Configuration from the environment (and an optional .env file), read once at start."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from knowledge.index import IndexConfig


def default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("skillaudit", appauthor=False))


class Settings(BaseSettings):
    """Every setting SkillAudit reads; build one at start and pass it down."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    home: Path = Field(default_factory=default_home, validation_alias="SKILLAUDIT_HOME")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    telegram_api_base_url: str | None = Field(
        default=None, validation_alias="TELEGRAM_API_BASE_URL"
    )
    reviewer: str | None = Field(default=None, validation_alias="SKILLAUDIT_REVIEWER")
    chroma_host: str | None = Field(default=None, validation_alias="CHROMA_HOST")
    chroma_port: int = Field(default=8000, validation_alias="CHROMA_PORT")
    embeddings_url: str | None = Field(default=None, validation_alias="SKILLAUDIT_EMBEDDINGS_URL")
    embeddings_model: str = Field(
        default="multilingual-e5-small", validation_alias="SKILLAUDIT_EMBEDDINGS_MODEL"
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    # The bot's @username, for endorsement deep links (t.me/<username>?start=<code>).
    telegram_bot_username: str | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_USERNAME"
    )

    # Connectors: tokens and service addresses (the public services by default).
    github_token: SecretStr | None = Field(default=None, validation_alias="GITHUB_TOKEN")
    github_api_url: str = Field(default="https://api.github.com", validation_alias="GITHUB_API_URL")
    kaggle_username: str | None = Field(default=None, validation_alias="KAGGLE_USERNAME")
    kaggle_key: SecretStr | None = Field(default=None, validation_alias="KAGGLE_KEY")
    kaggle_api_url: str | None = Field(default=None, validation_alias="KAGGLE_API_URL")

    # Remote front ends (Telegram): what a stranger may make the server do.
    # URL prefixes a remote person may name although they are not public https addresses
    # (an MLflow server on the operator's network), separated by commas or spaces.
    allowed_url_prefixes: str = Field(default="", validation_alias="SKILLAUDIT_ALLOWED_URLS")
    # Use GITHUB_TOKEN (public data only, the operator's quota) for remote people too.
    share_github_token: bool = Field(
        default=False, validation_alias="SKILLAUDIT_SHARE_GITHUB_TOKEN"
    )
    max_upload_mb: float = Field(
        default=10.0, gt=0, le=20, validation_alias="SKILLAUDIT_MAX_UPLOAD_MB"
    )  # Telegram lets bots download at most 20 MB
    # This process's name among bot replicas sharing one database (leases in the outbox);
    # the host name by default, which differs per container.
    replica: str = Field(default="", validation_alias="SKILLAUDIT_REPLICA", max_length=100)

    # The language model (optional): any OpenAI-compatible chat completions endpoint.
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", validation_alias="SKILLAUDIT_MODEL")
    llm_timeout_s: float = Field(default=30.0, gt=0, validation_alias="SKILLAUDIT_LLM_TIMEOUT")
    llm_connect_timeout_s: float = Field(
        default=5.0, gt=0, validation_alias="SKILLAUDIT_LLM_CONNECT_TIMEOUT"
    )
    llm_max_retries: int = Field(default=1, ge=0, le=5, validation_alias="SKILLAUDIT_LLM_RETRIES")
    llm_max_steps: int = Field(default=6, ge=1, le=20, validation_alias="SKILLAUDIT_LLM_MAX_STEPS")
    llm_daily_tokens: int = Field(
        default=200_000, ge=0, validation_alias="SKILLAUDIT_LLM_DAILY_TOKENS"
    )
    llm_streaming: bool = Field(default=True, validation_alias="SKILLAUDIT_LLM_STREAMING")
    # One wall-clock budget per message: model calls, retries and retry-after waits all fit
    # in it; when it runs out the guided interviewer answers.
    llm_turn_deadline_s: float = Field(
        default=45.0, gt=0, le=600, validation_alias="SKILLAUDIT_LLM_DEADLINE"
    )
    # Where failed model calls are recorded in full (the chat shows one line); default
    # SKILLAUDIT_HOME/logs/llm.log.
    llm_log: Path | None = Field(default=None, validation_alias="SKILLAUDIT_LLM_LOG")

    @field_validator("allowed_url_prefixes")
    @classmethod
    def _urls(cls, value: str) -> str:
        from urllib.parse import urlsplit

        for entry in value.replace(",", " ").split():
            parts = urlsplit(entry)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{entry!r} is not an http(s)://host[:port][/path] prefix")
        return value

    @property
    def allowed_urls(self) -> list[str]:
        """The operator's allow-listed URL prefixes (SKILLAUDIT_ALLOWED_URLS)."""
        return self.allowed_url_prefixes.replace(",", " ").split()

    @property
    def replica_name(self) -> str:
        import socket

        return self.replica or socket.gethostname()

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1_000_000)

    # How long a message waits for a store busy with other sessions (SQLite's write lock,
    # PostgreSQL's lock waits and connection limit) before the person is told to send it again.
    busy_timeout_s: float = Field(
        default=60.0, gt=0, le=3600, validation_alias="SKILLAUDIT_BUSY_TIMEOUT"
    )

    @field_validator("home", mode="before")
    @classmethod
    def _home(cls, value: object) -> object:
        """An empty SKILLAUDIT_HOME means unset (as for XDG_DATA_HOME), never the current
        folder; a relative one is made absolute once, so a later `cd` cannot move the store."""
        if value is None or (isinstance(value, str | Path) and not str(value).strip()):
            return default_home()
        if isinstance(value, str | Path):
            return Path(value).expanduser().absolute()
        return value

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> object:
        """An empty DATABASE_URL means unset: the SQLite file under the home."""
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    def secrets(self) -> list[str]:
        """Every secret value configured, so logs and error messages can mask them."""
        values = [
            secret.get_secret_value()
            for secret in (
                self.telegram_bot_token,
                self.telegram_webhook_secret,
                self.openai_api_key,
                self.github_token,
                self.kaggle_key,
            )
            if secret is not None
        ]
        if self.database_url:
            from sqlalchemy.engine import make_url

            try:
                password = make_url(self.database_url).password
            except Exception:  # an unparsable URL is reported where the store opens it
                password = None
            if password:
                values.append(str(password))
        return values

    @property
    def llm_enabled(self) -> bool:
        """A language model is used when a key or an endpoint is configured."""
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def llm_log_file(self) -> Path:
        """The file that keeps the full record of language-model failures."""
        return self.llm_log or self.home / "logs" / "llm.log"

    def describe_llm(self) -> str:
        """Which model at which endpoint, for telling the user (never the key)."""
        from urllib.parse import urlsplit

        host = urlsplit(self.openai_base_url).hostname if self.openai_base_url else "api.openai.com"
        local = host in ("127.0.0.1", "localhost", "::1")
        where = "on this machine" if local else "a remote service"
        return f"{self.llm_model} at {host} ({where})"

    @property
    def home_store(self) -> Path | None:
        """The SQLite file under `home` that is the store, or None when DATABASE_URL is set."""
        return None if self.database_url else self.home / "skillaudit.db"

    def resolved_database_url(self) -> str:
        """The configured database, or the SQLite file under `home`."""
        if self.home_store is None:
            assert self.database_url
            return self.database_url
        from sqlalchemy.engine import URL

        # Built, not formatted: a home holding URL syntax ('?', '%41', '#') must name a folder.
        return URL.create("sqlite", database=str(self.home_store)).render_as_string(
            hide_password=False
        )

    def user_dir(self, external_id: str) -> Path:
        """Where files made for one person (reports, charts, exports) are kept; erased with them."""
        import hashlib
        import re

        readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", external_id).strip("_")[:40] or "user"
        digest = hashlib.sha256(external_id.encode()).hexdigest()[:10]
        return self.home / "users" / f"{readable}-{digest}"

    def index_config(self) -> IndexConfig:
        """Where the vector index lives and which embeddings it uses."""
        from knowledge.index import IndexConfig

        return IndexConfig(
            path=self.home / "chroma",
            host=self.chroma_host,
            port=self.chroma_port,
            embeddings_url=self.embeddings_url,
            embeddings_model=self.embeddings_model,
            embeddings_key=self.openai_api_key.get_secret_value() if self.openai_api_key else None,
        )

    def describe_storage(self, remote: bool = False) -> str:
        """Where personal data is kept, for the first message to a new user (no credentials).

        A remote person is told it is the server that runs the bot, never a path on it.
        """
        if remote:
            kind = make_url_backend(self.database_url) if self.database_url else "SQLite"
            return f"a {kind} database on the server that runs this bot"
        if self.database_url:
            from sqlalchemy.engine import make_url

            url = make_url(self.database_url)
            return f"a {url.get_backend_name()} database ({url.host or 'local'}/{url.database})"
        return f"a SQLite file on this machine ({self.home_store})"


def make_url_backend(url: str) -> str:
    """The database kind of a URL ("postgresql"), without its host or credentials."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).get_backend_name()
    except Exception:  # an unparsable URL is reported where the store opens it
        return "configured"
