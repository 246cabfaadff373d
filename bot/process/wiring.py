"""Builds the running parts from the configuration (no work at import)."""

from __future__ import annotations

import logging
import os
import secrets
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from advice_content.library import AdviceLibrary
from bot.process.config import Config
from bot.process.metrics import TurnMetrics
from bot.process.models import follower_for
from bot.process.nlu_process import NluSupervisor
from dialogues.engine import DialogueEngine, Understanding
from dialogues.service import ConversationService
from bot.process.nlu_client import RemoteNlu
from domain.taxonomy import Taxonomy
from storage.db import Database
from storage.photos import PhotoRejected, PhotoStore, photo_store, share_local_photos
from storage.private import private_dir, tighten
from storage.repository import ConversationRepository

log = logging.getLogger(__name__)


def load_secret(config: Config) -> bytes:
    """The HMAC secret: from the configuration, else (one host on SQLite) a random one
    kept in the data dir. With a shared database there is no per-host fallback: a session
    issued by one host must be taken by the others."""
    if config.secret_key:
        return config.secret_key.encode()
    if config.missing_secret():
        raise RuntimeError(config.missing_secret())
    path = Path(config.data_dir) / "secret.key"
    if not path.exists():
        private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


@dataclass
class Runtime:
    service: ConversationService
    db: Database
    nlu: Understanding
    repository: ConversationRepository
    photos: PhotoStore


@asynccontextmanager
async def runtime(config: Config) -> AsyncIterator[Runtime]:
    """NLU service started (or reached), database migrated and open; closed on exit."""
    # The data directory and everything in it: the service user's only (files an
    # earlier version left readable by others are narrowed now, and logged).
    tighten(private_dir(Path(config.data_dir)))
    taxonomy = Taxonomy.load()
    advice = AdviceLibrary.load(taxonomy)  # fails at start if a sheet is missing
    supervisor = None
    nlu: Understanding
    db = await Database.open(config.database_url, pool_size=config.database_pool_size)
    if config.nlu == "service":
        supervisor = NluSupervisor(
            config.model_path,
            Path(config.data_dir),
            python=str(config.nlu_python),
            follower=follower_for(config, db),
        )
        if not await supervisor.start():
            log.warning("the NLU service is not answering yet; turns will say so")
        nlu = supervisor.client
    else:
        remote = (
            RemoteNlu(socket=Path(config.nlu[len("unix:") :]))
            if config.nlu.startswith("unix:")
            else RemoteNlu(config.nlu)
        )
        if not await remote.wait_healthy(within=30):
            log.warning("the NLU service at %s is not answering yet", config.nlu)
        nlu = remote
    try:
        await db.warm()
        repository = ConversationRepository(db, taxonomy)
        photos = photo_store(config.photo_dir, db)
        copied = await share_local_photos(photos)
        if copied:
            log.warning("%d photos moved from this host's disk into the shared database", copied)
        engine = DialogueEngine(
            nlu,
            advice,
            taxonomy,
            public_url=config.public_url,
            retention=(config.retention_transcript_days, config.retention_free_text_days),
        )
        service = ConversationService(
            engine, repository, photos, load_secret(config), rejected=PhotoRejected
        )
        service.observer = TurnMetrics()
        yield Runtime(service, db, nlu, repository, photos)
    finally:
        await db.close()
        if supervisor is not None:
            await supervisor.stop()
        elif hasattr(nlu, "close"):
            await nlu.close()
