"""Database tables. Ids of the taxonomy are stored as plain strings."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON, Boolean, Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Conversation(Base):
    """One person on one channel, known only by a pseudonymous key (HMAC of their id)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_key", name="uq_conversation_user"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(16), nullable=False)
    user_key = Column(String(64), nullable=False)
    language = Column(String(2), nullable=False, default="fr")
    state = Column(JSON, nullable=False, default=dict)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    messages = relationship("Message", back_populates="conversation", order_by="Message.id")


class Message(Base):
    """One line of the transcript: what the person sent, or what the bot answered."""

    __tablename__ = "messages"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    sender = Column(String(4), nullable=False)  # "user" | "bot"
    kind = Column(String(16), nullable=False)  # text, choice, photo, command, location, reply
    text = Column(Text, nullable=True)
    payload = Column(JSON, nullable=True)  # choice value, reply structure…
    nlu = Column(JSON, nullable=True)  # the parse of a user text
    attachments = Column(JSON, nullable=True)  # photo hashes, rejected file reasons
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    conversation = relationship("Conversation", back_populates="messages")


class Photo(Base):
    """A cleaned picture, stored once under the data dir by its SHA-256."""

    __tablename__ = "photos"

    sha256 = Column(String(64), primary_key=True)
    path = Column(String(255), nullable=False)
    content_type = Column(String(32), nullable=False)
    size = Column(Integer, nullable=False)
    width = Column(Integer, nullable=False)
    height = Column(Integer, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class AlertPhoto(Base):
    __tablename__ = "alert_photos"

    alert_id = Column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    photo_sha256 = Column(ForeignKey("photos.sha256"), primary_key=True)
    position = Column(Integer, nullable=False)

    photo = relationship("Photo", lazy="joined")


class Alert(Base):
    """A saved report: every field of the taxonomy's alert record."""

    __tablename__ = "alerts"

    id = Column(String(16), primary_key=True)  # the reference shown to the person
    conversation_id = Column(ForeignKey("conversations.id"), nullable=False, index=True)
    channel = Column(String(16), nullable=False)
    language = Column(String(2), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    user_type = Column(String(32))
    sector = Column(String(16), index=True)
    operator = Column(String(32), index=True)
    operator_text = Column(String(120))
    category = Column(String(32), index=True)
    technology = Column(String(16))
    location = Column(String(120))
    description = Column(Text, nullable=False, default="")
    contacted_customer_service = Column(String(8), nullable=False, default="unknown")
    advice_sheet = Column(String(64))
    advice_rating = Column(String(16))  # "useful" | "not_useful"
    shared = Column(Boolean, nullable=False, default=False)

    photos = relationship("AlertPhoto", order_by="AlertPhoto.position", lazy="selectin",
                          cascade="all, delete-orphan")


class StaffUser(Base):
    """A regulator staff member who may read alerts and transcripts."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Annotation(Base):
    """What a staff member says a user message really meant (for retraining the NLU)."""

    __tablename__ = "annotations"

    message_id = Column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    intent = Column(String(32))
    category = Column(String(32))
    operator = Column(String(32))
    sector = Column(String(16))
    staff_user = Column(String(64), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
