"""One turn end to end: lock the person, clean photos, run the engine, store, reply.

Channels call `ConversationService.handle`; nothing reaches them before the turn's
writes (transcript, state, alert) are committed together.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import re
import time
import weakref
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from dialogues.engine import DialogueEngine, Turn
from dialogues.events import (
    ChoiceEvent,
    CommandEvent,
    Event,
    LocationEvent,
    PhotoEvent,
    SharedEvent,
    TextEvent,
    UnsupportedEvent,
)
from dialogues.messages import text as msg
from dialogues.replies import Reply
from dialogues.state import DialogueState
from domain.turns import Limits, TurnConflict

log = logging.getLogger(__name__)
DRAFT_SINCE = "draft_since"  # kept beside the dialogue state: the draft's first message id


@dataclass(frozen=True)
class IncomingPhoto:
    """A picture as received (untrusted bytes): the service cleans it first."""

    data: bytes
    filename: str = ""


class PhotoIngest(Protocol):
    async def store(self, data: bytes) -> Any: ...  # StoredPhoto; raises with a `.reason`
    def remove(self, photos: list[dict[str, Any]]) -> None: ...


class TurnRecordLike(Protocol):
    state: dict[str, Any]
    conversation_id: int

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
    ) -> None: ...
    def set_state(self, state: dict[str, Any], language: str) -> None: ...
    async def save_alert(self, record: dict[str, Any], channel: str) -> dict[str, Any]: ...
    async def update_alert(self, changes: dict[str, Any]) -> dict[str, Any] | None: ...
    async def draft_start(self) -> int | None: ...
    async def erase_messages(self, since_id: int) -> None: ...
    async def unused_photos(self, photos: list[dict[str, Any]]) -> list[dict[str, Any]]: ...
    async def forget_person(self) -> list[dict[str, Any]]: ...
    async def drop_unused_photo_rows(self, photos: list[dict[str, Any]]) -> None: ...


class TurnObserver(Protocol):
    """Told of every turn (metrics): never personal data, only channel, time, outcome."""

    def started(self, channel: str) -> None: ...
    def finished(
        self,
        channel: str,
        seconds: float,
        output: "TurnOutput",
        confidence: float | None,
        failed: bool,
    ) -> None: ...


class ConversationStore(Protocol):
    async def peek(
        self, channel: str, user_key: str, limits: Limits | None
    ) -> tuple[Any, list[int]]:
        """Before the turn: the counts of the limits' counters with this message
        counted, in order, and what the store may read of the conversation at the same
        time (for `turn`'s `read`; None if nothing)."""
        ...

    def turn(
        self, channel: str, user_key: str, locked: bool = False, read: Any = None
    ) -> AbstractAsyncContextManager[TurnRecordLike]:
        """The person's conversation for one turn, committed at its end (`read`: what
        `peek` read of it). Unless `locked`, may raise domain.turns.TurnConflict
        (nothing of the turn written) at its end or at a statement that needs a
        transaction midway."""
        ...

    async def after_erasing(self) -> None: ...


@dataclass
class TurnOutput:
    """What a channel renders: the replies, the question pending, the alert saved."""

    replies: list[Reply]
    expecting: str | None
    alert_id: str | None = None
    alert: dict[str, Any] | None = None
    language: str = "fr"
    saved: bool = False  # a new alert this turn (not a rating of the last one)
    confidence: float | None = None  # the model's, when the turn read text
    limited: bool = False  # beyond a rate limit: no turn ran, nothing was kept

    def to_json(self) -> dict[str, Any]:
        return {
            "replies": [r.to_json() for r in self.replies],
            "expecting": self.expecting,
            "alert_id": self.alert_id,
            "alert": self.alert,
        }


class ConversationService:
    def __init__(
        self,
        engine: DialogueEngine,
        store: ConversationStore,
        photos: PhotoIngest,
        secret: bytes,
        rejected: type[Exception],
    ):
        self.engine = engine
        self.store = store
        self.photos = photos
        self._secret = secret
        self._rejected = rejected
        self.observer: TurnObserver | None = None
        # One lock per person: their messages are handled one after the other.
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def user_key(self, channel: str, user_id: str) -> str:
        """A pseudonymous key: the channel's user id never reaches the database."""
        message = f"{channel}:{user_id}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def _lock(self, key: tuple[str, str]) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def handle(
        self,
        channel: str,
        user_id: str,
        event: Event | IncomingPhoto,
        language: str | None = None,
        limits: Limits | None = None,
    ) -> TurnOutput:
        """Runs one turn for this person; never raises (a failure is a polite reply).

        `language`: the channel's hint for a new conversation ("fr" or "en").
        `limits`: the channel's rate limits for this message; beyond one, no turn runs
        and the output says `limited` (the channel answers it).
        """
        key = self.user_key(channel, user_id)
        event = storable(event)
        observer = self.observer
        if observer is not None:
            observer.started(channel)
        started, failed = time.perf_counter(), False
        output: TurnOutput | None = None
        try:
            lock = self._lock((channel, key))
            try:
                # Counted before waiting for the person's turn in progress, if any: a
                # message beyond a limit is refused at once, and costs nothing more.
                free = not lock.locked()
                read, counts = await self.store.peek(channel, key, limits)
                if limits is not None and not limits.allow(counts):
                    output = TurnOutput([], None, limited=True)
                    return output
                async with lock:
                    # What was read is the turn's unless a turn of the person's was in
                    # progress here (it reads again); one that ran meanwhile elsewhere,
                    # or here, is caught by the version check (TurnConflict).
                    output = await self._turn(channel, key, event, language, read if free else None)
            except Exception:  # the person gets an answer whatever happened
                log.exception("turn failed on %s", channel)
                failed = True
                output = TurnOutput(
                    [Reply(msg("technical_error", "fr") + "\n" + msg("technical_error", "en"))],
                    None,
                )
        finally:  # a cancelled turn (the client left) is counted too
            if observer is not None:
                done = output or TurnOutput([], None)
                observer.finished(
                    channel, time.perf_counter() - started, done, done.confidence, failed
                )
        return output

    async def _turn(
        self,
        channel: str,
        key: str,
        event: Event | IncomingPhoto,
        language: str | None,
        read: Any,
    ) -> TurnOutput:
        if isinstance(event, IncomingPhoto):
            event = await self._clean(event)
        await self.engine.preparse(event)  # outside the conversation's write lock
        for locked in (False, True):
            # A worker reads the conversation without locking it and writes only if
            # nobody changed it meanwhile (the common case: one round trip less each
            # way); if somebody did, the turn runs again on what is there now, locked.
            try:
                turn, alert, erased_photos = await self._run_turn(
                    channel, key, event, language, locked, None if locked else read
                )
                break
            except TurnConflict:
                if locked:
                    raise
                log.info("turn on %s run again: another worker changed the conversation", channel)
        if turn.forget or turn.dropped is not None:
            # Committed: now erase the files nothing refers to any more, and fold
            # SQLite's log into the database so that no copy stays behind.
            self.photos.remove(erased_photos)
            await self.store.after_erasing()
        # Committed: only now may the channel show what the replies confirm.
        return TurnOutput(
            turn.replies,
            turn.expecting,
            alert["id"] if alert else None,
            alert,
            turn.state.language,
            saved=bool(turn.alert),
            confidence=turn.parse.confidence if turn.parse else None,
        )

    async def _run_turn(
        self,
        channel: str,
        key: str,
        event: Event,
        language: str | None,
        locked: bool,
        read: Any,
    ) -> tuple[Turn, dict[str, Any] | None, list[dict[str, Any]]]:
        """One run of the turn in the store's transaction: (turn, alert saved, photos
        to erase once committed)."""
        erased_photos: list[dict[str, Any]] = []
        alert = None
        async with self.store.turn(channel, key, locked, read) as record:
            stored_state = record.state
            state = DialogueState.from_dict(stored_state)
            turn = await self.engine.handle(state, event, language)
            # Where the draft's transcript begins: « Abandonner » erases from there.
            draft_since = stored_state.get(DRAFT_SINCE)
            if turn.forget:
                # « Oubliez-moi »: their traces go, and nothing of this turn is kept.
                erased_photos = await record.unused_photos(await record.forget_person())
                await record.drop_unused_photo_rows(erased_photos)
            else:
                if turn.dropped is not None:
                    if draft_since is not None:
                        await record.erase_messages(draft_since)
                    erased_photos = await record.unused_photos(turn.dropped)
                    await record.drop_unused_photo_rows(erased_photos)
                marks = turn_marks(stored_state, turn, turn.event or event)
                self._record_user(record, turn.event or event, turn, marks)
                if turn.state.draft is None:
                    draft_since = None
                elif draft_since is None or turn.dropped is not None:
                    draft_since = await record.draft_start()
                if turn.alert:
                    alert = await record.save_alert(turn.alert, channel)
                if turn.alert_update:
                    alert = await record.update_alert(turn.alert_update) or alert
                for number, reply in enumerate(turn.replies, start=1):
                    last = number == len(turn.replies)  # the turn's markers: on its last reply
                    record.add_message(
                        "bot",
                        "reply",
                        reply.plain_text(),
                        payload=reply.to_json(),
                        step=marks.bot_step if last else None,
                        marks=marks.bot_marks if last else None,
                    )
                record.set_state(
                    {**turn.state.to_dict(), DRAFT_SINCE: draft_since}, turn.state.language
                )
        return turn, alert, erased_photos

    async def state_of(self, channel: str, user_id: str) -> DialogueState:
        async with self.store.turn(channel, self.user_key(channel, user_id)) as record:
            return DialogueState.from_dict(record.state)

    async def _clean(self, photo: IncomingPhoto) -> PhotoEvent:
        try:
            stored = await self.photos.store(photo.data)
        except self._rejected as exc:
            return PhotoEvent(error=getattr(exc, "reason", "not_an_image"))
        return PhotoEvent(photo=stored.to_dict())

    @staticmethod
    def _record_user(record: TurnRecordLike, event: Event, turn: Turn, marks: "TurnMarks") -> None:
        nlu = None
        if turn.parse is not None:
            nlu = {**turn.parse.to_json(), "ranking": [list(r) for r in turn.parse.ranking]}
        kind, text, payload, attachments = _describe(event)
        record.add_message(
            "user",
            kind,
            text,
            payload=payload,
            nlu=nlu,
            attachments=attachments,
            step=marks.user_step,
            marks=marks.user_marks,
        )


