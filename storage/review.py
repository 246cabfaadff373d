"""Reads for the console's conversations list, review inbox and funnel.

Everything is counted by the database from the review markers each turn stores on its
messages (`Message.step`, `Message.marks`: ids and flags, no text) and from the alerts,
so that a page costs a few queries whatever the number of conversations.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, exists, func, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from storage.db import Database
from storage.models import (
    MARK_CORRECTED,
    MARK_REPEATED,
    MARK_UNSURE,
    Alert,
    Annotation,
    Conversation,
    Message,
)

PAGE_SIZE = 25
# A draft nobody has touched for this long counts as abandoned, not as still open.
ABANDON_AFTER = timedelta(hours=24)
OUTCOMES = ("alert", "open", "abandoned")
DRAFT_SINCE = "draft_since"  # dialogues.service.DRAFT_SINCE: set while a draft is open


ALL_MARKS = MARK_UNSURE | MARK_CORRECTED | MARK_REPEATED


def _marked(bit: int) -> ColumnElement[bool]:
    """Messages with this flag: the few values that have it, so that the index on
    `marks` finds them (a bitwise test would read every message)."""
    return Message.marks.in_([value for value in range(1, ALL_MARKS + 1) if value & bit])


def _unmarked(bit: int) -> ColumnElement[bool]:
    return or_(Message.marks.is_(None), ~_marked(bit))


def _has_message(*where: Any) -> ColumnElement[bool]:
    return exists().where(Message.conversation_id == Conversation.id, *where)


def _has_alert(*where: Any) -> ColumnElement[bool]:
    return exists().where(Alert.conversation_id == Conversation.id, *where)


def _draft_open() -> ColumnElement[bool]:
    return Conversation.state[DRAFT_SINCE].as_integer().is_not(None)


@dataclass(frozen=True)
class ConversationFilter:
    """The list's filters (UTC bounds; empty fields filter nothing)."""

    start: datetime | None = None
    end: datetime | None = None  # excluded
    outcome: str | None = None
    unsure: bool = False
    corrected: bool = False
    repeated: bool = False
    not_useful: bool = False
    channel: str | None = None
    language: str | None = None
    text: str | None = None

    def conditions(self, now: datetime) -> list[Any]:
        where: list[Any] = []
        if self.start:
            where.append(Conversation.created_at >= self.start)
        if self.end:
            where.append(Conversation.created_at < self.end)
        if self.channel:
            where.append(Conversation.channel == self.channel)
        if self.language:
            where.append(Conversation.language == self.language)
        if self.outcome:
            open_ = and_(_draft_open(), Conversation.updated_at >= now - ABANDON_AFTER)
            where.append(
                {
                    "alert": _has_alert(),
                    "open": and_(~_has_alert(), open_),
                    "abandoned": and_(~_has_alert(), not_(open_)),
                }[self.outcome]
            )
        # Each flag is set on one side only (unsure, corrected: the person's messages;
        # repeated: the bot's): the conversations come from the index on marks.
        for wanted, bit in (
            (self.unsure, MARK_UNSURE),
            (self.corrected, MARK_CORRECTED),
            (self.repeated, MARK_REPEATED),
        ):
            if wanted:
                where.append(
                    Conversation.id.in_(select(Message.conversation_id).where(_marked(bit)))
                )
        if self.not_useful:
            where.append(_has_alert(Alert.advice_rating == "not_useful"))
        if self.text:
            pattern = f"%{self.text.strip().lower()}%"
            found = [_has_message(Message.sender == "user", func.lower(Message.text).like(pattern))]
            if self.text.strip().isdigit():
                found.append(Conversation.id == int(self.text.strip()))
            found.append(_has_alert(func.lower(Alert.id) == self.text.strip().lower()))
            where.append(or_(*found))
        return where


@dataclass
class ConversationRow:
    id: int
    channel: str
    language: str
    created_at: datetime
    updated_at: datetime
    user_messages: int
    alerts: int
    outcome: str
    unsure: bool
    corrected: bool
    repeated: bool
    not_useful: bool


@dataclass(frozen=True)
class InboxFilter:
    status: str = "todo"  # todo | done | all
    reason: str | None = None  # unsure | corrected
    channel: str | None = None


@dataclass
class InboxItem:
    message: Message
    channel: str
    annotation: Annotation | None
    unsure: bool
    corrected: bool


@dataclass
class Funnel:
    started: int = 0
    understood: int = 0
    steps: dict[str, int] = field(default_factory=dict)  # step -> conversations reaching it
    with_alert: int = 0
    alerts: int = 0
    rated: int = 0
    median_messages: float | None = None
    repeated: list[tuple[str, int]] = field(default_factory=list)  # step, times


