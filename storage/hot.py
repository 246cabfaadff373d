"""The statements every message runs, on the driver's own connection.

Through SQLAlchemy, one statement costs about 0.2 ms of CPU (its compiled cache's
lookups, an execution context, a result object, and on PostgreSQL two greenlet
switches), where sqlite3 or asyncpg need a tenth of that; a message makes half a
dozen. Profiled under load (bench/load.py), SQLAlchemy was half of the bot's CPU on
SQLite and 40 % on PostgreSQL. So the turn's frequent statements (the rate counters, the
conversation read and written, the transcript's lines) are compiled here once by
SQLAlchemy for the engine's own dialect and run on the driver connection of the turn's
transaction: the SQL, the parameters' order and their conversions (JSON, dates) are
SQLAlchemy's own, so what is written here reads back through the ORM as anything else
(tests/test_hot.py proves it on both engines). The rest of the transaction (saving an
alert, erasing a person) goes through the ORM, in a session joined to the same
transaction (`Write.session`).
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, AsyncIterator, Mapping, Sequence

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    true,
    insert,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Dialect

from storage.models import (
    Alert,
    AlertCount,
    AlertOperator,
    AlertPhoto,
    Conversation,
    Counter,
    Message,
    Photo,
)


def upsert_insert(dialect: str, table: Any) -> Any:
    """INSERT with ON CONFLICT (upserts), in this dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class Statement:
    """One statement compiled for a dialect: its SQL, and its parameters in order with
    the conversions SQLAlchemy's column types make (JSON to text, dates on SQLite)."""

    def __init__(self, statement: Any, dialect: Dialect, keys: Sequence[str] | None = None):
        self.statement = statement
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        self.sql = compiled.string
        processors = compiled._bind_processors  # what Connection.execute would apply
        self._order = [(name, processors.get(name)) for name in compiled.positiontup or ()]

    def args(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            convert(params[name]) if convert is not None else params[name]
            for name, convert in self._order
        )


_C = Conversation.__table__.c
_M = Message.__table__.c
# A conversation row's version: PostgreSQL's xmin (the transaction that wrote this
# version of the row; any UPDATE makes a new one), as text.
_VERSION = literal_column("conversations.xmin::text")
_COUNT_KEY = ("month", "operator", "category", "sector", "user_type", "channel")
_STATE_KEYS = ("state", "language", "user_key", "updated_at")
_MESSAGE_KEYS = (
    "conversation_id", "sender", "kind", "text", "payload", "nlu", "attachments",
    "created_at", "step", "marks",
)  # fmt: skip


def _adding_counts(upsert: Any) -> Any:
    """An INSERT into alert_counts that adds to the rows already there."""
    table = AlertCount.__table__
    return upsert.on_conflict_do_update(
        index_elements=[table.c[key] for key in _COUNT_KEY],
        set_={
            "count": table.c.count + upsert.excluded.count,
            "alerts": table.c.alerts + upsert.excluded.alerts,
        },
    )


_NEXT_CONVERSATION_ID = literal_column("nextval(pg_get_serial_sequence('conversations', 'id'))")


def _reading(next_id: Any) -> Any:
    """PostgreSQL: the person's conversation row, or for a person who has none a row
    with `next_id` (absent: true); see HotStatements.read_conversation."""
    where = (_C.channel == bindparam("channel"), _C.user_key == bindparam("key"))
    return union_all(
        select(_C.id, _C.user_key, _C.state, _C.language, false(), _VERSION.label("version")).where(
            *where
        ),
        select(
            next_id,
            bindparam("key", type_=_C.user_key.type),
            null(),
            literal_column("'fr'"),
            true(),
            null(),
        ).where(~exists(select(_C.id).where(*where))),
    )


