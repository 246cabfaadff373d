"""The database: async engine and sessions for the app, Alembic migrations at start, and
elections (work that one process among all those on the database does)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
from pathlib import Path
from typing import Awaitable, Callable

from alembic import command
from alembic.config import Config as AlembicConfig
import hashlib

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from storage.hot import upsert_insert
from storage.paris import register_sqlite
from storage.private import private_dir, private_file, tighten

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def ensure_sqlite_dir(url: str) -> None:
    """Creates the folder (0700) and the file (0600) of a SQLite database, so that a first
    run just works and no other local account reads it: SQLite would make the file 0644
    (less the umask), and gives its -wal and -shm files the database file's mode. Files
    an earlier version left readable by others are narrowed, and that is logged."""
    prefix = "sqlite+aiosqlite:///"
    name = url[len(prefix) :] if url.startswith(prefix) else ""
    if name and name != ":memory:" and not name.startswith("file:"):
        path = Path(name)
        private_dir(path.parent)
        private_file(path)
        tighten(path, *(path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal")))


FOLD_RETRY = 1.0  # seconds between tries to fold SQLite's log after an erasure
WRITE_LOCK = "jalerte_write_lock"  # execution option: this transaction will write (SQLite)


# Connections each server process keeps to PostgreSQL (JALERTE_DATABASE_POOL_SIZE), and
# never more: beyond them a statement waits for one to come back. SQLAlchemy's overflow
# (connections opened beyond the pool and closed at once when given back) cost, under
# load, a PostgreSQL process, a handshake and cold caches per message beyond the pool:
# bench/load.py saw 60 to 100 connections opened in 20 s. Waiting is safe because
# nothing holds a connection while it asks for another (tests/test_workers.py runs turns
# on a pool of one); what must not wait, or holds one long, uses `Database.unpooled`.
# README's « Deploying on several hosts » sizes max_connections.
POOL_SIZE = 20


def make_engine(url: str, pool_size: int = POOL_SIZE) -> AsyncEngine:
    kwargs: dict = {}
    ensure_sqlite_dir(url)
    if url.startswith("sqlite"):
        # One writer at a time; waiting beats "database is locked".
        kwargs["connect_args"] = {"timeout": 30}
    elif url.startswith("postgresql"):
        kwargs.update(pool_size=pool_size, max_overflow=0)
    # What people wrote never reaches a log through a failed statement's parameters.
    engine = create_async_engine(url, hide_parameters=True, **kwargs)
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
        register_sqlite(dbapi_connection)  # paris_month(): months as the regulator counts

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_LOCK)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def lock_key(name: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


async def upgrade_engine(engine: AsyncEngine) -> None:
    """Applies every pending migration through the app's own async driver. On PostgreSQL
    under an advisory lock held to the end of the transaction: hosts started at once
    migrate one after the other (the second finds nothing left to do) instead of both
    creating the same tables."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key("migrations")}
            )
        await conn.run_sync(_upgrade_unless_newer)


