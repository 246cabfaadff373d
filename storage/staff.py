"""Reads for the staff console: staff accounts, filtered alerts, transcripts, annotations."""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, AsyncIterator, Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, case, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import Database
from storage.models import (
    FREE_TEXT_OPERATOR,
    Alert,
    AlertCount,
    AlertOperator,
    AlertPhoto,
    Annotation,
    Conversation,
    Counter,
    Message,
    StaffSession,
    StaffUser,
)
from storage.paris import day_start, days_since_sql, month_sql
from domain.fields import ALERT_FIELDS, FIELD

# How long a problem had lasted when reported, in days: each bucket's lower bound (the
# buttons « hier », « plus d'une semaine », « plus d'un mois » fall on a bound).
DURATION_BUCKETS = (0, 1, 2, 7, 30, 90)
STARTED_ASKED_BY = FIELD["started_on"].categories or ()
from storage.repository import alert_to_json, iso_utc

# Argon2id, a memory-hard KDF (64 MiB, 3 passes): slow for an attacker, ~50 ms here.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
# Compared against when the name is unknown, so that both cases take the same time.
_DUMMY_HASH = _hasher.hash("not a real password")
# Argon2 takes ~0.1 s of CPU and 64 MB by design: never on the event loop, and at most
# two at a time whatever the number of login requests (the others wait their turn).
_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")
PAGE_SIZE = 25
# Alerts per round trip of a streamed export: the memory of an export is that of one
# batch (a few hundred kB), and 500 ids fit any database's IN list.
EXPORT_BATCH = 500
SESSION_LIFETIME = timedelta(hours=8)  # the cookie's Max-Age too


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class AlertFilter:
    """The staff's filters; empty fields filter nothing."""

    start: date | None = None
    end: date | None = None
    sector: str | None = None
    category: str | None = None
    operator: str | None = None
    operators_in_group: tuple[str, ...] | None = None
    user_type: str | None = None
    channel: str | None = None
    photo: bool | None = None
    text: str | None = None
    newest_first: bool = True

    def conditions(self) -> list[Any]:
        where: list[Any] = []
        # Whole days in Paris, the end day included.
        if self.start:
            where.append(Alert.created_at >= day_start(self.start))
        if self.end:
            where.append(Alert.created_at < day_start(self.end + timedelta(days=1)))
        for column, value in (
            (Alert.sector, self.sector),
            (Alert.category, self.category),
            (Alert.user_type, self.user_type),
            (Alert.channel, self.channel),
        ):
            if value:
                where.append(column == value)
        # An alert about several operators is found under each of them (an alias: the
        # statistics join alert_operators themselves).
        linked = aliased(AlertOperator)
        if self.operator:
            where.append(
                or_(
                    Alert.operator == self.operator,
                    exists().where(linked.alert_id == Alert.id, linked.operator == self.operator),
                )
            )
        if self.operators_in_group is not None:
            where.append(
                or_(
                    Alert.operator.in_(self.operators_in_group),
                    exists().where(
                        linked.alert_id == Alert.id, linked.operator.in_(self.operators_in_group)
                    ),
                )
            )
        if self.photo is not None:
            has_photo = exists().where(AlertPhoto.alert_id == Alert.id)
            where.append(has_photo if self.photo else ~has_photo)
        if self.text:
            pattern = f"%{self.text.strip().lower()}%"
            where.append(
                or_(
                    func.lower(Alert.description).like(pattern),
                    func.lower(Alert.operator_text).like(pattern),
                )
            )
        return where


def _whole_months(flt: AlertFilter) -> bool:
    """Dates that start on a month's first day and end on its last (or are not set)."""
    starts = flt.start is None or flt.start.day == 1
    ends = flt.end is None or (flt.end + timedelta(days=1)).day == 1
    return starts and ends


def _month(dialect: str) -> Any:
    """YYYY-MM of an alert's creation, in Paris."""
    return month_sql(dialect, Alert.created_at)


