"""Reads and writes of one conversation turn, in a single transaction."""

from __future__ import annotations

import secrets
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, AsyncIterator

from sqlalchemy import Date, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.dates import as_json
from domain.fields import ALERT_FIELDS
from domain.taxonomy import Taxonomy
from domain.turns import Limits, TurnConflict
from storage.counts import count_keys
from storage.db import Database
from storage.hot import (
    AsyncpgDriver,
    HotStatements,
    OrmDriver,
    Link,
    Write,
    hot_statements,
    json_column,
)
from storage.inline import inline
from storage.photos import drop_photo_bytes, still_used
from storage.shared import SharedState
from storage.models import (
    Alert,
    AlertOperator,
    AlertPhoto,
    Annotation,
    Conversation,
    Message,
    PendingUpload,
    Photo,
    TelegramUpdate,
    utcnow,
)

UPDATABLE = frozenset({"advice_rating", "shared"})


def _column_value(name: str, value: Any) -> Any:
    """A record's value as its column takes it: a day given as « 2026-11-16 » as a date."""
    if isinstance(value, str) and isinstance(Alert.__table__.c[name].type, Date):
        return date.fromisoformat(value)
    return value


def alert_to_json(alert: Alert) -> dict[str, Any]:
    """The saved alert with taxonomy ids: the record `jalerte chat --json` prints."""
    data: dict[str, Any] = {"id": alert.id}
    data.update({name: as_json(getattr(alert, name)) for name in ALERT_FIELDS})
    data.update(
        operators=alert.operators,
        channel=alert.channel,
        conversation_id=alert.conversation_id,
        created_at=iso_utc(alert.created_at),
        photos=[
            {
                "sha256": link.photo.sha256,
                "path": link.photo.path,
                "content_type": link.photo.content_type,
                "size": link.photo.size,
                "width": link.photo.width,
                "height": link.photo.height,
            }
            for link in alert.photos
        ],
    )
    return data


def iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite gives naive datetimes back
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


@dataclass
class _Conversation:
    """The conversation row a turn works on, read and written with the hot statements
    (storage.hot: no ORM identity map or unit of work, a turn is a handful of rows)."""

    id: int
    user_key: str
    state: dict[str, Any]
    language: str
    changed: bool = False
    new: bool = False  # created by this turn: it has no line before this turn's
    version: str | None = None  # PostgreSQL, read unlocked: what the last write checks
    # PostgreSQL, read unlocked: not there yet, `id` reserved for the turn's last
    # statement to create it with (on `channel`).
    absent: bool = False
    channel: str = ""