def _upgrade_unless_newer(sync: Connection) -> None:
    """To the code's head; nothing when the database is already at a revision this code
    does not know: a newer release migrated it during a rolling deploy (migrations only
    expand), and this host must still start until its turn to be upgraded."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = alembic_config(sync)
    current = MigrationContext.configure(sync).get_current_revision()
    if current is not None:
        try:
            ScriptDirectory.from_config(config).get_revision(current)
        except CommandError:
            log.warning(
                "the database is at revision %s, newer than this release's: not migrated "
                "(a newer release is being deployed)",
                current,
            )
            return
    command.upgrade(config, "head")


async def upgrade(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade_engine(engine)
    finally:
        await engine.dispose()


class Database:
    """Owns the async engine; `session()` opens one unit of work."""

    def __init__(self, url: str, pool_size: int = POOL_SIZE):
        if pool_size < 1:
            raise ValueError(f"a database pool holds at least 1 connection, not {pool_size}")
        self.url = url
        self.engine = make_engine(url, pool_size)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)
        self._folding: asyncio.Task[None] | None = None
        self._unpooled: AsyncEngine | None = None

    @property
    def unpooled(self) -> AsyncEngine:
        """PostgreSQL: an engine whose connections are opened for one use and closed,
        outside the pool (which never grows: POOL_SIZE), for what must not wait behind
        turns for a pooled connection (the health check) or would hold one for long (a
        streamed export). SQLite: the engine itself."""
        if self.engine.dialect.name != "postgresql":
            return self.engine
        if self._unpooled is None:
            self._unpooled = create_async_engine(self.url, poolclass=NullPool, hide_parameters=True)
        return self._unpooled

    def unpooled_session(self) -> AsyncSession:
        return AsyncSession(self.unpooled, expire_on_commit=False)

    @classmethod
    async def open(cls, url: str, migrate: bool = True, pool_size: int = POOL_SIZE) -> "Database":
        db = cls(url, pool_size)
        if migrate:
            await upgrade_engine(db.engine)
        return db

    async def write_transaction(self, session: AsyncSession, serialise: str) -> None:
        """Starts `session`'s transaction for writing, after every other worker's
        transaction on the same `serialise` name has ended (PostgreSQL: an advisory lock
        released at commit or rollback; SQLite: the database's write lock)."""
        if self.engine.dialect.name == "postgresql":
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(serialise)}
            )
        else:
            await session.connection(execution_options={WRITE_LOCK: True})

    async def warm(self) -> None:
        """PostgreSQL: opens the pool's connections before the server takes
        people. Otherwise the first dozen people after a start (a rolling deploy sends a
        restarted host its share at once) each waited for a connection's handshake and
        the driver's set-up, on a host busy with all of them: bench/load.py's slowest
        turns were all in its first half-second."""
        if self.engine.dialect.name != "postgresql":
            return
        opened = await asyncio.gather(
            *(self.engine.connect().start() for _ in range(self.engine.pool.size())),  # type: ignore[attr-defined]
            return_exceptions=True,
        )
        for connection in opened:
            if isinstance(connection, BaseException):  # the first turns will open it
                log.warning("could not open a database connection ahead: %s", connection)
            else:
                await connection.close()  # back to the pool, which keeps it

    def insert(self, table):
        """INSERT with ON CONFLICT (upserts), in this database's dialect."""
        return upsert_insert(self.engine.dialect.name, table)

    async def fold_log(self) -> None:
        """SQLite: fold the write-ahead log into the database (where secure_delete has
        zeroed erased rows) and truncate it, so that erased data stays in no file.

        A reader still on an older snapshot (a staff export being downloaded) keeps the
        log from being folded past it: then it is tried again every FOLD_RETRY seconds,
        in the background, until it succeeds."""
        if self.engine.dialect.name != "sqlite" or await self._checkpoint():
            return
        if self._folding is None or self._folding.done():
            self._folding = asyncio.create_task(self._fold_later(), name="fold the SQLite log")

    async def _checkpoint(self) -> bool:
        """True when the whole log went into the database and the log is empty."""
        async with self.engine.connect() as conn:
            busy, _log, _done = (
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            ).one()
        return busy == 0

    async def _fold_later(self) -> None:
        while True:
            await asyncio.sleep(FOLD_RETRY)
            try:
                if await self._checkpoint():
                    return
            except Exception:  # closing, or the file is busy: the next try will tell
                log.debug("folding the SQLite log failed", exc_info=True)

    async def close(self) -> None:
        from storage.inline import close_inline

        if self._folding is not None:
            self._folding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._folding
        close_inline(self)
        await self.engine.dispose()
        if self._unpooled is not None:
            await self._unpooled.dispose()


