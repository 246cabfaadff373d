"""The database: async engine and sessions for the app, Alembic migrations at start."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def ensure_sqlite_dir(url: str) -> None:
    """Creates the folder of a SQLite file so a first run just works."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and url[len(prefix):] not in ("", ":memory:"):
        Path(url[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str) -> AsyncEngine:
    kwargs: dict = {}
    if url.startswith("sqlite"):
        # One writer at a time; waiting beats "database is locked".
        kwargs["connect_args"] = {"timeout": 30}
    return create_async_engine(url, **kwargs)


async def upgrade_engine(engine: AsyncEngine) -> None:
    """Applies every pending migration through the app's own async driver."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))


async def upgrade(url: str) -> None:
    ensure_sqlite_dir(url)
    engine = make_engine(url)
    try:
        await upgrade_engine(engine)
    finally:
        await engine.dispose()


class Database:
    """Owns the async engine; `session()` opens one unit of work."""

    def __init__(self, url: str):
        ensure_sqlite_dir(url)
        self.url = url
        self.engine = make_engine(url)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    async def open(cls, url: str, migrate: bool = True) -> "Database":
        db = cls(url)
        if migrate:
            await upgrade_engine(db.engine)
        return db

    async def close(self) -> None:
        await self.engine.dispose()
