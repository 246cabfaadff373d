"""The data directory is the service user's alone: directories 0700, files 0600 (staff
password hashes and session ids, what people wrote, their photos, the HMAC secret),
whatever the umask, and whatever an earlier version left behind."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import web_config
from tests.images import image_bytes


def readable_by_others(root: Path) -> dict[str, str]:
    """`root` and what under it group or others may use, with its mode in octal."""
    found = {}
    for path in [root, *sorted(root.rglob("*"))]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found[str(path.relative_to(root))] = oct(mode)
    return found


@pytest.mark.parametrize("umask", [0o022, 0o002], ids=["umask 022", "umask 002"])
async def test_what_the_server_creates_in_its_data_directory_is_its_own_whatever_the_umask(
    tmp_path, umask
) -> None:
    from bot.process.wiring import load_secret
    from storage.db import Database
    from storage.photos import PhotoStore
    from storage.shared import SharedState

    config = web_config(tmp_path)
    data = Path(config.data_dir)
    previous = os.umask(umask)
    try:
        db = await Database.open(config.database_url)
        try:
            await SharedState(db).hit("a key")  # a write: SQLite's log is in use
            assert load_secret(config)
            PhotoStore(config.photo_dir).ingest(image_bytes("PNG"))
            created = {p.name for p in data.rglob("*")}
            assert {
                "jalerte.db",
                "jalerte.db-wal",
                "jalerte.db-shm",
                "secret.key",
                "photos",
            } <= created
            assert readable_by_others(data) == {}
        finally:
            await db.close()
    finally:
        os.umask(previous)


async def test_files_an_earlier_version_left_readable_are_narrowed_at_start_and_logged(
    nlu, tmp_path, caplog
) -> None:
    """An upgrade: the data directory, the database and its log, the secret, photos and
    logs were made 0755/0644; the next start makes them the service user's and says so."""
    from bot.process.wiring import runtime

    config = replace(web_config(tmp_path), nlu=f"unix:{nlu.socket}")
    data = Path(config.data_dir)
    previous = os.umask(0o022)
    reader = None
    try:
        (data / "photos" / "ab").mkdir(parents=True)
        (data / "photos" / "ab" / "ab12.png").write_bytes(image_bytes("PNG"))
        (data / "secret.key").write_text("0" * 64)
        (data / "nlu.log").write_text("jalerte-nlu: model loaded\n")
        # A database another process has open: its -wal and -shm files exist.
        reader = sqlite3.connect(data / "jalerte.db", isolation_level=None)
        reader.execute("PRAGMA journal_mode=WAL")
        reader.execute("CREATE TABLE earlier (x)")
        assert {"jalerte.db-wal", "jalerte.db-shm", "jalerte.db"} <= set(readable_by_others(data))

        with caplog.at_level(logging.WARNING):
            async with runtime(config):
                pass
        assert readable_by_others(data) == {}
        warned = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
        for name in ("jalerte.db-wal", "secret.key", "ab12.png", "nlu.log"):
            assert name in warned, name
    finally:
        if reader is not None:
            reader.close()
        os.umask(previous)


def test_the_parse_service_socket_and_its_log_are_the_service_users_only(nlu) -> None:
    """`jalerte run` starts the parse service in the data directory (tests/conftest.py
    starts it the same way)."""
    log_path = nlu.socket.with_name("nlu.log")
    for path in (nlu.socket, log_path):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path, oct(path.stat().st_mode))


async def test_an_update_an_earlier_version_stored_whole_is_masked_by_the_upgrade(
    database_url,
) -> None:
    """Stored whole before this version and never handled (Telegram unreachable): the
    upgrade keeps what handling needs, masked; handling it later still works."""
    from alembic import command
    from sqlalchemy import text
    from telegram import Update

    from storage.db import Database, alembic_config, make_engine, upgrade
    from storage.shared import TelegramUpdates

    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0008"))
            raw = {
                "update_id": 41,
                "message": {
                    "message_id": 3,
                    "date": 1_700_000_000,
                    "chat": {"id": 4242, "type": "private", "first_name": "Alice"},
                    "from": {"id": 4242, "is_bot": False, "first_name": "", "language_code": "fr"},
                    "text": "rappelez-moi au 06 12 34 56 78, alice.martin@example.org",
                },
            }
            await conn.execute(
                text(
                    "INSERT INTO telegram_updates (update_id, payload, received_at) "
                    "VALUES (41, :payload, CURRENT_TIMESTAMP)"
                ),
                {"payload": json.dumps(raw)},
            )
    finally:
        await engine.dispose()
    await upgrade(database_url)
    db = await Database.open(database_url, migrate=False)
    try:
        [stored] = await TelegramUpdates(db).unhandled()
    finally:
        await db.close()
    assert "06 12 34 56 78" not in str(stored) and "alice.martin" not in str(stored)
    assert "Alice" not in str(stored)
    update = Update.de_json(stored, None)
    assert update.message.text == "rappelez-moi au [téléphone retiré], [e-mail retiré]"
    assert update.effective_user.id == update.effective_chat.id == 4242
