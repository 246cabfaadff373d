"""Database tables. Ids of the taxonomy are stored as plain strings."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import BigInteger as sa_BigInteger
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class Conversation(Base):
    """One person on one channel, known only by a pseudonymous key (HMAC of their id)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_key", name="uq_conversation_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_key: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2), default="fr")
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id"
    )


class Message(Base):
    """One line of the transcript: what the person sent, or what the bot answered."""

    __tablename__ = "messages"
    # The funnel and the list's filters read these indexes alone.
    __table_args__ = (
        Index("ix_messages_step", "step", "sender", "conversation_id"),
        Index("ix_messages_marks", "marks", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[str] = mapped_column(String(4))  # "user" | "bot"
    kind: Mapped[str] = mapped_column(String(16))  # text, choice, photo, command, location, reply
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[Any | None] = mapped_column(JSON)  # choice value, reply structure…
    nlu: Mapped[Any | None] = mapped_column(JSON)  # the parse of a user text
    attachments: Mapped[Any | None] = mapped_column(JSON)  # photo hashes, rejected files
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Review markers (ids and flags only, never text; see migration 0006): the question
    # a bot reply ended on, or a person's message answered; MARK_* flags of the turn.
    step: Mapped[str | None] = mapped_column(String(32))
    marks: Mapped[int | None]

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Photo(Base):
    """A cleaned picture, stored once under the data dir by its SHA-256."""

    __tablename__ = "photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertPhoto(Base):
    __tablename__ = "alert_photos"

    alert_id: Mapped[str] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    photo_sha256: Mapped[str] = mapped_column(ForeignKey("photos.sha256"), primary_key=True)
    position: Mapped[int]

    photo: Mapped[Photo] = relationship(lazy="joined")


class Alert(Base):
    """A saved report: every field of the taxonomy's alert record."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # the reference shown
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_type: Mapped[str | None] = mapped_column(String(32))
    sector: Mapped[str | None] = mapped_column(String(16), index=True)
    operator: Mapped[str | None] = mapped_column(String(32), index=True)
    operator_text: Mapped[str | None] = mapped_column(String(120))
    # Number portability: the operator left, when the one at fault (`operator`) is another.
    previous_operator: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32), index=True)
    technology: Mapped[str | None] = mapped_column(String(16))
    location: Mapped[str | None] = mapped_column(String(120))
    # The day (in Paris) the problem started, as the person said it; None when not said.
    started_on: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    contacted_customer_service: Mapped[str] = mapped_column(String(8), default="unknown")
    advice_sheet: Mapped[str | None] = mapped_column(String(64))
    advice_rating: Mapped[str | None] = mapped_column(String(16))  # useful | not_useful
    shared: Mapped[bool] = mapped_column(default=False)

    photos: Mapped[list[AlertPhoto]] = relationship(
        order_by="AlertPhoto.position", lazy="selectin", cascade="all, delete-orphan"
    )
    # The operators of an alert about several (`operator` is then null); none for one.
    operator_links: Mapped[list[AlertOperator]] = relationship(
        order_by="AlertOperator.position", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def operators(self) -> list[str]:
        """Every operator id of the alert: several, [operator], or []."""
        if self.operator_links:
            return [link.operator for link in self.operator_links]
        return [self.operator] if self.operator else []


class AlertOperator(Base):
    """One operator of an alert about several (« aucun opérateur ne capte »): a row per
    operator, so that the counts and the filters are plain joins on any database."""

    __tablename__ = "alert_operators"

    alert_id: Mapped[str] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    operator: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    position: Mapped[int]


class StaffUser(Base):
    """A regulator staff member who may read alerts and transcripts."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Annotation(Base):
    """What a staff member says a user message really meant (for retraining the NLU)."""

    __tablename__ = "annotations"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    intent: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    operator: Mapped[str | None] = mapped_column(String(32))
    sector: Mapped[str | None] = mapped_column(String(16))
    staff_user: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingUpload(Base):
    """A photo posted to /upload, cleaned and stored, waiting for its "photo" frame
    (which any worker may receive). `error`: why it was refused, told at that turn."""

    __tablename__ = "pending_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64))
    photo: Mapped[Any | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Counter(Base):
    """Events per key and time window (rate limits, login tries), shared by workers."""

    __tablename__ = "counters"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window: Mapped[int] = mapped_column(primary_key=True)  # window start, Unix seconds
    count: Mapped[int] = mapped_column(default=0)


class TelegramUpdate(Base):
    """A Telegram update as received: stored before Telegram gets its 200, handled
    once (its `update_id` is the key, so a second delivery is recognised). The payload
    (what handling needs, masked: storage.shared.kept_update) and the sender's key live
    only until the update is handled, « Oubliez-moi » or the transcripts' retention."""

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(sa_BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[Any | None] = mapped_column(JSON)  # emptied once handled
    person: Mapped[str | None] = mapped_column(String(64))  # Conversation.user_key
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(index=True)


class StaffSession(Base):
    """A staff login, known by the random id its cookie carries: logging out, changing
    the password or removing the account deletes it, and the cookie stops working."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertCount(Base):
    """Alerts per month and per statistics field, kept with every saved alert: the
    dashboard reads these rows instead of every alert. No free text: an
    operator typed by hand counts as FREE_TEXT_OPERATOR, empty strings stand for none.
    An alert about several operators counts in one row per operator (`count`), and once
    in all (`alerts`: 1 in the row of its first operator only), for the totals."""

    __tablename__ = "alert_counts"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM, UTC
    operator: Mapped[str] = mapped_column(String(32), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    sector: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    alerts: Mapped[int] = mapped_column(default=0, server_default="0")


class PhotoBlob(Base):
    """A cleaned photo's bytes, when the database is shared (PostgreSQL): every host reads
    them here. Written at upload, before an alert refers to the photo (no foreign key);
    erasure and redaction delete them in the transaction that deletes the rows."""

    __tablename__ = "photo_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NluModel(Base):
    """A model put in service, with the figures that promoted it: the newest version is
    the one every host's parse service serves (bot.process.models)."""

    __tablename__ = "nlu_models"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    figures: Mapped[Any | None] = mapped_column(JSON)
    promoted_by: Mapped[str] = mapped_column(String(120))
    promoted_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetrainJob(Base):
    """A retrain started from the console, seen by every host: the host that runs it
    beats `heartbeat_at`; a job whose beat stopped was interrupted."""

    __tablename__ = "retrain_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # running | done | interrupted
    started_by: Mapped[str] = mapped_column(String(120))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    returncode: Mapped[int | None]
    log: Mapped[str] = mapped_column(Text, default="", server_default="")


FREE_TEXT_OPERATOR = "~texte"  # never an operator id of the taxonomy

# Message.marks
MARK_UNSURE = 1  # a person's message the NLU was unsure about
MARK_CORRECTED = 2  # a person's message that corrected the bot
MARK_REPEATED = 4  # a bot reply asking again the question it had just asked
