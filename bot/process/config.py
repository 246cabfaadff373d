"""Configuration: read once from `JALERTE_*` environment variables, then passed down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from bot.channels.web.clients import AddressLimits, IpNetwork, trusted_proxies

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database_url: str
    model_path: Path
    build_dir: Path
    log_level: str
    log_format: str = "text"  # or "json": one object per line, never what people wrote
    secret_key: str | None = None
    public_url: str = "https://jalerte.arcep.fr"
    host: str = "127.0.0.1"
    port: int = 8080
    web_allowed_origins: tuple[str, ...] = ("*",)
    web_max_connections: int = 200
    web_messages_per_minute: int = 30
    # A socket with no frame from the person for this long is closed (0: never); the
    # widget opens it again, same session, at the person's next action.
    web_idle_seconds: float = 600.0
    # Limits per client address, and the reverse proxies whose X-Forwarded-For is believed.
    web_address_limits: AddressLimits = AddressLimits()
    trusted_proxies: tuple[IpNetwork, ...] = ()
    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    # Seconds between a process's tries to become the Telegram poller (one among all).
    telegram_poller_retry: float = 5.0
    staff_secure_cookies: bool = True
    # The bearer token Prometheus sends to read /metrics; without it /metrics is 404.
    metrics_token: str | None = None
    # Staff accounts allowed to retrain the NLU model from the console (/staff/model).
    staff_admins: frozenset[str] = frozenset()
    # Where the NLU runs: "service" (a parse service this process starts and supervises)
    # or the URL of a running `jalerte-nlu serve` (http://127.0.0.1:5055 or
    # unix:/path/to/nlu.sock), which several bot workers may share. Rasa never runs in
    # the bot's process.
    nlu: str = "service"
    # The NLU environment's interpreter (Python 3.10 with Rasa): trains, evaluates and
    # serves the model.
    nlu_python: Path = PROJECT_DIR / ".venv-nlu" / "bin" / "python"
    # Retention (storage/retention.py): transcripts, drafts and photos; alerts' free text.
    retention_transcript_days: int = 90
    retention_free_text_days: int = 365
    # `jalerte run --workers N` (or JALERTE_WORKERS): how many server processes; each one
    # it starts gets its number (JALERTE_WORKER, "0" first), None in a single process.
    workers: int = 1
    worker: str | None = None
    # PostgreSQL: connections each server process keeps (storage.db.POOL_SIZE).
    database_pool_size: int = 20

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        """Builds the configuration from `environ` (normally `os.environ`)."""
        data_dir = Path(environ.get("JALERTE_DATA_DIR") or "./data").expanduser()
        database_url = environ.get("JALERTE_DATABASE_URL") or (
            f"sqlite+aiosqlite:///{(data_dir / 'jalerte.db').resolve()}"
        )
        model_path = Path(
            environ.get("JALERTE_MODEL_PATH") or PROJECT_DIR / "models" / "nlu.tar.gz"
        ).expanduser()
        build_dir = Path(environ.get("JALERTE_BUILD_DIR") or PROJECT_DIR / "build").expanduser()
        log_level = (environ.get("JALERTE_LOG_LEVEL") or "WARNING").upper()
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            model_path=model_path,
            build_dir=build_dir,
            log_level=log_level,
            log_format=(environ.get("JALERTE_LOG_FORMAT") or "text").lower(),
            secret_key=environ.get("JALERTE_SECRET_KEY") or None,
            public_url=environ.get("JALERTE_PUBLIC_URL") or "https://jalerte.arcep.fr",
            host=environ.get("JALERTE_HOST") or "127.0.0.1",
            port=int(environ.get("JALERTE_PORT") or 8080),
            web_allowed_origins=tuple(
                o.strip().rstrip("/")
                for o in (environ.get("JALERTE_WEB_ALLOWED_ORIGINS") or "*").split(",")
                if o.strip()
            ),
            web_max_connections=int(environ.get("JALERTE_WEB_MAX_CONNECTIONS") or 200),
            web_messages_per_minute=int(environ.get("JALERTE_WEB_MESSAGES_PER_MINUTE") or 30),
            web_idle_seconds=float(environ.get("JALERTE_WEB_IDLE_SECONDS") or 600),
            web_address_limits=AddressLimits.from_env(environ),
            trusted_proxies=trusted_proxies(environ.get("JALERTE_TRUSTED_PROXIES")),
            telegram_token=environ.get("JALERTE_TELEGRAM_TOKEN") or None,
            telegram_api_url=(
                environ.get("JALERTE_TELEGRAM_API_URL") or "https://api.telegram.org"
            ).rstrip("/"),
            telegram_webhook_url=environ.get("JALERTE_TELEGRAM_WEBHOOK_URL") or None,
            telegram_webhook_secret=environ.get("JALERTE_TELEGRAM_WEBHOOK_SECRET") or None,
            telegram_poller_retry=float(environ.get("JALERTE_TELEGRAM_POLLER_RETRY") or 5.0),
            staff_secure_cookies=(environ.get("JALERTE_STAFF_SECURE_COOKIES") or "true").lower()
            not in ("0", "false", "no"),
            metrics_token=environ.get("JALERTE_METRICS_TOKEN") or None,
            staff_admins=frozenset(
                name.strip()
                for name in (environ.get("JALERTE_STAFF_ADMINS") or "").split(",")
                if name.strip()
            ),
            nlu=environ.get("JALERTE_NLU") or "service",
            retention_transcript_days=int(environ.get("JALERTE_RETENTION_TRANSCRIPT_DAYS") or 90),
            retention_free_text_days=int(environ.get("JALERTE_RETENTION_FREE_TEXT_DAYS") or 365),
            nlu_python=Path(
                environ.get("JALERTE_NLU_PYTHON") or PROJECT_DIR / ".venv-nlu" / "bin" / "python"
            ),
            workers=int(environ.get("JALERTE_WORKERS") or 1),
            database_pool_size=int(environ.get("JALERTE_DATABASE_POOL_SIZE") or 20),
            worker=environ.get("JALERTE_WORKER") or None,
        )

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def shared_database(self) -> bool:
        """PostgreSQL: the database several hosts (or workers) share."""
        return self.database_url.startswith("postgresql")

    def missing_secret(self) -> str | None:
        """Why this configuration cannot sign sessions the same way on every host."""
        if self.shared_database and not self.secret_key:
            return (
                "JALERTE_SECRET_KEY is required with PostgreSQL: every host of a shared "
                "database must sign sessions with the same key (at least 32 characters, "
                "e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')."
            )
        return None