async def _per_alert(
    session: AsyncSession, alert_id, value, position, alert_ids: list[str]
) -> dict[str, list[str]]:
    """`value` of a table keyed by alert, for each of those alerts, in `position` order."""
    if not alert_ids:
        return {}
    found: dict[str, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(alert_id, value).where(alert_id.in_(alert_ids)).order_by(alert_id, position)
    )
    for key, item in rows:
        found[key].append(item)
    return found


async def _photo_hashes(session: AsyncSession, alert_ids: list[str]) -> dict[str, list[str]]:
    """The sha256 of each alert's photos, in their order."""
    return await _per_alert(
        session, AlertPhoto.alert_id, AlertPhoto.photo_sha256, AlertPhoto.position, alert_ids
    )


async def _several_operators(session: AsyncSession, alert_ids: list[str]) -> dict[str, list[str]]:
    """The operators of those alerts that are about several, in their order."""
    return await _per_alert(
        session, AlertOperator.alert_id, AlertOperator.operator, AlertOperator.position, alert_ids
    )


def _exported_alert(
    row: Any, photos: list[str], several: list[str] | None = None
) -> dict[str, Any]:
    """One row of `alert_batches` as `alert_to_json` gives the alert (what an export reads)."""
    data: dict[str, Any] = {"id": row.id}
    data.update({name: getattr(row, name) for name in ALERT_FIELDS})
    data.update(
        operators=several or ([row.operator] if row.operator else []),
        channel=row.channel,
        created_at=iso_utc(row.created_at),
        photos=[{"sha256": sha256} for sha256 in photos],
    )
    return data


@dataclass
class TranscriptLine:
    message: Message
    annotation: Annotation | None
    unsure: bool = False
    corrected: bool = False


@dataclass
class Transcript:
    conversation: Conversation
    lines: list[TranscriptLine] = field(default_factory=list)
    alert_ids: list[str] = field(default_factory=list)