def utc(moment: datetime) -> datetime:
    """SQLite gives naive datetimes (stored in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class ReviewRepository:
    def __init__(self, db: Database):
        self.db = db

    # -- conversations -------------------------------------------------------------------
    async def conversations(
        self, flt: ConversationFilter, page: int = 1, now: datetime | None = None
    ) -> tuple[list[ConversationRow], int]:
        now = now or datetime.now(timezone.utc)
        where = flt.conditions(now)
        condition = and_(*where) if where else true()
        user_count = (
            select(func.count(Message.id))
            .where(Message.conversation_id == Conversation.id, Message.sender == "user")
            .scalar_subquery()
        )
        alert_count = (
            select(func.count(Alert.id))
            .where(Alert.conversation_id == Conversation.id)
            .scalar_subquery()
        )
        query = (
            select(
                Conversation.id,
                Conversation.channel,
                Conversation.language,
                Conversation.created_at,
                Conversation.updated_at,
                user_count.label("user_messages"),
                alert_count.label("alerts"),
                _draft_open().label("draft_open"),
                _has_message(Message.sender == "user", _marked(MARK_UNSURE)).label("unsure"),
                _has_message(Message.sender == "user", _marked(MARK_CORRECTED)).label("corrected"),
                _has_message(Message.sender == "bot", _marked(MARK_REPEATED)).label("repeated"),
                _has_alert(Alert.advice_rating == "not_useful").label("not_useful"),
            )
            .where(condition)
            .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
            .offset((max(page, 1) - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
        async with self.db.session() as session:
            total = (
                await session.execute(select(func.count(Conversation.id)).where(condition))
            ).scalar_one()
            rows = (await session.execute(query)).all()
        found = []
        for row in rows:
            if row.alerts:
                outcome = "alert"
            elif row.draft_open and utc(row.updated_at) >= now - ABANDON_AFTER:
                outcome = "open"
            else:
                outcome = "abandoned"
            found.append(
                ConversationRow(
                    row.id,
                    row.channel,
                    row.language,
                    utc(row.created_at),
                    utc(row.updated_at),
                    int(row.user_messages or 0),
                    int(row.alerts or 0),
                    outcome,
                    bool(row.unsure),
                    bool(row.corrected),
                    bool(row.repeated),
                    bool(row.not_useful),
                )
            )
        return found, total

    # -- the inbox -----------------------------------------------------------------------
    async def inbox(self, flt: InboxFilter, page: int = 1) -> tuple[list[InboxItem], int]:
        reason = {"unsure": MARK_UNSURE, "corrected": MARK_CORRECTED}.get(
            flt.reason or "", MARK_UNSURE | MARK_CORRECTED
        )
        where: list[Any] = [
            Message.sender == "user",
            Message.text.is_not(None),
            Message.marks.is_not(None),
            _marked(reason),
        ]
        if flt.status == "todo":
            where.append(Annotation.message_id.is_(None))
        elif flt.status == "done":
            where.append(Annotation.message_id.is_not(None))
        if flt.channel:
            where.append(Conversation.channel == flt.channel)

        def joined(query):
            return (
                query.join(Conversation, Conversation.id == Message.conversation_id)
                .outerjoin(Annotation, Annotation.message_id == Message.id)
                .where(*where)
            )

        async with self.db.session() as session:
            total = (
                await session.execute(joined(select(func.count(Message.id)).select_from(Message)))
            ).scalar_one()
            rows = (
                await session.execute(
                    joined(select(Message, Conversation.channel, Annotation))
                    .order_by(Message.id.desc())
                    .offset((max(page, 1) - 1) * PAGE_SIZE)
                    .limit(PAGE_SIZE)
                )
            ).all()
        return [
            InboxItem(
                m,
                channel,
                a,
                bool((m.marks or 0) & MARK_UNSURE),
                bool((m.marks or 0) & MARK_CORRECTED),
            )
            for m, channel, a in rows
        ], total

    async def user_parse(self, message_id: int) -> dict | None:
        """The parse of a person's typed message (None: no such message)."""
        async with self.db.session() as session:
            message = await session.get(Message, message_id)
            if message is None or message.sender != "user" or not message.text:
                return None
            return dict(message.nlu or {})

    # -- the funnel ----------------------------------------------------------------------
    async def funnel(
        self, start: datetime | None, end: datetime | None, channel: str | None
    ) -> Funnel:
        """The conversations started in the period (on the channel), and how far each
        went, counted by the database."""
        where: list[Any] = []
        if start:
            where.append(Conversation.created_at >= start)
        if end:
            where.append(Conversation.created_at < end)
        if channel:
            where.append(Conversation.channel == channel)
        cohort = select(Conversation.id).where(*where)
        # Every conversation when nothing filters: no IN list to check then.
        in_cohort = Message.conversation_id.in_(cohort) if where else true()
        funnel = Funnel()
        async with self.db.session() as session:
            funnel.started = (
                await session.execute(select(func.count(Conversation.id)).where(*where))
            ).scalar_one()
            first = (
                select(Message.conversation_id, func.min(Message.id).label("mid"))
                .where(Message.sender == "user", Message.kind == "text", in_cohort)
                .group_by(Message.conversation_id)
                .subquery()
            )
            funnel.understood = (
                await session.execute(
                    select(func.count())
                    .select_from(first)
                    .join(Message, Message.id == first.c.mid)
                    .where(_unmarked(MARK_UNSURE))
                )
            ).scalar_one()
            steps = await session.execute(
                select(Message.step, func.count(func.distinct(Message.conversation_id)))
                .where(Message.sender == "bot", Message.step.is_not(None), in_cohort)
                .group_by(Message.step)
            )
            funnel.steps = {step: int(n) for step, n in steps}
            in_cohort_alert = Alert.conversation_id.in_(cohort) if where else true()
            funnel.with_alert, funnel.alerts = (
                await session.execute(
                    select(
                        func.count(func.distinct(Alert.conversation_id)), func.count(Alert.id)
                    ).where(in_cohort_alert)
                )
            ).one()
            funnel.rated = (
                await session.execute(
                    select(func.count(func.distinct(Alert.conversation_id))).where(
                        in_cohort_alert, Alert.advice_rating.is_not(None)
                    )
                )
            ).scalar_one()
            # The person's messages up to their first alert: those before the first
            # reply that asked for a rating (it follows every saved alert).
            saved = (
                select(Message.conversation_id, func.min(Message.id).label("rid"))
                .where(Message.sender == "bot", Message.step == "rating", in_cohort)
                .group_by(Message.conversation_id)
                .subquery()
            )
            counts = (
                (
                    await session.execute(
                        select(func.count(Message.id))
                        .select_from(saved)
                        .join(
                            Message,
                            and_(
                                Message.conversation_id == saved.c.conversation_id,
                                Message.sender == "user",
                                Message.id < saved.c.rid,
                            ),
                        )
                        .group_by(saved.c.conversation_id)
                    )
                )
                .scalars()
                .all()
            )
            funnel.median_messages = statistics.median(counts) if counts else None
            repeated = await session.execute(
                select(Message.step, func.count(Message.id).label("n"))
                .where(
                    Message.sender == "bot",
                    Message.step.is_not(None),
                    _marked(MARK_REPEATED),
                    in_cohort,
                )
                .group_by(Message.step)
                .order_by(func.count(Message.id).desc(), Message.step)
            )
            funnel.repeated = [(step, int(n)) for step, n in repeated]
        return funnel

    async def by_channel(
        self, start: datetime | None, end: datetime | None
    ) -> list[tuple[str, int, int, float | None]]:
        """(channel, conversations started, of which with an alert, median messages up to
        the first alert) for the period, a channel a row."""
        where: list[Any] = []
        if start:
            where.append(Conversation.created_at >= start)
        if end:
            where.append(Conversation.created_at < end)
        async with self.db.session() as session:
            started = dict(
                (
                    await session.execute(
                        select(Conversation.channel, func.count(Conversation.id))
                        .where(*where)
                        .group_by(Conversation.channel)
                    )
                ).all()
            )
            alerted = dict(
                (
                    await session.execute(
                        select(
                            Conversation.channel, func.count(func.distinct(Alert.conversation_id))
                        )
                        .join(Conversation, Conversation.id == Alert.conversation_id)
                        .where(*where)
                        .group_by(Conversation.channel)
                    )
                ).all()
            )
            saved = (
                select(Message.conversation_id, func.min(Message.id).label("rid"))
                .where(Message.sender == "bot", Message.step == "rating")
                .group_by(Message.conversation_id)
                .subquery()
            )
            counts: dict[str, list[int]] = {}
            rows = await session.execute(
                select(Conversation.channel, func.count(Message.id))
                .select_from(saved)
                .join(Conversation, Conversation.id == saved.c.conversation_id)
                .join(
                    Message,
                    and_(
                        Message.conversation_id == saved.c.conversation_id,
                        Message.sender == "user",
                        Message.id < saved.c.rid,
                    ),
                )
                .where(*where)
                .group_by(saved.c.conversation_id, Conversation.channel)
            )
            for channel, n in rows:
                counts.setdefault(channel, []).append(int(n))
        return [
            (
                channel,
                int(n),
                int(alerted.get(channel, 0)),
                statistics.median(counts[channel]) if counts.get(channel) else None,
            )
            for channel, n in sorted(started.items())
        ]
