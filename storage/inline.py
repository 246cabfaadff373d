"""SQLite's hot writes run inline, on the event loop's thread.

Every statement through aiosqlite is a trip to its thread and back: a turn's half-dozen
statements cost about 1.8 ms of CPU in queues, wake-ups and the GIL, when SQLite itself
needs a tenth of that. So a turn and the rate counters, the writes every message makes,
run on a plain (synchronous) SQLAlchemy session in the loop's thread. That is safe only
because nothing there can wait:

- the write lock is taken with `BEGIN IMMEDIATE` and a zero busy timeout; when another
  connection holds it (the async engine, `jalerte purge`), the loop sleeps and tries
  again instead of blocking;
- once it is held, WAL readers never block the writer, so every statement returns in
  microseconds;
- one inline writer at a time (an asyncio lock): a second turn waits on the loop, not
  in SQLite.

PostgreSQL has a real async driver: it keeps the async engine (`inline()` gives None).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, AsyncIterator

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.orm import Session

from storage.hot import SqliteDriver, Write
from storage.paris import register_sqlite

if TYPE_CHECKING:  # the database closes its inline writer: it imports this module
    from storage.db import Database

LOCK_WAIT = 30.0  # seconds, as the async engine's busy timeout


class InlineSession:
    """The AsyncSession methods the turn's code uses, over a synchronous Session: the
    same code runs on both engines."""

    def __init__(self, session: Session):
        self._session = session
        self.bind = session.get_bind()

    async def execute(self, statement, params: Any = None, **kw: Any):
        return self._session.execute(statement, params, **kw)

    async def scalar(self, statement, params: Any = None, **kw: Any):
        return self._session.scalar(statement, params, **kw)

    async def scalars(self, statement, params: Any = None, **kw: Any):
        return self._session.scalars(statement, params, **kw)

    async def get(self, entity, ident, **kw: Any):
        return self._session.get(entity, ident, **kw)

    async def flush(self) -> None:
        self._session.flush()

    async def close(self) -> None:
        self._session.close()

    def add(self, instance: object) -> None:
        self._session.add(instance)


class InlineSQLite:
    def __init__(self, url: str):
        self.engine = create_engine(
            url.replace("+aiosqlite", "+pysqlite", 1),
            connect_args={"timeout": 0},
            hide_parameters=True,
        )
        self._lock = asyncio.Lock()

        @event.listens_for(self.engine, "connect")
        def on_connect(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # BEGIN is ours (below)
            for pragma in (
                "journal_mode=WAL",
                "synchronous=NORMAL",
                "secure_delete=ON",
                "busy_timeout=0",
            ):
                dbapi_connection.execute(f"PRAGMA {pragma}")
            register_sqlite(dbapi_connection)

        @event.listens_for(self.engine, "begin")
        def on_begin(conn) -> None:
            # The write transaction is begun on the driver's connection (`write`);
            # SQLAlchemy's begins within it for the ORM, when a turn needs it.
            if not conn.connection.driver_connection.in_transaction:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        self._connection: Connection | None = None  # one writer: one connection, kept

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Write]:
        """A write transaction, committed at the end (rolled back on an exception): the
        hot statements on sqlite3's connection, an ORM session on the same transaction
        when something needs it (storage.hot). BEGIN and COMMIT go to sqlite3 itself:
        through SQLAlchemy's connection and transaction objects they cost a sixth of
        the bot's CPU under load."""
        async with self._lock:
            if self._connection is None:
                self._connection = self.engine.connect()
            connection = self._connection
            raw = connection.connection.driver_connection
            await self._begin(raw)
            orm = []

            def session() -> InlineSession:
                connection.begin()  # SQLAlchemy's, within ours (on_begin emits nothing)
                orm.append(
                    Session(
                        bind=connection,
                        join_transaction_mode="rollback_only",
                        expire_on_commit=False,
                    )
                )
                return InlineSession(orm[0])

            write = Write(SqliteDriver(raw), session)
            try:
                yield write
                await write.flush()
                if orm:
                    connection.commit()  # sqlite3's commit: ours
                else:
                    raw.execute("COMMIT")
            except BaseException:
                if orm:
                    connection.rollback()  # sends nothing if its COMMIT failed…
                if raw.in_transaction:  # …so that sqlite3's own state decides
                    raw.execute("ROLLBACK")
                raise
            finally:
                await write.close()

    async def _begin(self, raw: sqlite3.Connection) -> None:
        pause, deadline = 0.0005, time.monotonic() + LOCK_WAIT
        if raw.in_transaction:  # never expected: a write that could not end its own
            raw.execute("ROLLBACK")
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")  # fails at once if the lock is held
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()


_INLINE: weakref.WeakKeyDictionary[Database, InlineSQLite] = weakref.WeakKeyDictionary()


def inline(db: Database) -> InlineSQLite | None:
    """The database's inline writer (SQLite), made on first use; None on PostgreSQL or
    an in-memory SQLite database (each connection would see its own)."""
    if db.engine.dialect.name != "sqlite" or ":memory:" in db.url or db.url.endswith("///"):
        return None
    found = _INLINE.get(db)
    if found is None:
        found = _INLINE[db] = InlineSQLite(db.url)
    return found


def close_inline(db: Database) -> None:
    found = _INLINE.pop(db, None)
    if found is not None:
        found.close()