class TurnRecord:
    """What one turn reads and writes; committed together when the turn ends."""

    def __init__(
        self,
        write: Write,
        hot: HotStatements,
        conversation: _Conversation,
        taxonomy: Taxonomy,
    ):
        self._write = write
        self._hot = hot
        self.conversation = conversation
        self.taxonomy = taxonomy
        self._messages: list[dict[str, Any]] = []
        self._erased = False
        # PostgreSQL: a saved alert's rows, written with the turn's last statement
        # (finish): (its row, its operators' rows, its count rows).
        self._alert: tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]] | None = None

    @property
    def session(self) -> AsyncSession:
        """The ORM, on the turn's transaction: for what few messages do (an alert saved,
        an erasure)."""
        return self._write.session

    @property
    def state(self) -> dict[str, Any]:
        return dict(self.conversation.state or {})

    @property
    def conversation_id(self) -> int:
        return self.conversation.id

    def add_message(
        self,
        sender: str,
        kind: str,
        text: str | None = None,
        payload: Any = None,
        nlu: Any = None,
        attachments: Any = None,
        step: str | None = None,
        marks: int | None = None,
    ) -> None:
        """Queued, then written with the turn's other messages in one statement."""
        self._messages.append(
            dict(
                conversation_id=self.conversation.id,
                sender=sender,
                kind=kind,
                text=text,
                payload=payload,
                nlu=nlu,
                attachments=attachments,
                created_at=utcnow(),
                step=step,
                marks=marks,
            )
        )

    async def _write_pending(self) -> None:
        """What waits for the turn's last statement, written now (the turn reads or
        erases next)."""
        if self._messages:
            rows, self._messages = self._messages, []
            await self._write.driver.execute(self._hot.insert_messages(len(rows)), _numbered(rows))
        if self._alert is not None:
            (alert, links, counted), self._alert = self._alert, None
            driver, hot = self._write.driver, self._hot
            await driver.execute(hot.insert_alert, alert)
            for link in links:
                await driver.execute(hot.insert_alert_operator, link)
            for row in counted:
                await driver.execute(hot.count_alert, row)

    async def _in_transaction(self) -> None:
        """Before the ORM reads or writes: the turn's transaction begun, what waits
        written."""
        await self._write.begin()
        await self._write_pending()

    async def finish(self) -> None:
        """The turn's writes that waited for its end: messages, a saved alert's rows,
        then the state (on PostgreSQL in one statement)."""
        c = self.conversation
        if not c.changed:
            await self._write_pending()
            return
        state = {
            "cid": c.id,
            "state": c.state,
            "language": c.language,
            "user_key": c.user_key,
            "updated_at": utcnow(),
        }
        if self._hot.dialect == "postgresql":
            rows, self._messages = self._messages, []
            params = {**_numbered(rows), **state}
            operators = counts = -1
            if self._alert is not None:
                (alert, links, counted), self._alert = self._alert, None
                params.update({f"alert_{key}": value for key, value in alert.items()})
                params.update(_numbered(links, "op_"))
                params.update(_numbered(counted, "cnt_"))
                operators, counts = len(links), len(counted)
            guarded = ""
            if not self._write.begun:  # read unlocked: written if unchanged (or absent)
                guarded = "insert" if c.absent else "update"
                params.update(version=c.version, channel=c.channel)
            written = self._write.raw.execute(
                self._hot.write_turn(len(rows), operators, max(counts, 0), guarded), params
            )
            await (_changed_meanwhile(written) if guarded else written)
            return
        await self._write_pending()
        await self._write.driver.execute(self._hot.update_conversation, state)

    async def draft_start(self) -> int | None:
        """Where a draft begun in this turn starts: the id of the latest line of this
        conversation (this turn's included); every line written later has a larger id.
        A conversation this turn created has no line before, so its first line's id is
        not needed (nothing read: the draft is the whole conversation)."""
        if self.conversation.new and not self._erased:
            return 1
        return await self.last_message_id()

    async def last_message_id(self) -> int | None:
        """The id of the latest message of this conversation (what was added included)."""
        if self._messages:  # the lines added last: the ids of their INSERT
            rows, self._messages = self._messages, []
            ids = await self._write.driver.fetchall(
                self._hot.insert_messages(len(rows), returning=True), _numbered(rows)
            )
            await self._write_pending()
            return max(row[0] for row in ids)
        await self._write_pending()
        row = await self._write.driver.fetchone(
            self._hot.last_message, {"cid": self.conversation.id}
        )
        return row[0] if row else None

    async def erase_messages(self, since_id: int) -> None:
        """Deletes this conversation's messages from `since_id` on (and their labels)."""
        await self._in_transaction()
        self._erased = True
        doomed = select(Message.id).where(
            Message.conversation_id == self.conversation.id, Message.id >= since_id
        )
        await self.session.execute(delete(Annotation).where(Annotation.message_id.in_(doomed)))
        await self.session.execute(
            delete(Message).where(
                Message.conversation_id == self.conversation.id, Message.id >= since_id
            )
        )

    async def unused_photos(self, photos: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Those of `photos` no alert, pending upload or other draft refers to."""
        await self._in_transaction()
        used = await still_used(
            self.session, [p.get("sha256") for p in photos], self.conversation.id
        )
        return [p for p in photos if isinstance(p.get("sha256"), str) and p["sha256"] not in used]

    async def forget_person(self) -> list[dict[str, Any]]:
        """« Oubliez-moi »: this conversation's messages, pending uploads and Telegram
        updates never handled go, its alerts keep only their structured fields (no
        description, typed operator name or photo), and the conversation is unlinked
        from the person (a random key). Returns the photos that were theirs, for the
        caller to erase once unused."""
        await self._in_transaction()
        cid = self.conversation.id
        draft = (self.conversation.state or {}).get("draft") or {}
        photos = [dict(photo) for photo in draft.get("photos") or []]
        await self.erase_messages(0)
        pending = await self.session.execute(
            delete(PendingUpload)
            .where(PendingUpload.user_key == self.conversation.user_key)
            .returning(PendingUpload.photo)
        )
        photos += [p for p in pending.scalars() if p]
        # Stored before a stop and not handled yet: dropped, the ids kept so that a
        # redelivery is not handled either.
        await self.session.execute(
            update(TelegramUpdate)
            .where(
                TelegramUpdate.person == self.conversation.user_key,
                TelegramUpdate.handled_at.is_(None),
            )
            .values(payload=None, person=None, handled_at=utcnow())
        )
        alert_ids = select(Alert.id).where(Alert.conversation_id == cid)
        linked = await self.session.execute(
            select(Photo.sha256, Photo.path)
            .join(AlertPhoto)
            .where(AlertPhoto.alert_id.in_(alert_ids))
        )
        photos += [{"sha256": sha, "path": path} for sha, path in linked.all()]
        await self.session.execute(delete(AlertPhoto).where(AlertPhoto.alert_id.in_(alert_ids)))
        await self.session.execute(
            update(Alert)
            .where(Alert.conversation_id == cid)
            .values(description="", operator_text=None)
        )
        self.conversation.user_key = secrets.token_hex(32)  # nobody's any more
        self.conversation.state = {}
        self.conversation.changed = True
        return photos

    async def drop_unused_photo_rows(self, photos: list[dict[str, Any]]) -> None:
        """In this turn's transaction: their rows, and their bytes in a shared store."""
        await self._in_transaction()
        for photo in photos:
            await self.session.execute(delete(Photo).where(Photo.sha256 == photo["sha256"]))
        await drop_photo_bytes(self.session, [photo["sha256"] for photo in photos])

    def set_state(self, state: dict[str, Any], language: str) -> None:
        self.conversation.state = state
        self.conversation.language = language
        self.conversation.changed = True

    async def save_alert(self, record: dict[str, Any], channel: str) -> dict[str, Any]:
        """Saves a new alert; refuses one that breaks the taxonomy's rules (the engine
        never produces one: this is the last line, for any other writer).

        Its rows are written with the turn's statements (storage.hot), not by the ORM's
        unit of work: the Alert object is built only to give the rows their values and
        the saved record its form (alert_to_json), as the ORM would have read it."""
        problems = self.taxonomy.alert_problems(record)
        if problems:
            raise InconsistentAlert("; ".join(problems))
        driver, hot = self._write.driver, self._hot
        alert = Alert(
            id=record["id"],
            conversation_id=self.conversation.id,
            channel=channel,
            created_at=utcnow(),
            photos=[],
            **{name: _column_value(name, record.get(name)) for name in ALERT_FIELDS},
        )
        several = list(record.get("operators") or ())
        alert.operator_links = (
            [AlertOperator(operator=o, position=n) for n, o in enumerate(several)]
            if len(several) > 1
            else []
        )
        alert.shared = bool(record.get("shared"))
        for column in _DEFAULTED:  # what the ORM fills when a record leaves it out
            if getattr(alert, column.key) is None:
                setattr(alert, column.key, column.default.arg)
        links = [
            {"alert_id": alert.id, "operator": link.operator, "position": link.position}
            for link in alert.operator_links
        ]
        saved = alert_to_json(alert)
        self._alert = (_row(alert), links, _count_rows(saved, alert.created_at))
        photos = record.get("photos") or []
        if not photos:  # its rows wait for the turn's last statement (finish)
            return saved
        await self._write_pending()  # its rows now: its photos' rows refer to it
        driver, hot = self._write.driver, self._hot
        for position, photo in enumerate(photos):
            found = await driver.fetchone(hot.find_photo, {"sha256": photo["sha256"]})
            if found is None:
                stored = Photo(**{k: photo[k] for k in _PHOTO_FIELDS}, created_at=alert.created_at)
                await driver.execute(hot.insert_photo, _row(stored))
            else:  # the same picture sent before: its row is kept as it is
                stored = Photo(**dict(zip(_PHOTO_COLUMNS, found)))
            alert.photos.append(AlertPhoto(photo=stored, position=position))
            await driver.execute(
                hot.insert_alert_photo,
                {"alert_id": alert.id, "photo_sha256": stored.sha256, "position": position},
            )
        return alert_to_json(alert)

    async def update_alert(self, changes: dict[str, Any]) -> dict[str, Any] | None:
        await self._in_transaction()
        alert = await self.session.get(Alert, changes["id"])
        if alert is None or alert.conversation_id != self.conversation.id:
            return None
        for name, value in changes.items():
            if name in UPDATABLE:
                setattr(alert, name, value)
        await self.session.flush()
        return alert_to_json(alert)


# A guarded write_turn that found the row changed (storage.hot): its division by zero,
# or a serialization failure when the server's default isolation is stricter than READ
# COMMITTED (where a statement that waited for the row cannot read its new version).
_CHANGED_MEANWHILE = ("22012", "40001")


async def _changed_meanwhile(statement: Any) -> Any:
    """Runs `statement` (an awaitable, on the driver or through SQLAlchemy, which wraps
    the driver's error in `orig`); the row changed meanwhile is a TurnConflict (nothing
    of the statement kept)."""
    try:
        return await statement
    except Exception as exc:
        if getattr(getattr(exc, "orig", exc), "sqlstate", None) in _CHANGED_MEANWHILE:
            raise TurnConflict() from exc
        raise


def _new_conversation(channel: str, user_key: str, now: datetime, prefix: str = "") -> dict:
    """A new conversation's row, as storage.hot's statements take it."""
    row = {
        "channel": channel,
        "user_key": user_key,
        "state": {},
        "language": "fr",
        "created_at": now,
        "updated_at": now,
    }
    return {prefix + key: value for key, value in row.items()}


def _numbered(rows: list[dict[str, Any]], prefix: str = "") -> dict[str, Any]:
    """Rows as the parameters of one multi-row statement (storage.hot: KEY_N)."""
    return {f"{prefix}{key}_{n}": value for n, row in enumerate(rows) for key, value in row.items()}


def _count_rows(saved: dict[str, Any], created: datetime) -> list[dict[str, Any]]:
    """The dashboard's count rows a saved alert adds to, one per key (merged if two
    keys were the same: one statement may not update a row twice), in one order
    whatever the alert's (two alerts about the same operators, each saved by a
    worker, must not lock each other's rows in turn)."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for n, key in enumerate(count_keys(saved, created)):
        row = rows.setdefault(tuple(sorted(key.items())), {**key, "count": 0, "alerts": 0})
        row["count"] += 1
        row["alerts"] += int(n == 0)
    return sorted(rows.values(), key=lambda row: row["operator"])


# Alert columns with a plain default ("" for no description, "unknown" for no answer).
_DEFAULTED = [c for c in Alert.__table__.columns if c.default is not None and c.default.is_scalar]
_PHOTO_FIELDS = ("sha256", "path", "content_type", "size", "width", "height")
_PHOTO_COLUMNS = [c.key for c in Photo.__table__.columns]


def _row(instance: Any) -> dict[str, Any]:
    """A transient ORM object's column values, as its INSERT takes them."""
    return {c.key: getattr(instance, c.key) for c in instance.__table__.columns}


class InconsistentAlert(ValueError):
    """An alert whose fields contradict each other (a parcel carrier with no network…)."""


class ConversationRepository:
    def __init__(self, db: Database, taxonomy: Taxonomy):
        self.db = db
        self.taxonomy = taxonomy
        self._counters = SharedState(db)

    async def peek(
        self, channel: str, user_key: str, limits: Limits | None
    ) -> tuple[Any, list[int]]:
        """Before a turn: counts it against its rate limits (their counts come back in
        the limits' order, this message included) and, on PostgreSQL, reads the
        person's conversation without a lock in the same statement, for
        `turn(..., read=…)`: one round trip for both. Elsewhere the turn reads under
        SQLite's write lock (None)."""
        windows = limits.windows if limits is not None else {}
        engine = self.db.engine
        if engine.dialect.name != "postgresql":
            return None, (await self._counters.hits(windows) if windows else [])
        hot = hot_statements(engine.dialect)
        params: dict[str, Any] = {"channel": channel, "key": user_key}
        async with AsyncExitStack() as stack:
            raw = AsyncpgDriver(Link(engine, stack))
            if limits is None or not windows:
                return await raw.fetchone(hot.read_conversation, params), []  # type: ignore[arg-type]
            counted, sweep = self._counters.counting(windows)
            params.update(counted)
            for n, (_window, most) in enumerate(limits.counted.values()):
                params[f"most_{n}"] = most
            found = await raw.fetchone(hot.read_counting(len(windows)), params)
            if sweep:
                await raw.execute(hot.sweep_counters, self._counters.sweep_before())
        counts = dict(zip(found[6], found[7], strict=True))
        return tuple(found)[:6], [counts[key] for key in windows]

    @asynccontextmanager
    async def turn(
        self, channel: str, user_key: str, locked: bool = False, read: Any = None
    ) -> AsyncIterator[TurnRecord]:
        """Opens the person's conversation for one turn (created by its writes if the
        person has none); commits at the end.

        On PostgreSQL, unless `locked`, the conversation is read without a lock (or was,
        by `peek`: `read`) and the turn's writes go in one last statement that keeps
        them only if nobody changed the row meanwhile; otherwise it raises TurnConflict,
        nothing written (the service then runs the turn again, locked). SQLite's turns
        hold its write lock."""
        fast = inline(self.db)
        if fast is not None:  # SQLite: on the loop's thread, the write lock held
            async with fast.write() as write:
                record = await self._record(write, channel, user_key)
                yield record
                await record.finish()
            return
        engine = self.db.engine
        if engine.dialect.name != "postgresql":  # an in-memory SQLite database (tests)
            async with self.db.session() as session, session.begin():
                await self.db.write_transaction(session, f"turn:{channel}:{user_key}")
                record = await self._record(
                    Write(OrmDriver(session), lambda: session), channel, user_key
                )
                yield record
                await record.finish()
            return
        hot = hot_statements(engine.dialect)
        params = {"channel": channel, "key": user_key}
        params.update(_new_conversation(channel, user_key, utcnow(), "new_"))
        async with AsyncExitStack() as stack:
            link = Link(engine, stack)  # a connection from the pool when one is needed
            raw = AsyncpgDriver(link)
            found = None
            absent = False
            if not locked:
                # Read without a transaction (no BEGIN, no COMMIT: two round trips
                # fewer), or already read by `peek`; the turn's last statement writes
                # only if the row is unchanged, or creates it if the person has none
                # (and nobody did meanwhile).
                found = read or await raw.fetchone(hot.read_conversation, params)  # type: ignore[arg-type]
                absent = found[4]
            else:
                # Through SQLAlchemy, the first statement begins the transaction that
                # the driver's statements then run in: the conversation read and locked
                # (FOR UPDATE), or created, one turn at a time whichever worker takes it.
                connection = await link.open()
                await connection.begin()
                found = (
                    await connection.execute(hot.find_or_create.statement, params)  # type: ignore[union-attr]
                ).first()

            async def begin() -> None:
                """The turn needs more than its last statement: a transaction, in which
                the row is locked if it is still the version read (or created, if the
                person had none and still has none)."""
                conversation = record.conversation
                connection = await link.open()
                await connection.begin()
                if conversation.absent:  # created now, with the id its lines were given
                    row = {"id": conversation.id}
                    row.update(_new_conversation(channel, user_key, utcnow()))
                    created = await _changed_meanwhile(
                        connection.execute(hot.create_reserved.statement, row)
                    )
                    if created.first() is None:
                        raise TurnConflict()
                    conversation.absent = False
                    return
                unchanged = (
                    await _changed_meanwhile(
                        connection.execute(
                            hot.lock_unchanged.statement,  # type: ignore[union-attr]
                            {"cid": conversation.id, "version": conversation.version},
                        )
                    )
                ).first()
                if unchanged is None:
                    raise TurnConflict()

            write = Write(
                raw,
                # Made after `begin` (TurnRecord._in_transaction): the link is open.
                lambda: AsyncSession(
                    bind=link.connection,
                    join_transaction_mode="rollback_only",
                    expire_on_commit=False,
                ),
                None if locked else begin,
            )
            try:
                record = await self._record(write, channel, user_key, found, absent)
                yield record
                await record.finish()
                await write.flush()
            finally:
                await write.close()
            if link.connection is not None and link.connection.in_transaction():
                await link.connection.commit()

    async def _record(
        self, write: Write, channel: str, user_key: str, found: Any = None, absent: bool = False
    ) -> TurnRecord:
        """The turn's record of the person's conversation (`found`: its row, already
        read), created if they have none (`absent`: by the turn's last statement)."""
        hot = hot_statements(self.db.engine.dialect)
        find = {"channel": channel, "key": user_key}
        new, version = False, None
        if found is not None:  # (id, user_key, state, language, created, version)
            row, new, version = found[:4], found[4], found[5]
        else:
            row = await write.driver.fetchone(hot.find_conversation, find)
        if row is None:
            # Created by whoever comes first: a second first message at the same time
            # (another worker) waits on the unique key, does nothing (no row returned),
            # and then reads and locks the row the first one committed.
            row = await write.driver.fetchone(
                hot.create_conversation, _new_conversation(channel, user_key, utcnow())
            )
            new = row is not None
            if row is None:  # created by the other one meanwhile
                row = await write.driver.fetchone(hot.find_conversation, find)
        cid, key, state, language = row
        conversation = _Conversation(
            cid,
            key,
            dict(json_column(state) or {}),
            language,
            new=new or absent,
            version=version,
            absent=absent,
            channel=channel,
        )
        return TurnRecord(write, hot, conversation, self.taxonomy)

    async def after_erasing(self) -> None:
        """Erased means gone from every file, SQLite's write-ahead log included."""
        await self.db.fold_log()

    async def transcript(self, channel: str, user_key: str) -> list[Message]:
        async with self.db.session() as session:
            found = await session.execute(
                select(Message)
                .join(Conversation)
                .where(Conversation.channel == channel, Conversation.user_key == user_key)
                .order_by(Message.id)
            )
            return list(found.scalars())

    async def alert(self, alert_id: str) -> dict[str, Any] | None:
        async with self.db.session() as session:
            alert = await session.get(Alert, alert_id)
            return alert_to_json(alert) if alert else None