# -- review markers (the staff console's inbox and funnel; ids and flags only) ----------
MARK_UNSURE, MARK_CORRECTED, MARK_REPEATED = 1, 2, 4  # as storage.models.MARK_*
# How the replies that take a correction begin (before French spacing and punctuation).
_CORRECTION_REPLIES = tuple(
    msg(key, lang).rstrip(" :?") for key in ("updated", "ask_fix") for lang in ("fr", "en")
)


@dataclass(frozen=True)
class TurnMarks:
    user_step: str | None  # the question the person's message answered
    user_marks: int
    bot_step: str | None  # the question the turn ended on
    bot_marks: int


def step_of(phase: str | None, expecting: str | None) -> str | None:
    """The dialogue's step as the console names it: a field being asked, the summary,
    the cancel question or the rating; None when no report is in progress."""
    return {
        "confirming": "summary",
        "cancelling": "cancel",
        "rating": "rating",
        "collecting": expecting,
    }.get(phase or "")


def parse_unsure(nlu: dict[str, Any] | None) -> bool:
    """A parse the bot should not have trusted (the transcript's "hésitation du bot")."""
    if not nlu:
        return False
    return bool(
        nlu.get("intent") == "nlu_fallback"
        or float(nlu.get("confidence") or 0) < 0.5
        or (nlu.get("is_report") and not nlu.get("category"))
    )


