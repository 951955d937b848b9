"""Configuration from the environment (and an optional .env file), read once at start."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr
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

    def resolved_database_url(self) -> str:
        """The configured database, or the SQLite file under `home`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'skillaudit.db'}"

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
        )

    def describe_storage(self) -> str:
        """Where personal data is kept, for the first message to a new user (no credentials)."""
        if self.database_url:
            from sqlalchemy.engine import make_url

            url = make_url(self.database_url)
            return f"a {url.get_backend_name()} database ({url.host or 'local'}/{url.database})"
        return f"a SQLite file on this machine ({self.home / 'skillaudit.db'})"
