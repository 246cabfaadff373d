"""What every worker must see the same: pending uploads, counters (rate limits, login
tries) and the Telegram updates received. Each operation is one atomic statement, so a
burst spread over workers cannot pass a limit and an upload is taken once."""

from __future__ import annotations

import secrets
from contextlib import AsyncExitStack
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Sequence

from sqlalchemy import delete, select, update

from domain.privacy import mask
from storage.db import Database
from storage.hot import AsyncpgDriver, Link, OrmDriver, hot_statements
from storage.inline import inline
from storage.models import Counter, PendingUpload, TelegramUpdate

UPLOAD_TTL = timedelta(minutes=15)


class SharedState:
    def __init__(self, db: Database, clock=time.time):
        self.db = db
        self._clock = clock
        self._last_sweep = 0.0
        self._hot = hot_statements(db.engine.dialect)

    # -- uploads ------------------------------------------------------------------------

    async def put_upload(
        self, user_key: str, photo: dict[str, Any] | None, error: str | None = None
    ) -> str:
        """Keeps a cleaned photo (or why it was refused) for this person's next frame."""
        upload_id = secrets.token_urlsafe(12)
        async with self.db.session() as session, session.begin():
            await session.execute(
                delete(PendingUpload).where(
                    PendingUpload.created_at < datetime.now(timezone.utc) - UPLOAD_TTL
                )
            )
            session.add(PendingUpload(id=upload_id, user_key=user_key, photo=photo, error=error))
        return upload_id

    async def take_upload(
        self, user_key: str, upload_id: str
    ) -> tuple[dict[str, Any] | None, str | None] | None:
        """(photo, error) once, only for the person who uploaded it; None if unknown or
        expired."""
        fresh = datetime.now(timezone.utc) - UPLOAD_TTL
        async with self.db.session() as session, session.begin():
            taken = await session.execute(
                delete(PendingUpload)
                .where(
                    PendingUpload.id == upload_id,
                    PendingUpload.user_key == user_key,
                    PendingUpload.created_at >= fresh,
                )
                .returning(PendingUpload.photo, PendingUpload.error)
            )
            row = taken.first()
        return (row.photo, row.error) if row else None

    # -- counters -----------------------------------------------------------------------

    async def hit(self, key: str, window: int = 60, by: int = 1) -> int:
        """Counts an event for `key` in the current `window`-second window; returns the
        window's count, this event included (one atomic upsert)."""
        return (await self.hits({key: window}, by))[0]

    def counting(self, windows: Mapping[str, int], by: int = 1) -> tuple[dict[str, Any], bool]:
        """The parameters of storage.hot's `count` (key_N, window_N, count_N) for
        `windows` (key -> window in seconds) now, and whether this worker's sweep of
        old windows (once a minute) is due: then it runs `sweep_counters` with
        `sweep_before()` after counting."""
        now = self._clock()
        counted: dict[str, Any] = {}
        for n, (key, window) in enumerate(windows.items()):
            counted.update(
                {f"key_{n}": key, f"window_{n}": int(now // window * window), f"count_{n}": by}
            )
        sweep = now - self._last_sweep > 60
        if sweep:
            self._last_sweep = now
        return counted, sweep

    def sweep_before(self) -> dict[str, float]:
        return {"before": self._clock() - 86_400}

    async def hits(self, windows: dict[str, int], by: int = 1) -> list[int]:
        """`hit` for several keys (key -> window in seconds) in one statement: an upload
        counts against its session's and its address's limits in one round trip (a
        message's turn counts them as it reads the conversation: storage.repository's
        `peek`)."""
        counted, sweep = self.counting(windows, by)
        # On the driver's connection (storage.hot); on SQLite inline, in the write lock;
        # on PostgreSQL each statement on its own (autocommit: the one upsert is atomic,
        # and there is nothing to roll back).
        counts: dict[str, int] = {}
        fast = inline(self.db)
        if fast is not None:
            async with fast.write() as write:
                await self._count(write.driver, counted, len(windows), counts, sweep)
        elif self.db.engine.dialect.name == "postgresql":
            async with AsyncExitStack() as stack:
                driver = AsyncpgDriver(Link(self.db.engine, stack))
                await self._count(driver, counted, len(windows), counts, sweep)
        else:  # an in-memory SQLite database (tests)
            async with self.db.session() as session, session.begin():
                await self._count(OrmDriver(session), counted, len(windows), counts, sweep)
        return [counts[key] for key in windows]

    async def _count(
        self,
        driver: Any,
        counted: dict[str, Any],
        keys: int,
        counts: dict[str, int],
        sweep: bool,
    ) -> None:
        for key, count in await driver.fetchall(self._hot.count(keys), counted):
            counts[key] = count
        if sweep:
            await driver.execute(self._hot.sweep_counters, self.sweep_before())

    async def reset(self, key: str) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(delete(Counter).where(Counter.key == key))


class TelegramUpdates:
    """Updates stored before Telegram considers them delivered (a webhook's 200, the next
    getUpdates of a poller): none lost by a crash, none handled twice when Telegram
    delivers one again (to the same worker or to the next poller)."""

    KEEP_IDS = timedelta(days=2)  # Telegram gives up redelivering long before

    def __init__(self, db: Database):
        self.db = db

    async def receive(
        self, update_id: int, payload: dict[str, Any], person: str | None = None
    ) -> bool:
        """Stores the update (what handling it needs, masked: `kept_update`); False if it
        was already received (a redelivery). `person`: the sender's key
        (ConversationService.user_key), so that « Oubliez-moi » finds it."""
        statement = (
            self.db.insert(TelegramUpdate)
            .values(
                update_id=update_id,
                payload=kept_update(payload),
                person=person,
                received_at=datetime.now(timezone.utc),
            )
            .on_conflict_do_nothing(index_elements=[TelegramUpdate.update_id])
            .returning(TelegramUpdate.update_id)
        )
        async with self.db.session() as session, session.begin():
            stored = (await session.execute(statement)).first() is not None
            if stored and update_id % 100 == 0:  # now and then, forget old ids
                await session.execute(
                    delete(TelegramUpdate).where(
                        TelegramUpdate.handled_at < datetime.now(timezone.utc) - self.KEEP_IDS
                    )
                )
        return stored

    async def polled(
        self, updates: Sequence[tuple[int, dict[str, Any]]], people: Mapping[int, str] | None = None
    ) -> list[int]:
        """Stores a batch fetched by long polling before the poller confirms it (its next
        getUpdates); returns the ids to handle: those new here, and those stored but never
        handled. Telegram gives a batch again to the next poller when the previous one
        stopped before confirming it; what that one handled is not handled again, what it
        only stored is (it will never be: it is gone). `people`: update id -> the
        sender's key, as for `receive`."""
        to_handle = []
        now = datetime.now(timezone.utc)
        people = people or {}
        async with self.db.session() as session, session.begin():
            for update_id, payload in updates:
                insert = self.db.insert(TelegramUpdate).values(
                    update_id=update_id,
                    payload=kept_update(payload),
                    person=people.get(update_id),
                    received_at=now,
                )
                statement = insert.on_conflict_do_update(
                    index_elements=[TelegramUpdate.update_id],
                    set_={"received_at": TelegramUpdate.received_at},  # kept as it was
                    where=TelegramUpdate.handled_at.is_(None),
                ).returning(TelegramUpdate.update_id)
                if (await session.execute(statement)).first() is not None:
                    to_handle.append(update_id)
            if any(update_id % 100 == 0 for update_id, _ in updates):
                await session.execute(
                    delete(TelegramUpdate).where(TelegramUpdate.handled_at < now - self.KEEP_IDS)
                )
        return to_handle

    async def handled(self, update_id: int) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(TelegramUpdate)
                .where(TelegramUpdate.update_id == update_id)
                .values(payload=None, person=None, handled_at=datetime.now(timezone.utc))
            )

    async def unhandled(self) -> list[dict[str, Any]]:
        """Updates stored but never handled (the server stopped meanwhile), oldest first."""
        async with self.db.session() as session:
            found = await session.execute(
                select(TelegramUpdate.payload)
                .where(TelegramUpdate.handled_at.is_(None))
                .order_by(TelegramUpdate.update_id)
            )
            return [payload for payload in found.scalars() if payload]


def kept_update(update: dict[str, Any]) -> dict[str, Any]:
    """What handling an update later needs (the server may stop first), and nothing
    more: who sent it (ids and app language, no names), where to answer, the text masked
    (domain.privacy, in the person's language) with its command, the button pressed,
    the files' ids, the place shared. No captions, file names, forwarded or quoted
    messages, and of a shared contact only that it was one."""
    kept: dict[str, Any] = {"update_id": update.get("update_id")}
    for kind in ("message", "edited_message"):
        if isinstance(update.get(kind), dict):
            kept[kind] = _message(update[kind])
    query = update.get("callback_query")
    if isinstance(query, dict):
        kept["callback_query"] = {
            **_only(query, ("id", "chat_instance", "inline_message_id")),
            **({"from": _person(query["from"])} if "from" in query else {}),
            **(
                {"data": _masked(query["data"], query.get("from"))}
                if isinstance(query.get("data"), str)
                else {}
            ),
            # The bot's own message under the buttons: what to edit, not what it said.
            **(
                {"message": _where(query["message"])}
                if isinstance(query.get("message"), dict)
                else {}
            ),
        }
    return kept


# Technical fields of files (and of polls), enough for python-telegram-bot to read them.
_FILE = (
    "file_id",
    "file_unique_id",
    "file_size",
    "width",
    "height",
    "duration",
    "length",
    "mime_type",
    "type",
    "is_animated",
    "is_video",
    "emoji",
    "id",
    "total_voter_count",
    "is_closed",
    "is_anonymous",
    "allows_multiple_answers",
)
_MEDIA = ("photo", "document", "sticker", "voice", "video", "audio", "animation", "video_note")
_BLANKED = {
    "contact": {"phone_number": "", "first_name": ""},  # a contact was shared
    "poll": {"question": "", "options": []},
}


def _message(message: dict[str, Any]) -> dict[str, Any]:
    kept = _where(message)
    if "from" in message:
        kept["from"] = _person(message["from"])
    if isinstance(message.get("text"), str):
        kept["text"] = _masked(message["text"], message.get("from"))
        # The command alone: other entities' offsets are the unmasked text's.
        commands = [
            entity
            for entity in message.get("entities") or ()
            if isinstance(entity, dict)
            and entity.get("type") == "bot_command"
            and entity.get("offset") == 0
        ]
        if commands:
            kept["entities"] = commands[:1]
    if isinstance(message.get("location"), dict):
        kept["location"] = _only(message["location"], ("latitude", "longitude"))
    for kind in _MEDIA:
        media = message.get(kind)
        if isinstance(media, list):
            kept[kind] = [_only(item, _FILE) for item in media if isinstance(item, dict)]
        elif isinstance(media, dict):
            kept[kind] = _only(media, _FILE)
    for kind, blank in _BLANKED.items():
        if isinstance(message.get(kind), dict):
            kept[kind] = {**_only(message[kind], _FILE), **blank}
    return kept


def _person(user: Any) -> dict[str, Any]:
    """A sender: ids and app language, no names (python-telegram-bot needs a first name)."""
    return {**_only(user, ("id", "is_bot", "language_code")), "first_name": ""}


def _masked(text: str, sender: Any) -> str:
    """`text` masked with the marks of the sender's app language."""
    language = str((sender or {}).get("language_code") or "")[:2]
    return mask(text, "en" if language == "en" else "fr")[0]


def _where(message: dict[str, Any]) -> dict[str, Any]:
    """Which message, when, in which chat (no names, titles or bio)."""
    return {
        **_only(message, ("message_id", "date")),
        "chat": _only(message.get("chat"), ("id", "type")),
    }


def _only(value: Any, keys: Sequence[str]) -> dict[str, Any]:
    return {key: value[key] for key in keys if key in value} if isinstance(value, dict) else {}