def turn_marks(before: dict[str, Any], turn: Turn, event: Event) -> TurnMarks:
    """What the console needs to know of a turn, from the state before and after it."""
    asked = step_of(before.get("phase"), before.get("expecting"))
    now = step_of(turn.state.phase.value, turn.state.expecting)
    user = 0
    p = turn.parse  # the four fields the rule reads (the record is built once, for storage)
    if p is not None and parse_unsure(
        {
            "intent": p.intent,
            "confidence": p.confidence,
            "is_report": p.is_report,
            "category": p.category,
        }
    ):
        user |= MARK_UNSURE
    chose_fix = isinstance(event, ChoiceEvent) and event.value.startswith("fix:")
    if chose_fix or any(r.text.startswith(_CORRECTION_REPLIES) for r in turn.replies):
        user |= MARK_CORRECTED
    bot = 0
    # The same question again after a typed answer or a button (a photo sent meanwhile,
    # or a correction, is not a question repeated).
    if (
        now is not None
        and now == asked
        and now != "cancel"
        and not user & MARK_CORRECTED
        and isinstance(event, (TextEvent, ChoiceEvent))
        and turn.replies
    ):
        bot |= MARK_REPEATED
    return TurnMarks(asked, user, now, bot)


_UNSTORABLE = re.compile("[\ud800-\udfff]")  # lone surrogates: no encoding stores them


def storable(event: Event | IncomingPhoto) -> Event | IncomingPhoto:
    """The event with text every database stores: NUL characters dropped (PostgreSQL
    refuses them), lone surrogates (from JSON "\\ud800" escapes) made U+FFFD."""

    def clean(text: str) -> str:
        return _UNSTORABLE.sub("\ufffd", text.replace("\x00", ""))

    if isinstance(event, TextEvent):
        return dataclasses.replace(event, text=clean(event.text))
    if isinstance(event, ChoiceEvent):
        return dataclasses.replace(event, value=clean(event.value))
    if isinstance(event, SharedEvent):
        return dataclasses.replace(event, network=clean(event.network))
    return event


def _describe(event: Event) -> tuple[str, str | None, Any, Any]:
    """(kind, text, payload, attachments) of a user event for the transcript."""
    describers: dict[type, Callable[[Any], tuple[str, str | None, Any, Any]]] = {
        TextEvent: lambda e: ("text", e.text, None, None),
        ChoiceEvent: lambda e: ("choice", None, {"value": e.value}, None),
        CommandEvent: lambda e: ("command", f"/{e.name}", None, None),
        PhotoEvent: lambda e: (
            "photo",
            None,
            None,
            [e.photo] if e.photo else [{"rejected": e.error}],
        ),
        # The transcript keeps the rounded place only, as the alert does.
        LocationEvent: lambda e: (
            "location",
            None,
            {"latitude": round(e.latitude, 2), "longitude": round(e.longitude, 2)},
            None,
        ),
        SharedEvent: lambda e: ("shared", None, {"network": e.network}, None),
        UnsupportedEvent: lambda e: ("unsupported", None, {"kind": e.kind}, None),
    }
    return describers[type(event)](event)
