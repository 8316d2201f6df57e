"""copbot's configuration, read from the environment or a `.env` file."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./copbot.db"
SUPPORTED_DATABASES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Every setting copbot reads; names are the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias=_env("COPBOT_DATABASE_URL"))
    host: str = Field("127.0.0.1", validation_alias=_env("COPBOT_HOST"))
    port: int = Field(3000, ge=0, le=65535, validation_alias=_env("COPBOT_PORT"))
    timezone: str = Field("UTC", validation_alias=_env("COPBOT_TIMEZONE"))
    log_level: str = Field("INFO", validation_alias=_env("COPBOT_LOG_LEVEL"))
    # The base of every link copbot shows (calendar feeds, "Add to calendar"); by default the
    # HTTP server's own address, which only works on this machine.
    public_url: str | None = Field(None, validation_alias=_env("COPBOT_PUBLIC_URL"))
    access_log: bool = Field(False, validation_alias=_env("COPBOT_ACCESS_LOG"))
    # Where the console writes files it is handed (a steward's `export`).
    export_dir: str = Field(".", validation_alias=_env("COPBOT_EXPORT_DIR"))
    # The key of anonymous voters' hashes; without it copbot makes one and keeps it in the
    # database (kept elsewhere, a copy of the database alone cannot tell who voted what).
    secret_key: SecretStr | None = Field(None, validation_alias=_env("COPBOT_SECRET_KEY"))

    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))
    slack_client_id: str | None = Field(None, validation_alias=_env("SLACK_CLIENT_ID"))
    slack_client_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_CLIENT_SECRET")
    )

    teams_app_id: str | None = Field(None, validation_alias=_env("TEAMS_APP_ID"))
    teams_app_password: SecretStr | None = Field(None, validation_alias=_env("TEAMS_APP_PASSWORD"))
    teams_app_tenant_id: str | None = Field(None, validation_alias=_env("TEAMS_APP_TENANT_ID"))
    teams_allow_unauthenticated: bool = Field(
        False, validation_alias=_env("COPBOT_TEAMS_ALLOW_UNAUTHENTICATED")
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(SUPPORTED_DATABASES):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg://, got " + repr(value)
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (try Europe/Berlin or UTC)") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {value!r} (DEBUG, INFO, WARNING or ERROR)")
        return level

    @property
    def base_url(self) -> str:
        """COPBOT_PUBLIC_URL, or the HTTP server's address when it is not set."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None or self.slack_client_id is not None

    @property
    def teams_configured(self) -> bool:
        return bool(self.teams_app_id) or self.teams_allow_unauthenticated


class SettingsError(Exception):
    """A setting has a value copbot cannot use; the message is one line for the operator."""


def _env_name(field: str) -> str:
    """The environment variable a settings field is read from (`timezone` -> COPBOT_TIMEZONE)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices) and alias.choices:
        return str(alias.choices[0])
    return field.upper()


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one clear line per bad value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = _env_name(str(error["loc"][0])) if error["loc"] else "setting"
            problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
        raise SettingsError("bad configuration: " + "; ".join(problems)) from None
