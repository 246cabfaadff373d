"""The database: async engine and sessions for the app, Alembic migrations at start."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
import hashlib

from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

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


WRITE_LOCK = "jalerte_write_lock"  # execution option: this transaction will write (SQLite)


def make_engine(url: str) -> AsyncEngine:
    kwargs: dict = {}
    if url.startswith("sqlite"):
        # One writer at a time; waiting beats "database is locked".
        kwargs["connect_args"] = {"timeout": 30}
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _sqlite_transactions(engine)
    return engine


def _sqlite_transactions(engine: AsyncEngine) -> None:
    """WAL (readers never wait for the writer), and BEGIN emitted by us: IMMEDIATE for a
    transaction that will write, so that two processes on one file are serialised when
    the turn starts, not when one of them fails to upgrade its read lock at commit.
    (The recipe of SQLAlchemy's pysqlite/aiosqlite documentation.)"""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN of its own
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten with zeros, not left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_LOCK)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def upsert_insert(dialect: str, table):
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def lock_key(name: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big",
                          signed=True)


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

    async def write_transaction(self, session: AsyncSession, serialise: str) -> None:
        """Starts `session`'s transaction for writing, after every other worker's
        transaction on the same `serialise` name has ended (PostgreSQL: an advisory lock
        released at commit or rollback; SQLite: the database's write lock)."""
        if self.engine.dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                  {"key": lock_key(serialise)})
        else:
            await session.connection(execution_options={WRITE_LOCK: True})

    def insert(self, table):
        """INSERT with ON CONFLICT (upserts), in this database's dialect."""
        return upsert_insert(self.engine.dialect.name, table)

    async def fold_log(self) -> None:
        """SQLite: fold the write-ahead log into the database (where secure_delete has
        zeroed erased rows) and truncate it, so that erased data stays in no file."""
        if self.engine.dialect.name == "sqlite":
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        from storage.inline import close_inline

        close_inline(self)
        await self.engine.dispose()