class HotStatements:
    """The turn's frequent statements, for one dialect."""

    def __init__(self, dialect: Dialect):
        self.dialect = dialect.name
        self._dialect = dialect
        # FOR UPDATE (PostgreSQL; SQLite has its write lock): any worker may take this
        # person's next message, one turn at a time, each reading what the previous
        # one committed (a statement that waited for the row reads its latest version).
        self.find_conversation = Statement(
            select(_C.id, _C.user_key, _C.state, _C.language)
            .where(_C.channel == bindparam("channel"), _C.user_key == bindparam("key"))
            .with_for_update(),
            dialect,
        )
        # Returns the new row (locked: the turn's own, until it commits), or nothing when
        # another turn created it first.
        creating = (
            upsert_insert(dialect.name, Conversation.__table__)
            .on_conflict_do_nothing(index_elements=[_C.channel, _C.user_key])
            .returning(_C.id, _C.user_key, _C.state, _C.language)
        )
        new_row = ("channel", "user_key", "state", "language", "created_at", "updated_at")
        self.create_conversation = Statement(creating, dialect, new_row)
        # The same with the id read_conversation reserved (PostgreSQL).
        self.create_reserved = Statement(creating, dialect, ("id", *new_row))
        if dialect.name == "postgresql":
            self.find_or_create: Statement | None = self._find_or_create()
            # Read without a lock: (id, user_key, state, language, absent, version),
            # the version (xmin: any UPDATE makes a new one) being what the turn's last
            # statement checks (write_turn's `guarded`). A person who has none gets
            # the id of the one their turn's last statement will create (absent: true).
            self.read_conversation: Statement | None = Statement(
                _reading(_NEXT_CONVERSATION_ID), dialect
            )
            # Locks the conversation if it is still the version the turn read.
            self.lock_unchanged: Statement | None = Statement(
                select(_C.id)
                .where(_C.id == bindparam("cid"), _VERSION == bindparam("version"))
                .with_for_update(),
                dialect,
            )
        else:  # SQLite: no data-modifying WITH (and no round trips to save)
            self.find_or_create = self.read_conversation = self.lock_unchanged = None
        self.update_conversation = Statement(
            update(Conversation.__table__).where(_C.id == bindparam("cid")),
            dialect,
            _STATE_KEYS,
        )
        self._messages: dict[tuple[int, bool], Statement] = {}
        self._turns: dict[tuple[int, int, int, str], Statement] = {}
        self.last_message = Statement(
            select(func.max(Message.__table__.c.id)).where(
                Message.__table__.c.conversation_id == bindparam("cid")
            ),
            dialect,
        )
        # Saving an alert (storage.repository.TurnRecord.save_alert).
        self.insert_alert, self.insert_alert_operator, self.insert_alert_photo = (
            Statement(insert(table).inline(), dialect, [c.key for c in table.columns])
            for table in (Alert.__table__, AlertOperator.__table__, AlertPhoto.__table__)
        )
        photos = Photo.__table__
        self.find_photo = Statement(
            select(photos).where(photos.c.sha256 == bindparam("sha256")), dialect
        )
        # The same picture saved by two people at once: the second row is not needed.
        self.insert_photo = Statement(
            upsert_insert(dialect.name, photos).on_conflict_do_nothing(
                index_elements=[photos.c.sha256]
            ),
            dialect,
            [c.key for c in photos.columns],
        )
        counts = AlertCount.__table__
        self.count_alert = Statement(
            _adding_counts(upsert_insert(dialect.name, counts)),
            dialect,
            [c.key for c in counts.columns],
        )
        self._counts: dict[int, Statement] = {}
        self._read_counting: dict[int, Statement] = {}
        counters = Counter.__table__
        self.sweep_counters = Statement(
            delete(counters).where(counters.c.window < bindparam("before")), dialect
        )

    def _find_or_create(self) -> Statement:
        """PostgreSQL: the person's conversation read and locked (FOR UPDATE), else
        created (the row is the turn's own until it commits), in one round trip: (id,
        user_key, state, language, created, version). Nothing comes back only when
        another turn created the row meanwhile."""
        found = (
            select(_C.id, _C.user_key, _C.state, _C.language, _VERSION.label("version"))
            .where(_C.channel == bindparam("channel"), _C.user_key == bindparam("key"))
            .with_for_update()
        )
        found_cte = found.cte("found")
        values = {
            key: bindparam(f"new_{key}", type_=_C[key].type)
            for key in ("channel", "user_key", "state", "language", "created_at", "updated_at")
        }
        created = (
            upsert_insert(self.dialect, Conversation.__table__)
            .from_select(
                list(values), select(*values.values()).where(~exists(select(found_cte.c.id)))
            )
            .on_conflict_do_nothing(index_elements=[_C.channel, _C.user_key])
            .returning(_C.id, _C.user_key, _C.state, _C.language, _VERSION.label("version"))
            .cte("created")
        )
        columns = ("id", "user_key", "state", "language")
        return Statement(
            union_all(
                select(*(found_cte.c[c] for c in columns), false(), found_cte.c.version),
                select(*(created.c[c] for c in columns), true(), created.c.version),
            ),
            self._dialect,
        )

    def insert_messages(self, rows: int, returning: bool = False) -> Statement:
        """`rows` transcript lines in one INSERT (one round trip; asyncpg's executemany
        costs a statement per row): parameters KEY_N for each of _MESSAGE_KEYS;
        `returning`: their ids."""
        found = self._messages.get((rows, returning))
        if found is None:
            lines = insert(Message.__table__).values(
                [
                    {key: bindparam(f"{key}_{n}", type_=_M[key].type) for key in _MESSAGE_KEYS}
                    for n in range(rows)
                ]
            )
            if returning:
                lines = lines.returning(_M.id)
            found = self._messages[(rows, returning)] = Statement(lines, self._dialect)
        return found

    def write_turn(
        self, rows: int, operators: int = -1, counts: int = 0, guarded: str = ""
    ) -> Statement:
        """PostgreSQL: `rows` transcript lines and the conversation's new state in one
        statement (a data-modifying WITH), one round trip instead of two; with an alert
        when `operators` >= 0 (its row, `operators` rows of alert_operators, `counts`
        rows of the dashboard's counts: parameters alert_KEY, op_KEY_N, cnt_KEY_N), one
        round trip instead of four or more. The sub-statements of one WITH see none of
        each other's rows, and need not: none reads what another writes (the foreign
        keys are checked at the statement's end, when every row is in).

        `guarded`, outside a transaction: "update" writes the state only if the row is
        still at `version` (read_conversation); "insert" creates the conversation (id
        `cid`, read_conversation's) only if nobody did meanwhile. If not, the statement
        fails on a division by zero, so that none of its sub-statements is kept (they
        all run whatever the guard finds): the caller's TurnConflict."""
        shape = (rows, operators, counts, guarded)
        found = self._turns.get(shape)
        if found is None:
            values = {key: bindparam(key, type_=_C[key].type) for key in _STATE_KEYS}
            state: Any = self.update_conversation.statement.values(values)
            if guarded == "update":
                state = state.where(_VERSION == bindparam("version")).returning(_C.id)
            elif guarded == "insert":
                state = (
                    upsert_insert(self.dialect, Conversation.__table__)
                    .values(
                        id=bindparam("cid", type_=_C.id.type),
                        channel=bindparam("channel", type_=_C.channel.type),
                        created_at=bindparam("updated_at", type_=_C.created_at.type),
                        **values,
                    )
                    .on_conflict_do_nothing(index_elements=[_C.channel, _C.user_key])
                    .returning(_C.id)
                )
            ctes = []
            if rows:
                ctes.append(self.insert_messages(rows).statement.cte("written"))
            if operators >= 0:
                ctes.extend(self._alert_ctes(operators, counts))
            if guarded:
                written = state.cte("turn_state")
                statement: Any = select(literal_column("1 / count(*)")).select_from(written)
            else:
                statement = state
            for cte in ctes:
                statement = statement.add_cte(cte)
            found = self._turns[shape] = Statement(statement, self._dialect)
        return found

    def _alert_ctes(self, operators: int, counts: int) -> list[Any]:
        alerts, links = Alert.__table__, AlertOperator.__table__
        ctes = [
            insert(alerts)
            .values({c.key: bindparam(f"alert_{c.key}", type_=c.type) for c in alerts.columns})
            .cte("alert")
        ]
        if operators:
            ctes.append(
                insert(links)
                .values(
                    [
                        {c.key: bindparam(f"op_{c.key}_{n}", type_=c.type) for c in links.columns}
                        for n in range(operators)
                    ]
                )
                .cte("alert_operator")
            )
        if counts:
            table = AlertCount.__table__
            upsert = upsert_insert(self.dialect, table).values(
                [
                    {c.key: bindparam(f"cnt_{c.key}_{n}", type_=c.type) for c in table.columns}
                    for n in range(counts)
                ]
            )
            ctes.append(_adding_counts(upsert).cte("counted"))
        return ctes

    def count(self, keys: int) -> Statement:
        """Counts `keys` events in one statement (one round trip, atomic alone):
        parameters key_N, window_N, count_N; returns (key, count) rows."""
        found = self._counts.get(keys)
        if found is None:
            counters = Counter.__table__
            upsert = upsert_insert(self.dialect, counters).values(
                [
                    {
                        "key": bindparam(f"key_{n}"),
                        "window": bindparam(f"window_{n}"),
                        "count": bindparam(f"count_{n}"),
                    }
                    for n in range(keys)
                ]
            )
            found = self._counts[keys] = Statement(
                upsert.on_conflict_do_update(
                    index_elements=[counters.c.key, counters.c.window],
                    set_={"count": counters.c.count + upsert.excluded.count},
                ).returning(counters.c.key, counters.c.count),
                self._dialect,
            )
        return found

    def read_counting(self, keys: int) -> Statement:
        """PostgreSQL: read_conversation's row, and `keys` rate counters counted as
        `count` does (with most_N, the most each allows), in one statement: a message's
        only round trip before its turn's write. The last two columns are the keys
        counted and their counts, as arrays in one order (by key). A message beyond a limit
        reserves no conversation id (its turn will not run): the id is then NULL."""
        found = self._read_counting.get(keys)
        if found is None:
            from sqlalchemy.dialects.postgresql import aggregate_order_by

            counted = self.count(keys).statement.cte("counted")
            beyond = exists(
                select(counted.c.key).where(
                    or_(
                        *(
                            and_(
                                counted.c.key == bindparam(f"key_{n}"),
                                counted.c.count > bindparam(f"most_{n}"),
                            )
                            for n in range(keys)
                        )
                    )
                )
            )
            next_id = case((~beyond, _NEXT_CONVERSATION_ID), else_=null())
            found = self._read_counting[keys] = Statement(
                select(
                    _reading(next_id).subquery("found"),
                    *(
                        select(
                            func.array_agg(aggregate_order_by(column, counted.c.key))
                        ).scalar_subquery()
                        for column in (counted.c.key, counted.c.count)
                    ),
                ),
                self._dialect,
            )
        return found


