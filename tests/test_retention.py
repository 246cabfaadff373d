"""Retention: `jalerte purge` keeps the counts and lets the rest go on time."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update

from dialogues.events import ChoiceEvent
from dialogues.service import IncomingPhoto
from storage.models import Alert, Conversation, Message
from storage.retention import purge
from tests.images import image_bytes


async def _alert_with_photo(bot, user: str, width: int) -> str:
    await bot.send("Orange me facture deux fois ma box, voici la facture", user=user)
    await bot.send(IncomingPhoto(image_bytes("PNG", size=(width, 13))), user=user)
    await bot.send("non", user=user)
    for _ in range(4):
        state = await bot.service.state_of("cli", user)
        if state.expecting == "confirmation":
            break
        await bot.send("je ne sais pas", user=user)
    saved = await bot.send(ChoiceEvent("confirm:send"), user=user)
    assert saved.alert_id
    return saved.alert_id


async def test_purge_keeps_counts_and_lets_old_text_and_photos_go(bot) -> None:
    old_alert = await _alert_with_photo(bot, "alice", 41)
    new_alert = await _alert_with_photo(bot, "bob", 42)  # another picture, another file
    await bot.send("colis DPD perdu", user="carol")  # a draft, then silence
    await bot.send(IncomingPhoto(image_bytes("PNG", size=(17, 43))), user="carol")
    carol = await bot.service.state_of("cli", "carol")
    carol_photo = bot.photos.root / carol.draft.photos[0]["path"]
    old_photo = bot.photos.root / (await bot.repository.alert(old_alert))["photos"][0]["path"]

    long_ago = datetime.now(timezone.utc) - timedelta(days=400)
    alice = bot.service.user_key("cli", "alice")
    carol_key = bot.service.user_key("cli", "carol")
    async with bot.db.session() as session, session.begin():
        ids = select(Conversation.id).where(Conversation.user_key.in_([alice, carol_key]))
        await session.execute(
            update(Message).where(Message.conversation_id.in_(ids)).values(created_at=long_ago)
        )
        await session.execute(
            update(Conversation).where(Conversation.id.in_(ids)).values(updated_at=long_ago)
        )
        await session.execute(
            update(Alert).where(Alert.id == old_alert).values(created_at=long_ago)
        )
    for path in (carol_photo, old_photo):  # files as old as their rows
        os.utime(path, (time.time() - 400 * 86400,) * 2)

    steps = []
    report = await purge(
        bot.db,
        bot.photos.root,
        transcript_days=90,
        free_text_days=365,
        progress=lambda step, done, total: steps.append(step),
    )
    assert report.messages > 0 and report.drafts == 1 and report.alert_photos == 1
    assert report.descriptions == 1 and report.files == 2 and "messages" in steps

    kept = await bot.repository.alert(old_alert)
    assert (kept["category"], kept["operator"]) == ("billing", "orange")  # still counted
    assert kept["description"] == "" and kept["photos"] == []
    assert (await bot.repository.alert(new_alert))["photos"]  # recent: untouched
    assert not old_photo.exists() and not carol_photo.exists()
    assert (await bot.service.state_of("cli", "carol")).draft is None
    assert await bot.repository.transcript("cli", alice) == []
    bob = await bot.repository.transcript("cli", bot.service.user_key("cli", "bob"))
    assert bob  # recent transcripts stay
    async with bot.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Alert)) == 2

    again = await purge(bot.db, bot.photos.root, transcript_days=90, free_text_days=365)
    assert (again.messages, again.drafts, again.files, again.descriptions) == (0, 0, 0, 0)


async def test_the_privacy_notice_tells_the_configured_periods(nlu, taxonomy, tmp_path) -> None:
    from advice_content.library import AdviceLibrary
    from dialogues.engine import DialogueEngine
    from dialogues.events import CommandEvent, TextEvent
    from dialogues.state import DialogueState
    from tests.conftest import _places

    engine = DialogueEngine(
        nlu, AdviceLibrary.load(taxonomy), taxonomy, places=_places(), retention=(30, 180)
    )
    turn = await engine.handle(DialogueState(), CommandEvent("privacy"))
    notice = turn.replies[0].text
    assert "30 jours" in notice and "180 jours" in notice and "/oublier" in notice
    turn = await engine.handle(DialogueState(), TextEvent("/privacy"), language="en")
    assert "30 days" in turn.replies[0].text


def test_jalerte_purge_runs_with_a_progress_bar(tmp_path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "JALERTE_DATA_DIR": str(tmp_path / "data")}
    env.pop("JALERTE_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot.process.cli", "purge"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[" in done.stderr and "Purge : 0 messages" in done.stderr


async def test_a_message_during_the_purge_keeps_what_it_wrote(
    database_url, taxonomy, tmp_path
) -> None:
    """A person comes back to a months-old draft while the purge runs: their turn's new
    state is kept, never overwritten with the purged one. On SQLite the purge waits for
    the turn (its write lock), then finds the draft fresh; on PostgreSQL the turn, which
    read without a lock, finds at its end that the purge changed the row, keeps nothing
    and runs again on the purged draft, as the service does (TurnConflict)."""
    import asyncio

    from sqlalchemy import update

    from domain.turns import TurnConflict
    from storage.db import Database
    from storage.models import Conversation
    from storage.repository import ConversationRepository
    from storage.retention import purge

    db = await Database.open(database_url)
    repository = ConversationRepository(db, taxonomy)
    async with repository.turn("cli", "back") as record:
        record.set_state({"phase": "collecting", "draft": {"description": "ancien"}}, "fr")
    async with db.session() as session, session.begin():
        await session.execute(
            update(Conversation).values(updated_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
        )
    inside, release = asyncio.Event(), asyncio.Event()

    seen: list[dict] = []

    async def comes_back() -> None:
        for locked in (False, True):
            try:
                async with repository.turn("cli", "back", locked) as record:
                    seen.append(record.state.get("draft"))
                    record.set_state(
                        {"phase": "collecting", "draft": {"description": "nouveau"}}, "fr"
                    )
                    inside.set()
                    await release.wait()
                return
            except TurnConflict:
                assert not locked

    turn = asyncio.create_task(comes_back())
    await inside.wait()
    purging = asyncio.create_task(
        purge(db, tmp_path / "photos", 30, 365, now=datetime(2026, 12, 7, tzinfo=timezone.utc))
    )
    await asyncio.sleep(0.5)  # the purge reaches the drafts, or waits for the turn
    release.set()
    await turn
    report = await asyncio.wait_for(purging, 60)
    async with repository.turn("cli", "back") as record:
        assert record.state["draft"] == {"description": "nouveau"}
    if report.drafts:  # PostgreSQL, purged first: the turn ran again on the purged draft
        assert db.engine.dialect.name == "postgresql"
        assert seen == [{"description": "ancien"}, None]
    else:  # the purge waited for the turn (SQLite's lock) or came after it
        assert seen == [{"description": "ancien"}]
    await db.close()
