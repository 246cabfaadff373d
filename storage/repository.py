"""Reads and writes of one conversation turn, in a single transaction."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any, AsyncIterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nlu.taxonomy import Taxonomy
from storage.db import Database
from storage.models import Alert, AlertPhoto, Conversation, Message, Photo

ALERT_FIELDS = ("user_type", "sector", "operator", "operator_text", "category", "technology",
                "location", "description", "contacted_customer_service", "advice_sheet",
                "advice_rating", "shared", "language")
UPDATABLE = frozenset({"advice_rating", "shared"})


def alert_to_json(alert: Alert) -> dict[str, Any]:
    """The saved alert with taxonomy ids: the record `jalerte chat --json` prints."""
    data: dict[str, Any] = {"id": alert.id}
    data.update({name: getattr(alert, name) for name in ALERT_FIELDS})
    data.update(
        channel=alert.channel,
        conversation_id=alert.conversation_id,
        created_at=_iso(alert.created_at),
        photos=[
            {"sha256": link.photo.sha256, "path": link.photo.path,
             "content_type": link.photo.content_type, "size": link.photo.size,
             "width": link.photo.width, "height": link.photo.height}
            for link in alert.photos
        ],
    )
    return data


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite gives naive datetimes back
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


class TurnRecord:
    """What one turn reads and writes; committed together when the turn ends."""

    def __init__(self, session: AsyncSession, conversation: Conversation,
                 taxonomy: Taxonomy):
        self.session = session
        self.conversation = conversation
        self.taxonomy = taxonomy

    @property
    def state(self) -> dict[str, Any]:
        return dict(self.conversation.state or {})

    @property
    def conversation_id(self) -> int:
        return self.conversation.id

    def add_message(self, sender: str, kind: str, text: str | None = None,
                    payload: Any = None, nlu: Any = None, attachments: Any = None) -> None:
        self.session.add(Message(
            conversation_id=self.conversation.id, sender=sender, kind=kind, text=text,
            payload=payload, nlu=nlu, attachments=attachments,
        ))

    def set_state(self, state: dict[str, Any], language: str) -> None:
        self.conversation.state = state
        self.conversation.language = language
        self.conversation.updated_at = datetime.now(timezone.utc)

    async def save_alert(self, record: dict[str, Any], channel: str) -> dict[str, Any]:
        """Saves a new alert; refuses one that breaks the taxonomy's rules (the engine
        never produces one: this is the last line, for any other writer)."""
        problems = self.taxonomy.alert_problems(record)
        if problems:
            raise InconsistentAlert("; ".join(problems))
        alert = Alert(id=record["id"], conversation_id=self.conversation.id, channel=channel,
                      photos=[], **{name: record.get(name) for name in ALERT_FIELDS})
        alert.shared = bool(record.get("shared"))
        for position, photo in enumerate(record.get("photos") or []):
            stored = await self.session.get(Photo, photo["sha256"])
            if stored is None:
                stored = Photo(**{k: photo[k] for k in
                                  ("sha256", "path", "content_type", "size", "width", "height")})
                self.session.add(stored)
            alert.photos.append(AlertPhoto(photo=stored, position=position))
        self.session.add(alert)
        await self.session.flush()
        return alert_to_json(alert)

    async def update_alert(self, changes: dict[str, Any]) -> dict[str, Any] | None:
        alert = await self.session.get(Alert, changes["id"])
        if alert is None or alert.conversation_id != self.conversation.id:
            return None
        for name, value in changes.items():
            if name in UPDATABLE:
                setattr(alert, name, value)
        await self.session.flush()
        return alert_to_json(alert)


class InconsistentAlert(ValueError):
    """An alert whose fields contradict each other (a parcel carrier with no network…)."""


class ConversationRepository:
    def __init__(self, db: Database, taxonomy: Taxonomy):
        self.db = db
        self.taxonomy = taxonomy

    @asynccontextmanager
    async def turn(self, channel: str, user_key: str) -> AsyncIterator[TurnRecord]:
        """Opens the person's conversation (creating it) for one turn; commits at the end."""
        async with self.db.session() as session:
            async with session.begin():
                # Any worker may take this person's next message: one turn at a time,
                # each reading what the previous one committed.
                await self.db.write_transaction(session, f"turn:{channel}:{user_key}")
                conversation = await self._get_or_create(session, channel, user_key)
                yield TurnRecord(session, conversation, self.taxonomy)

    @staticmethod
    async def _get_or_create(session: AsyncSession, channel: str, user_key: str) -> Conversation:
        found = await session.execute(
            select(Conversation).where(Conversation.channel == channel,
                                       Conversation.user_key == user_key)
        )
        conversation = found.scalar_one_or_none()
        if conversation is not None:
            return conversation
        try:
            async with session.begin_nested():
                conversation = Conversation(channel=channel, user_key=user_key, state={})
                session.add(conversation)
            return conversation
        except IntegrityError:
            # Another process created it at the same instant: use theirs.
            found = await session.execute(
                select(Conversation).where(Conversation.channel == channel,
                                           Conversation.user_key == user_key)
            )
            return found.scalar_one()

    async def transcript(self, channel: str, user_key: str) -> list[Message]:
        async with self.db.session() as session:
            found = await session.execute(
                select(Message).join(Conversation)
                .where(Conversation.channel == channel, Conversation.user_key == user_key)
                .order_by(Message.id)
            )
            return list(found.scalars())

    async def alert(self, alert_id: str) -> dict[str, Any] | None:
        async with self.db.session() as session:
            alert = await session.get(Alert, alert_id)
            return alert_to_json(alert) if alert else None