class Election:
    """Work that must run in one process at a time among all those on this database
    (Telegram long polling: Telegram answers 409 to a second poller of a token; the daily
    retention purge), held by whichever process the database elects rather than by a
    worker number: a holder that dies (kill -9, a lost machine) is replaced within about
    `every` seconds, and two `jalerte run` started apart on one database never both hold it.

    PostgreSQL: a session-level `pg_try_advisory_lock` on a connection of the election's
    own, kept open; PostgreSQL releases the lock when the process dies or the connection
    drops. The others try again every `every` seconds. The holder checks its connection
    as often (asyncpg also tells it at once when the server closes it) and steps down as
    soon as it is gone, since another process may win the lock from then on. The lock is
    a session's: a pooler in transaction mode (pgbouncer) between the bot and PostgreSQL
    would break it. SQLite (one machine by design): an exclusive `flock` on a file beside
    the database, which the kernel releases when the process dies; an in-memory database
    belongs to one process, which always holds it.

    `lead` starts the work once elected; `step_down` stops it, and is awaited before the
    lock is released (at `stop()` too), so that the next holder starts after it.
    """

    def __init__(
        self,
        db: Database,
        name: str,
        lead: Callable[[], Awaitable[None]],
        step_down: Callable[[], Awaitable[None]],
        every: float = 5.0,
    ):
        self.name = name
        self.every = every
        self.leading = False
        self._url = db.url
        self._postgres = db.engine.dialect.name == "postgresql"
        self._lead, self._step_down = lead, step_down
        self._key = lock_key(f"election:{name}")
        self._engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None
        self._driver: object | None = None  # asyncpg's connection, for its termination listener
        self._file: int | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def timeout(self) -> float:
        """For one round trip to the database: a connection that hangs longer is lost."""
        return max(self.every, 5.0)

    async def start(self) -> None:
        """A first round now (a lone process leads before its server listens), then one
        every `every` seconds in the background."""
        await self._round()
        self._task = asyncio.create_task(self._rounds(), name=f"election: {self.name}")

    async def stop(self) -> None:
        """Steps down (the work stops first), then lets another process take over."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 2 * self.timeout)
            except asyncio.TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self._resign()
        if self._engine is not None:
            await self._engine.dispose()

    async def _rounds(self) -> None:
        while not self._stopping:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.every)
            self._wake.clear()
            if not self._stopping:
                await self._round()

    async def _round(self) -> None:
        try:
            if not self.leading:
                if await asyncio.wait_for(self._acquire(), self.timeout):
                    await self._take_lead()
            elif not await self._held():
                log.warning("%s: the database lock is lost; stepping down", self.name)
                await self._resign(lost=True)
        except Exception:  # the database does not answer: the next round tries again
            log.warning("%s: election round failed", self.name, exc_info=True)
            await self._resign(lost=True)

    async def _take_lead(self) -> None:
        self.leading = True
        log.info("%s: elected", self.name)
        try:
            await self._lead()
        except Exception:
            log.exception("%s: could not start; another process may try", self.name)
            await self._resign()

    async def _resign(self, lost: bool = False) -> None:
        """Stops the work if it runs, then releases the lock."""
        if self.leading:
            self.leading = False
            try:
                await self._step_down()
            except Exception:
                log.exception("%s: stepping down failed", self.name)
        await self._release(abort=lost)

    # -- the lock -------------------------------------------------------------------------

    async def _acquire(self) -> bool:
        if not self._postgres:
            return self._lock_file()
        if self._conn is None:
            self._conn = await self._connect()
        return bool(
            await self._conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
        )

    async def _connect(self) -> AsyncConnection:
        if self._engine is None:
            # Never pooled: closing this connection must end its session, and the lock.
            self._engine = create_async_engine(self._url, poolclass=NullPool, hide_parameters=True)
        conn = await self._engine.connect()
        try:
            # No transaction stays open for hours on it (vacuum, idle-in-transaction limits).
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            # A client gone without a word (a machine lost) is noticed by the server within
            # about 25 s, which then releases the lock, rather than after the system's 2 h.
            for setting, value in (
                ("tcp_keepalives_idle", "10"),
                ("tcp_keepalives_interval", "5"),
                ("tcp_keepalives_count", "3"),
            ):
                await conn.execute(
                    text("SELECT set_config(:name, :value, false)"),
                    {"name": setting, "value": value},
                )
            driver = (await conn.get_raw_connection()).driver_connection
            if hasattr(driver, "add_termination_listener"):  # asyncpg: told at once
                driver.add_termination_listener(self._terminated)
                self._driver = driver
        except BaseException:
            await conn.close()
            raise
        return conn

    def _terminated(self, _connection: object) -> None:
        self._wake.set()  # the next round runs now and finds the connection gone

    async def _held(self) -> bool:
        if not self._postgres:
            return True  # a flock lasts as long as its file stays open
        if self._conn is None:
            return False
        try:
            await asyncio.wait_for(self._conn.execute(text("SELECT 1")), self.timeout)
        except Exception:
            return False
        return True

    def _lock_path(self) -> Path | None:
        database = make_url(self._url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        return Path(f"{database}.{slug}.lock")

    def _lock_file(self) -> bool:
        path = self._lock_path()
        if path is None or self._file is not None:
            return True
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._file = fd
        return True

    async def _release(self, abort: bool = False) -> None:
        """Ends the lock's session (PostgreSQL) or closes its file (SQLite). `abort`: the
        connection may hang, so it is cut rather than closed politely."""
        conn, self._conn = self._conn, None
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.remove_termination_listener(self._terminated)  # type: ignore[attr-defined]
        if conn is not None:
            try:
                if abort:
                    await conn.invalidate()
                await asyncio.wait_for(conn.close(), self.timeout)
            except Exception:
                log.debug("%s: closing the lock's connection failed", self.name, exc_info=True)
        if self._file is not None:
            os.close(self._file)
            self._file = None
