"""A rolling deploy (issue 21): while host B runs the new release on the new schema, host
A still runs the previous one. Migrations are expand-then-contract, so the previous
release's turn path must work on the new schema: a person's whole report, photo included,
saved by the previous code, then taken over by the new code mid-conversation.

The previous release is the commit named in deploy/previous-release (a commit of main's
own history, so every full clone holds it; tags do not travel into every clone, and
CI's clone of main had none); its code is taken from git (`git archive`) and run in a
process of its own against a database the new code has migrated."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import subprocess
import sys
import tarfile
import io
from pathlib import Path

from sqlalchemy import select

from dialogues.events import ChoiceEvent
from storage.models import Alert
from tests.conftest import make_bot

PROJECT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "advice_content",
    "bot",
    "dialogues",
    "domain",
    "model_records",
    "nlu",
    "reading",
    "storage",
)

# Run by the previous release's Python code: no migration (release/28's Alembic refuses a
# revision it does not know; later releases start without migrating, see
# tests/test_migrations.py), one person through a report with a photo, up to the summary
# and sent.
PREVIOUS_TURNS = r"""
import asyncio, json, sys
from pathlib import Path

async def main(url, socket, data, photo_path):
    from advice_content.library import AdviceLibrary
    from bot.process.nlu_client import RemoteNlu
    from dialogues.engine import DialogueEngine
    from dialogues.events import ChoiceEvent, TextEvent
    from dialogues.service import ConversationService, IncomingPhoto
    from domain.taxonomy import Taxonomy
    from storage.db import Database
    from storage.photos import PhotoRejected, PhotoStore
    from storage.repository import ConversationRepository

    taxonomy = Taxonomy.load()
    db = await Database.open(url, migrate=False)
    nlu = RemoteNlu(socket=Path(socket))
    engine = DialogueEngine(nlu, AdviceLibrary.load(taxonomy), taxonomy)
    service = ConversationService(
        engine, ConversationRepository(db, taxonomy), PhotoStore(Path(data) / "photos"),
        b"s" * 40, rejected=PhotoRejected,
    )
    said = []
    for event in (
        TextEvent("colis Chronopost perdu depuis 10 jours"),
        IncomingPhoto(Path(photo_path).read_bytes()),
        TextEvent("Nantes"),
        ChoiceEvent("contacted_customer_service:no"),
        ChoiceEvent("confirm:send"),
        TextEvent("Free me facture deux fois ma box depuis mars"),
    ):
        out = await service.handle("web", "person-1", event)
        said.append({"replies": [r.plain_text() for r in out.replies], "alert": out.alert_id})
    await nlu.close()
    await db.close()
    print(json.dumps(said))

asyncio.run(main(*sys.argv[1:]))
"""


def previous_release() -> bytes:
    """The previous release's packages, from git (the project is a clone: CI's, and
    every install the README describes)."""
    assert (PROJECT / ".git").exists() and shutil.which("git"), (
        "the previous release's code comes from git: run the tests in a clone"
    )
    commit, name = (PROJECT / "deploy" / "previous-release").read_text().split()[:2]
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, *PACKAGES],
        cwd=PROJECT,
        capture_output=True,
    )
    assert archive.returncode == 0, (
        f"the previous release {name} ({commit}) is not in this clone (a shallow clone? "
        f"`git fetch --unshallow`): {archive.stderr.decode()[-500:]}"
    )
    return archive.stdout


async def test_the_previous_release_keeps_working_on_the_new_schema(
    nlu, taxonomy, tmp_path, postgres_server
) -> None:
    from tests.images import jpeg_with_gps
    from tests.postgres import create_database

    archive = previous_release()
    old = tmp_path / "previous"
    old.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:  # type: ignore[arg-type]
        tar.extractall(old, filter="data")

    url = await create_database(postgres_server, f"jalerte_rolling_{secrets.token_hex(4)}")
    new = await make_bot(nlu, taxonomy, tmp_path / "new", url, secret=b"s" * 40)  # migrates
    try:
        photo = tmp_path / "photo.jpg"
        photo.write_bytes(jpeg_with_gps())
        done = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-c",
                PREVIOUS_TURNS,
                url,
                str(nlu.socket),
                str(tmp_path / "old"),
                str(photo),
            ],
            cwd=old,
            env={"PYTHONPATH": str(old), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        said = json.loads(done.stdout.strip().splitlines()[-1])
        assert "Photo ajoutée" in " ".join(said[1]["replies"])
        alert_id = said[4]["alert"]
        assert alert_id, said[4]

        # The new code reads what the previous one saved…
        async with new.db.session() as session:
            alert = await session.scalar(select(Alert).where(Alert.id == alert_id))
            assert (alert.operator, alert.category, alert.location) == (
                "chronopost",
                "parcel_delivery",
                "Nantes (44)",
            )
            assert len(alert.photos) == 1
        # …and takes over the conversation the previous code left mid-report.
        state = await new.service.state_of("web", "person-1")
        assert state.draft is not None and state.draft.operator == "free"
        out = await new.send("Paris", user="person-1", channel="web")
        out = await new.send(
            ChoiceEvent("contacted_customer_service:no"), user="person-1", channel="web"
        )
        for _ in range(3):
            if out.alert:
                break
            out = await new.send(ChoiceEvent("confirm:send"), user="person-1", channel="web")
        assert out.alert and out.alert["operator"] == "free"
    finally:
        await new.db.close()