_BY_DIALECT: dict[tuple[str, str], HotStatements] = {}


def hot_statements(dialect: Dialect) -> HotStatements:
    key = (dialect.name, dialect.driver)
    found = _BY_DIALECT.get(key)
    if found is None:
        found = _BY_DIALECT[key] = HotStatements(dialect)
    return found


def json_column(value: Any) -> Any:
    """A JSON column's value as read: sqlite3 gives the text, asyncpg (with SQLAlchemy's
    codec) the decoded value."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


class SqliteDriver:
    """sqlite3's connection, with the coroutine interface of AsyncpgDriver (nothing
    here waits: the inline writer holds SQLite's write lock, see storage.inline)."""

    def __init__(self, connection: Any):
        self.connection = connection

    async def fetchone(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        return self.connection.execute(statement.sql, statement.args(params)).fetchone()

    async def fetchall(self, statement: Statement, params: Mapping[str, Any]) -> list[Any]:
        return self.connection.execute(statement.sql, statement.args(params)).fetchall()

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        self.connection.execute(statement.sql, statement.args(params))


class AsyncpgDriver:
    def __init__(self, connection: Any):
        self.connection = connection

    async def fetchone(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        return await self.connection.fetchrow(statement.sql, *statement.args(params))

    async def fetchall(self, statement: Statement, params: Mapping[str, Any]) -> list[Any]:
        return await self.connection.fetch(statement.sql, *statement.args(params))

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        await self.connection.execute(statement.sql, *statement.args(params))


class _BeginFirst:
    """A driver whose statements first make sure the turn's transaction has begun."""

    def __init__(self, driver: Any, write: "Write"):
        self._driver, self._write = driver, write

    async def fetchone(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        await self._write.begin()
        return await self._driver.fetchone(statement, params)

    async def fetchall(self, statement: Statement, params: Mapping[str, Any]) -> list[Any]:
        await self._write.begin()
        return await self._driver.fetchall(statement, params)

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        await self._write.begin()
        await self._driver.execute(statement, params)


@asynccontextmanager
async def lost_server_noticed(connection: Any, engine: Any) -> AsyncIterator[Any]:
    """PostgreSQL: the driver's connection of `connection` (an AsyncConnection), for
    statements run outside SQLAlchemy, whose own statements notice a lost server (a
    restart, a failover) and discard the pool's connections: that is done here when one
    of ours fails on a closed connection (connections in use end their turn; the old
    pool is then dropped). Otherwise every connection the pool still held would fail
    once in turn."""
    raw = (await connection.get_raw_connection()).driver_connection
    try:
        yield raw
    except BaseException:
        if raw.is_closed():
            await connection.invalidate()
            await engine.dispose()
        raise


class Link:
    """A turn's PostgreSQL connection, taken from the pool when its first statement
    runs (`AsyncpgDriver(link)` runs the hot statements on it) and given back when
    `stack` closes. A turn whose conversation was read beforehand (the repository's
    `peek`) holds one only for its last statement, not while the dialogue engine
    works: under load a connection held across the engine's work was held across
    everyone's turns, and the pool opened and closed connections beyond its size."""

    def __init__(self, engine: Any, stack: AsyncExitStack):
        self._engine, self._stack = engine, stack
        self.connection: Any = None  # SQLAlchemy's AsyncConnection, once open
        self._raw: Any = None

    async def open(self) -> Any:
        if self.connection is None:
            connection = await self._stack.enter_async_context(self._engine.connect())
            self._raw = await self._stack.enter_async_context(
                lost_server_noticed(connection, self._engine)
            )
            self.connection = connection
        return self.connection

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        await self.open()
        return await self._raw.fetchrow(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> Any:
        await self.open()
        return await self._raw.fetch(sql, *args)

    async def execute(self, sql: str, *args: Any) -> Any:
        await self.open()
        return await self._raw.execute(sql, *args)


class OrmDriver:
    """The same statements through a session (an in-memory SQLite database, whose
    driver connection is aiosqlite's: a path only tests take)."""

    def __init__(self, session: Any):
        self.session = session

    async def fetchone(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        return (await self.session.execute(statement.statement, dict(params))).first()

    async def fetchall(self, statement: Statement, params: Mapping[str, Any]) -> list[Any]:
        return list(await self.session.execute(statement.statement, dict(params)))

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        await self.session.execute(statement.statement, dict(params))


class Write:
    """One write transaction: the driver's connection for the hot statements, and an
    ORM session joined to the same transaction, made the first time it is needed (most
    messages never need it) and closed by `close` (which leaves the transaction to its
    owner).

    `begin`: a turn that began without a transaction (PostgreSQL, optimistic): called
    before the first statement that needs one (anything but the turn's last
    statement, which `raw` runs guarded); `driver` calls it itself."""

    def __init__(self, driver: Any, make_session: Any, begin: Any = None):
        self.raw = driver
        self.driver = driver if begin is None else _BeginFirst(driver, self)
        self._make_session = make_session
        self._session: Any = None
        self._begin = begin
        self.begun = begin is None

    async def begin(self) -> None:
        if not self.begun:
            self.begun = True
            await self._begin()

    @property
    def session(self) -> Any:
        if self._session is None:
            self._session = self._make_session()
        return self._session

    async def flush(self) -> None:
        """Before the commit: what the session holds is written."""
        if self._session is not None:
            await self._session.flush()

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
