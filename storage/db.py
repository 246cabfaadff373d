"""The database: async engine and sessions for the app, Alembic migrations at start."""
from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def sync_url(url: str) -> str:
    """The synchronous driver URL Alembic uses for the same database."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg2")


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def ensure_sqlite_dir(url: str) -> None:
    """Creates the folder of a SQLite file so a first run just works."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and url[len(prefix):] not in ("", ":memory:"):
        Path(url[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)


def upgrade(url: str) -> None:
    """Applies every pending migration (blocking: call it from a thread)."""
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), "head")


class Database:
    """Owns the async engine; `session()` opens one unit of work."""

    def __init__(self, url: str):
        ensure_sqlite_dir(url)
        self.url = url
        kwargs = {"future": True}
        if url.startswith("sqlite"):
            # One writer at a time; waiting beats "database is locked".
            kwargs["connect_args"] = {"timeout": 30}
        self.engine = create_async_engine(url, **kwargs)
        self.session = sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @classmethod
    async def open(cls, url: str, migrate: bool = True) -> "Database":
        if migrate:
            await asyncio.get_running_loop().run_in_executor(None, upgrade, url)
        return cls(url)

    async def close(self) -> None:
        await self.engine.dispose()
