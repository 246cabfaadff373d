"""Retention: what is kept, and for how long (`jalerte purge`, and the server daily).

- transcripts (messages), stale drafts and photos: `transcript_days` (default 90);
- alerts keep their structured fields for good (the counts); their free text (the
  description, a typed operator name) goes after `free_text_days` (default 365);
- picture files nothing refers to any more (an abandoned draft's, an expired upload's)
  go after a day;
- Telegram updates stored and never handled (Telegram unreachable at start, the server
  stopped first) go after `transcript_days`, as the messages they would have become.

Every step deletes in batches, so a large purge neither holds a lock for long nor
needs memory in proportion; SQLite's log is folded into the database at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import String, cast, delete, func, select, update

from storage.db import Database
from storage.models import (
    PhotoBlob,
    RetrainJob,
    Alert,
    AlertPhoto,
    Annotation,
    Conversation,
    Message,
    PendingUpload,
    Photo,
    TelegramUpdate,
)
from storage.photos import drop_photo_bytes, still_used
from storage.shared import TelegramUpdates

BATCH = 2000
ORPHAN_GRACE = timedelta(days=1)


@dataclass
class PurgeReport:
    messages: int = 0
    drafts: int = 0
    alert_photos: int = 0
    descriptions: int = 0
    uploads: int = 0
    files: int = 0
    updates: int = 0
    steps: list[str] = field(default_factory=list)

    def as_text(self) -> str:
        return (
            f"{self.messages} messages, {self.drafts} brouillons, "
            f"{self.alert_photos} photos d'alertes, {self.descriptions} descriptions, "
            f"{self.uploads} envois en attente, {self.updates} messages Telegram jamais "
            f"traités, {self.files} fichiers effacés"
        )


Progress = Callable[[str, int, int], None]  # step, done, total


async def purge(
    db: Database,
    photo_root: Path,
    transcript_days: int,
    free_text_days: int,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> PurgeReport:
    now = now or datetime.now(timezone.utc)
    old = now - timedelta(days=transcript_days)
    ancient = now - timedelta(days=free_text_days)
    report = PurgeReport()
    tell = progress or (lambda _step, _done, _total: None)

    # Transcripts.
    total = await _count(
        db, select(func.count()).select_from(Message).where(Message.created_at < old)
    )
    while True:
        async with db.session() as session, session.begin():
            ids = list(
                (
                    await session.execute(
                        select(Message.id).where(Message.created_at < old).limit(BATCH)
                    )
                ).scalars()
            )
            if not ids:
                break
            await session.execute(delete(Annotation).where(Annotation.message_id.in_(ids)))
            await session.execute(delete(Message).where(Message.id.in_(ids)))
        report.messages += len(ids)
        tell("messages", report.messages, total)

    # Drafts left untouched since then: their text and photos. Read for writing (FOR
    # UPDATE on PostgreSQL, SQLite's write lock): a turn's new state is never overwritten
    # with the purged one. On SQLite, and on PostgreSQL with a turn that holds the row,
    # the purge waits for the turn and then finds the draft fresh; a PostgreSQL turn that
    # read the row without a lock finds at its end that the purge changed it, and runs
    # again on the purged draft (storage.repository, TurnConflict).
    async with db.session() as session, session.begin():
        await db.write_transaction(session, "retention:drafts")
        stale = (
            (
                await session.execute(
                    select(Conversation)
                    .where(
                        Conversation.updated_at < old,
                        cast(Conversation.state, String).contains('"draft": {'),
                    )
                    .with_for_update()
                )
            )
            .scalars()
            .all()
        )
        for conversation in stale:
            conversation.state = {
                k: v for k, v in (conversation.state or {}).items() if k in ("language",)
            }
        report.drafts = len(stale)
    tell("drafts", report.drafts, report.drafts)

    # Photos of old alerts (the alert itself stays).
    async with db.session() as session, session.begin():
        old_alerts = select(Alert.id).where(Alert.created_at < old)
        gone = await session.execute(
            delete(AlertPhoto)
            .where(AlertPhoto.alert_id.in_(old_alerts))
            .returning(AlertPhoto.photo_sha256)
        )
        report.alert_photos = len(gone.all())
        unused = (
            await session.execute(
                delete(Photo)
                .where(~Photo.sha256.in_(select(AlertPhoto.photo_sha256)))
                .returning(Photo.sha256)
            )
        ).scalars()
        unused = list(unused)
        # The shared store's bytes, with the rows; not those a draft or pending upload
        # holds (the same picture sent again since).
        await drop_photo_bytes(session, set(unused) - await still_used(session, unused))
    tell("alert photos", report.alert_photos, report.alert_photos)

    # Free text of old alerts.
    async with db.session() as session, session.begin():
        done = await session.execute(
            update(Alert)
            .where(
                Alert.created_at < ancient,
                (Alert.description != "") | Alert.operator_text.is_not(None),
            )
            .values(description="", operator_text=None)
        )
        report.descriptions = done.rowcount or 0
    tell("descriptions", report.descriptions, report.descriptions)

    # Uploads never sent.
    async with db.session() as session, session.begin():
        done = await session.execute(
            delete(PendingUpload).where(PendingUpload.created_at < now - timedelta(minutes=15))
        )
        report.uploads = done.rowcount or 0

    # Telegram updates never handled; and the ids of handled ones, kept against
    # redeliveries for a while.
    async with db.session() as session, session.begin():
        done = await session.execute(
            delete(TelegramUpdate).where(
                TelegramUpdate.handled_at.is_(None), TelegramUpdate.received_at < old
            )
        )
        report.updates = done.rowcount or 0
        await session.execute(
            delete(TelegramUpdate).where(TelegramUpdate.handled_at < now - TelegramUpdates.KEEP_IDS)
        )
    tell("telegram", report.updates, report.updates)

    # The console's retrain jobs (their log's tail) with the transcripts.
    async with db.session() as session, session.begin():
        await session.execute(delete(RetrainJob).where(RetrainJob.started_at < old))

    report.files = await remove_orphan_files(db, photo_root, now, tell)
    await db.fold_log()
    return report


async def remove_orphan_files(db: Database, root: Path, now: datetime, tell: Progress) -> int:
    """Pictures (files, and bytes in the shared store) no alert, pending upload or draft
    refers to, older than a day."""
    async with db.session() as session:
        used = set((await session.execute(select(AlertPhoto.photo_sha256))).scalars())
        texts = [
            str(t)
            for t in (
                await session.execute(
                    select(cast(Conversation.state, String)).where(
                        cast(Conversation.state, String).contains("sha256")
                    )
                )
            ).scalars()
        ]
        texts += [
            str(t)
            for t in (await session.execute(select(cast(PendingUpload.photo, String)))).scalars()
        ]
    referenced = " ".join(texts)
    removed = await _remove_orphan_bytes(db, used, referenced, now)
    if not root.exists():
        return removed
    files = [p for p in root.rglob("*") if p.is_file()]
    for n, path in enumerate(files, 1):
        sha = path.stem
        young = now.timestamp() - path.stat().st_mtime < ORPHAN_GRACE.total_seconds()
        if not young and sha not in used and sha not in referenced:
            path.unlink()
            removed += 1
        if n % 200 == 0 or n == len(files):
            tell("files", n, len(files))
    return removed


async def _count(db: Database, statement) -> int:
    async with db.session() as session:
        return int(await session.scalar(statement) or 0)


async def _remove_orphan_bytes(db: Database, used: set[str], referenced: str, now: datetime) -> int:
    """The shared store's bytes (storage.photos.SharedPhotoStore) nothing refers to."""
    async with db.session() as session, session.begin():
        candidates = (
            await session.execute(
                select(PhotoBlob.sha256).where(PhotoBlob.created_at < now - ORPHAN_GRACE)
            )
        ).scalars()
        orphans = [sha for sha in candidates if sha not in used and sha not in referenced]
        await drop_photo_bytes(session, orphans)
    return len(orphans)