class StaffRepository:
    def __init__(self, db: Database):
        self.db = db

    # -- accounts ------------------------------------------------------------------------
    async def add_user(self, name: str, password: str) -> None:
        hashed = await asyncio.get_running_loop().run_in_executor(_HASHING, hash_password, password)
        async with self.db.session() as session, session.begin():
            session.add(StaffUser(name=name, password_hash=hashed))

    async def remove_user(self, name: str) -> bool:
        async with self.db.session() as session, session.begin():
            result = await session.execute(delete(StaffUser).where(StaffUser.name == name))
            await session.execute(delete(StaffSession).where(StaffSession.user_name == name))
            return bool(result.rowcount)

    async def set_password(self, name: str, password: str) -> bool:
        """A new password ends every session of that account."""
        hashed = await asyncio.get_running_loop().run_in_executor(_HASHING, hash_password, password)
        async with self.db.session() as session, session.begin():
            result = await session.execute(
                update(StaffUser).where(StaffUser.name == name).values(password_hash=hashed)
            )
            await session.execute(delete(StaffSession).where(StaffSession.user_name == name))
            return bool(result.rowcount)

    # -- sessions ----------------------------------------------------------------------
    async def open_session(self, name: str) -> str:
        sid = secrets.token_urlsafe(32)
        async with self.db.session() as session, session.begin():
            await session.execute(
                delete(StaffSession).where(
                    StaffSession.created_at < datetime.now(timezone.utc) - SESSION_LIFETIME
                )
            )
            session.add(StaffSession(id=sid, user_name=name))
        return sid

    async def session_user(self, sid: str) -> str | None:
        """The account of a live session (its account still there), else None."""
        async with self.db.session() as session:
            found = await session.execute(
                select(StaffSession.user_name)
                .join(StaffUser, StaffUser.name == StaffSession.user_name)
                .where(
                    StaffSession.id == sid,
                    StaffSession.created_at >= datetime.now(timezone.utc) - SESSION_LIFETIME,
                )
            )
            return found.scalar_one_or_none()

    async def close_session(self, sid: str) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(delete(StaffSession).where(StaffSession.id == sid))

    async def user_names(self) -> list[str]:
        async with self.db.session() as session:
            return list(
                (await session.execute(select(StaffUser.name).order_by(StaffUser.name))).scalars()
            )

    async def check_password(self, name: str, password: str) -> bool:
        async with self.db.session() as session:
            user = (
                await session.execute(select(StaffUser).where(StaffUser.name == name))
            ).scalar_one_or_none()
        stored = user.password_hash if user else _DUMMY_HASH
        verified = await asyncio.get_running_loop().run_in_executor(
            _HASHING, _verify, stored, password
        )
        return verified and user is not None

    # -- alerts ------------------------------------------------------------------------
    async def alerts(
        self, flt: AlertFilter, page: int = 1, page_size: int | None = PAGE_SIZE
    ) -> tuple[list[dict], int]:
        """One page of the filtered alerts (all of them when page_size is None) + total."""
        where = and_(*flt.conditions()) if flt.conditions() else True
        order = Alert.created_at.desc() if flt.newest_first else Alert.created_at.asc()
        async with self.db.session() as session:
            total = (await session.execute(select(func.count(Alert.id)).where(where))).scalar_one()
            query = select(Alert).where(where).order_by(order, Alert.id)
            if page_size:
                query = query.offset((max(page, 1) - 1) * page_size).limit(page_size)
            rows = (await session.execute(query)).scalars().all()
            return [alert_to_json(a) for a in rows], total

    async def alert_batches(
        self, flt: AlertFilter, batch: int | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The filtered alerts in the order of `alerts`, `batch` (EXPORT_BATCH) at a time,
        for the exports: the dicts of `alert_to_json` without the conversation id, photos
        as their sha256 only (never a server path).

        One query read through a server-side cursor (`AsyncSession.stream` with
        `yield_per`), plus one query for the photos of each batch: memory stays that of
        a batch whatever the number of alerts, and the whole export is one snapshot (the
        read transaction lasts until the last batch is taken, or the iterator closed)."""
        size = batch or EXPORT_BATCH
        where = and_(*flt.conditions()) if flt.conditions() else True
        order = Alert.created_at.desc() if flt.newest_first else Alert.created_at.asc()
        columns = [
            Alert.id,
            Alert.channel,
            Alert.created_at,
            *(getattr(Alert, name) for name in ALERT_FIELDS),
        ]
        query = (
            select(*columns)
            .where(where)
            .order_by(order, Alert.id)
            .execution_options(yield_per=size)
        )
        # Streamed for as long as the download lasts: outside the pool kept for turns.
        async with self.db.unpooled_session() as session:
            result = await session.stream(query)
            async for rows in result.partitions():
                ids = [row.id for row in rows]
                photos = await _photo_hashes(session, ids)
                several = await _several_operators(session, ids)
                yield [
                    _exported_alert(row, photos.get(row.id, []), several.get(row.id))
                    for row in rows
                ]

    async def opendata_groups(
        self, flt: AlertFilter
    ) -> AsyncIterator[list[tuple[str, str | None, str | None, str | None, str | None, int]]]:
        """The filtered alerts counted by month (YYYY-MM, Paris), sector, category, operator
        and location, sorted by month, in batches of rows: the open-data file's groups
        before its départements, which are read from the location text
        (`exports.department_of`), and before the suppression of small counts, which
        can then settle each month as soon as the next one starts."""
        where = and_(*flt.conditions()) if flt.conditions() else True
        month = _month(self.db.engine.dialect.name)
        # An alert about several operators counts once for each of them.
        operator = func.coalesce(AlertOperator.operator, Alert.operator)
        columns = [month, Alert.sector, Alert.category, operator, Alert.location]
        query = (
            select(*columns, func.count())
            .select_from(Alert)
            .outerjoin(AlertOperator, AlertOperator.alert_id == Alert.id)
            .where(where)
            .group_by(*columns)
            .order_by(month)
            .execution_options(yield_per=EXPORT_BATCH * 10)
        )
        async with self.db.unpooled_session() as session:  # as `alert_batches`
            result = await session.stream(query)
            async for rows in result.partitions():
                yield [tuple(row) for row in rows]

    async def started_durations(self, flt: AlertFilter) -> dict[int | None, int]:
        """The filtered alerts whose problem asks when it started, counted by how long it
        had lasted when reported: the lower bound of its `DURATION_BUCKETS` bucket in days,
        or None when the person did not say. One GROUP BY."""
        days = days_since_sql(self.db.engine.dialect.name, Alert.started_on, Alert.created_at)
        bucket = case(
            *(
                (days < upper, lower)
                for lower, upper in zip(DURATION_BUCKETS, DURATION_BUCKETS[1:])
            ),
            else_=DURATION_BUCKETS[-1],
        )
        bucket = case((Alert.started_on.is_(None), None), else_=bucket)
        where = and_(*flt.conditions(), Alert.category.in_(STARTED_ASKED_BY))
        async with self.db.session() as session:
            rows = await session.execute(select(bucket, func.count()).where(where).group_by(bucket))
            return {row[0]: row[1] for row in rows}

    async def alert_groups(self, flt: AlertFilter) -> list[tuple[dict, int]]:
        """The filtered alerts grouped by every field the statistics use, with counts.
        From the monthly counts kept with every alert (a few thousand rows whatever the
        number of alerts) unless a filter needs the alerts themselves (photo, text, dates
        that cut a month)."""
        if flt.photo is None and not flt.text and _whole_months(flt):
            return await self._counted_groups(flt)
        where = and_(*flt.conditions()) if flt.conditions() else True
        month = _month(self.db.engine.dialect.name)
        # An alert about several operators: one group per operator, once in all (`alerts`,
        # in its first operator's group).
        operator = func.coalesce(AlertOperator.operator, Alert.operator)
        typed = case((operator.is_(None), Alert.operator_text), else_=None)
        columns = [
            operator,
            typed,
            Alert.category,
            Alert.sector,
            Alert.user_type,
            Alert.channel,
            month,
        ]
        names = ("operator", "operator_text", "category", "sector", "user_type", "channel", "month")
        once = func.sum(
            case((or_(AlertOperator.position.is_(None), AlertOperator.position == 0), 1), else_=0)
        )
        # Filtered on operators: only theirs, each alert once under them.
        if flt.operator:
            where, once = and_(where, operator == flt.operator), func.count()
        if flt.operators_in_group is not None:
            where, once = and_(where, operator.in_(flt.operators_in_group)), func.count()
        async with self.db.session() as session:
            rows = await session.execute(
                select(*columns, func.count(), once)
                .select_from(Alert)
                .outerjoin(AlertOperator, AlertOperator.alert_id == Alert.id)
                .where(where)
                .group_by(*columns)
            )
            return [
                ({**dict(zip(names, row[:-2])), "alerts": int(row[-1])}, row[-2]) for row in rows
            ]

    async def _counted_groups(self, flt: AlertFilter) -> list[tuple[dict, int]]:
        where: list[Any] = []
        if flt.start:
            where.append(AlertCount.month >= flt.start.isoformat()[:7])
        if flt.end:
            where.append(AlertCount.month <= flt.end.isoformat()[:7])
        for column, value in (
            (AlertCount.sector, flt.sector),
            (AlertCount.category, flt.category),
            (AlertCount.operator, flt.operator),
            (AlertCount.user_type, flt.user_type),
            (AlertCount.channel, flt.channel),
        ):
            if value:
                where.append(column == value)
        if flt.operators_in_group is not None:
            where.append(AlertCount.operator.in_(flt.operators_in_group))
        columns = [
            AlertCount.operator,
            AlertCount.category,
            AlertCount.sector,
            AlertCount.user_type,
            AlertCount.channel,
            AlertCount.month,
        ]
        async with self.db.session() as session:
            # One row per group already (the key is the primary key): no GROUP BY.
            rows = await session.execute(
                select(*columns, AlertCount.count, AlertCount.alerts).where(
                    and_(*where) if where else True
                )
            )
            groups = []
            for operator, category, sector, user_type, channel, in_month, count, once in rows:
                typed = operator == FREE_TEXT_OPERATOR
                groups.append(
                    (
                        {
                            "operator": None if typed else (operator or None),
                            "operator_text": "texte libre" if typed else None,
                            "category": category or None,
                            "sector": sector or None,
                            "user_type": user_type or None,
                            "channel": channel or None,
                            "month": in_month,
                            # Filtered on operators: each alert once under them.
                            "alerts": int(
                                count
                                if flt.operator or flt.operators_in_group is not None
                                else once
                            ),
                        },
                        int(count),
                    )
                )
            return groups

    async def free_text_operators(self, flt: AlertFilter, limit: int = 50) -> list[tuple[str, int]]:
        """The operators typed by hand (« autre (texte libre) » in the statistics), as
        written (case and spaces aside), most frequent first, for the table beside it."""
        conditions = [
            *flt.conditions(),
            Alert.operator.is_(None),
            Alert.operator_text.is_not(None),
            Alert.operator_text != "",
            ~exists().where(AlertOperator.alert_id == Alert.id),
        ]
        typed = func.lower(func.trim(Alert.operator_text))
        async with self.db.session() as session:
            rows = await session.execute(
                select(typed, func.min(Alert.operator_text), func.count())
                .where(and_(*conditions))
                .group_by(typed)
                .order_by(func.count().desc(), typed)
                .limit(limit)
            )
            return [(written, int(count)) for _, written, count in rows]

    async def alert(self, alert_id: str) -> dict | None:
        async with self.db.session() as session:
            found = await session.get(Alert, alert_id)
            return alert_to_json(found) if found else None

    async def photo_known(self, relative_path: str) -> bool:
        from storage.models import Photo

        async with self.db.session() as session:
            found = await session.execute(select(Photo.sha256).where(Photo.path == relative_path))
            return found.first() is not None

    # -- transcripts and annotations -------------------------------------------------------
    async def transcript(self, conversation_id: int) -> Transcript | None:
        async with self.db.session() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None:
                return None
            messages = (
                (
                    await session.execute(
                        select(Message)
                        .where(Message.conversation_id == conversation_id)
                        .order_by(Message.id)
                    )
                )
                .scalars()
                .all()
            )
            annotations = {
                a.message_id: a
                for a in (
                    await session.execute(
                        select(Annotation)
                        .join(Message)
                        .where(Message.conversation_id == conversation_id)
                    )
                ).scalars()
            }
            alert_ids = list(
                (
                    await session.execute(
                        select(Alert.id)
                        .where(Alert.conversation_id == conversation_id)
                        .order_by(Alert.created_at)
                    )
                ).scalars()
            )
        lines = [TranscriptLine(m, annotations.get(m.id)) for m in messages]
        _mark(lines)
        return Transcript(conversation, lines, alert_ids)

    async def annotate(
        self, message_id: int, staff_user: str, values: dict[str, str | None]
    ) -> int | None:
        """Stores a correction of a user message; returns its conversation id."""
        async with self.db.session() as session, session.begin():
            message = await session.get(Message, message_id)
            if message is None or message.sender != "user" or not message.text:
                return None
            annotation = await session.get(Annotation, message_id) or Annotation(
                message_id=message_id
            )
            for name in ("intent", "category", "operator", "sector"):
                setattr(annotation, name, values.get(name) or None)
            annotation.staff_user = staff_user
            annotation.updated_at = datetime.now(timezone.utc)
            session.add(annotation)
            return message.conversation_id

    async def annotated_messages(self) -> list[dict[str, Any]]:
        """Corrected messages, with the operator as written when the parse had one."""
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(Message, Annotation)
                    .join(Annotation, Annotation.message_id == Message.id)
                    .order_by(Message.id)
                )
            ).all()
        items = []
        for message, annotation in rows:
            parsed = message.nlu or {}
            items.append(
                {
                    "text": message.text,
                    "intent": annotation.intent,
                    "category": annotation.category,
                    "operator": annotation.operator,
                    "sector": annotation.sector,
                    # The words as written name the annotated operator only if the model
                    # read them as that one; otherwise they would become a wrong synonym.
                    "operator_text": (
                        parsed.get("operator_text")
                        if annotation.operator and annotation.operator == parsed.get("operator")
                        else None
                    ),
                }
            )
        return items


_FIX_REPLIES = (
    "C'est corrigé.",
    "Updated.",
    "Que voulez-vous corriger ?",
    "What would you like to change?",
)


def _mark(lines: Iterable[TranscriptLine]) -> None:
    """Flags user turns where the bot was unsure, and those the person corrected."""
    lines = list(lines)
    for i, line in enumerate(lines):
        m = line.message
        if m.sender != "user":
            continue
        nlu = m.nlu or {}
        if nlu:
            line.unsure = (
                nlu.get("intent") == "nlu_fallback"
                or float(nlu.get("confidence") or 0) < 0.5
                or (nlu.get("is_report") and not nlu.get("category"))
            )
        value = (m.payload or {}).get("value", "") if m.kind == "choice" else ""
        following = next((n.message for n in lines[i + 1 :] if n.message.sender == "bot"), None)
        line.corrected = (
            value.startswith("fix:")
            or bool((m.marks or 0) & 2)
            or bool(following is not None and (following.text or "").startswith(_FIX_REPLIES))
        )


class LoginTries:
    """Staff login tries, in the `counters` table every worker shares (the policy is
    bot.console.auth.LoginThrottle's). A row is a key and a moment (`window`, Unix
    seconds) with a count: failures per window, the moment a key may next be checked,
    the checks in progress. Each write is one atomic statement."""

    def __init__(self, db: Database):
        self.db = db
        table = Counter.__table__
        insert = db.insert(table)
        self._add = insert.on_conflict_do_update(
            index_elements=[table.c.key, table.c.window],
            set_={"count": table.c.count + insert.excluded.count},
        ).returning(table.c.key, table.c.window, table.c.count)

    async def add(self, rows: Iterable[tuple[str, int]], by: int = 1) -> list[int]:
        """Adds `by` to each (key, window) row, made if missing; the new counts, in order."""
        rows = list(rows)
        async with self.db.engine.begin() as conn:
            found = await conn.execute(
                self._add, [{"key": key, "window": window, "count": by} for key, window in rows]
            )
            counts = {(key, window): count for key, window, count in found}
        return [counts[row] for row in rows]

    async def counts(self, rows: Iterable[tuple[str, int]]) -> list[int]:
        """The count of each (key, window) row, 0 if missing."""
        rows = list(rows)
        async with self.db.session() as session:
            found = await session.execute(
                select(Counter.key, Counter.window, Counter.count).where(
                    Counter.key.in_({key for key, _ in rows})
                )
            )
            counts = {(key, window): count for key, window, count in found}
        return [counts.get(row, 0) for row in rows]

    async def latest(self, keys: Iterable[str]) -> dict[str, int]:
        """The latest moment recorded under each key that has one."""
        async with self.db.session() as session:
            found = await session.execute(
                select(Counter.key, func.max(Counter.window))
                .where(Counter.key.in_(set(keys)))
                .group_by(Counter.key)
            )
            return {key: moment for key, moment in found}

    async def forget(self, keys: Iterable[str]) -> None:
        async with self.db.session() as session, session.begin():
            await session.execute(delete(Counter).where(Counter.key.in_(set(keys))))
