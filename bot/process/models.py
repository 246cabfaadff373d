"""The NLU model in service, shared by every host through the database (issue 21).

With PostgreSQL, table `nlu_models` holds every model put in service: its version, bytes,
SHA-256 and the figures that promoted it. The newest version is the one in service on
every host. Each host's parse-service supervisor (bot.process.nlu_process) keeps a local
copy at its model path, for Rasa to load:

- at start, the host serves the database's newest model (downloaded if its copy differs);
  the first host of an empty database publishes its own (the build's) as version 1;
- while running, it polls the newest version every second: a newer version is
  downloaded and swapped in without a restart, while the old model keeps answering;
- a retrain that promotes a candidate on one host (`jalerte nlu retrain`) publishes it
  as the next version, and the other hosts follow within seconds.

A newer version, not a different file, is what makes a host download: a retrain that has
just replaced the local file and is about to publish it is never overwritten by the
version it replaces. A release that brings a newly trained model publishes it with
`jalerte nlu publish` (README, « Deploying on several hosts »).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from model_records.files import (
    figures_path,
    lock_holder,
    read_json,
    sha256_of,
    write_json_atomic,
)
from storage.db import Database
from storage.models import NluModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Version:
    number: int
    sha256: str


class SharedModels:
    def __init__(self, db: Database):
        self.db = db

    async def newest(self) -> Version | None:
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(NluModel.version, NluModel.sha256)
                    .order_by(NluModel.version.desc())
                    .limit(1)
                )
            ).first()
        return Version(row[0], row[1]) if row else None

    async def publish(
        self, path: Path, by: str, figures: Any = None, *, first: bool = False
    ) -> Version | None:
        """`path` put in service everywhere as the next version (`first`: only if the
        database has none yet; None when another host was first)."""
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        table = NluModel.__table__
        for _ in range(5):  # two hosts publishing at once: the loser takes the next number
            async with self.db.session() as session, session.begin():
                number = 1
                if not first:
                    number = 1 + int(await session.scalar(select(func.max(NluModel.version))) or 0)
                done = await session.execute(
                    self.db.insert(table)
                    .values(
                        version=number,
                        sha256=sha,
                        data=data,
                        figures=figures,
                        promoted_by=by[:120],
                        promoted_at=datetime.now(timezone.utc),
                    )
                    .on_conflict_do_nothing(index_elements=[table.c.version])
                )
            if done.rowcount:
                log.warning("NLU model %s… published as version %d (%s)", sha[:12], number, by)
                return Version(number, sha)
            if first:
                return None
        raise RuntimeError("could not publish the model: versions kept colliding")

    async def republish(self, version: int, by: str) -> Version | None:
        """An earlier version put back in service everywhere, as the next version."""
        async with self.db.session() as session:
            row = await session.get(NluModel, version)
        if row is None:
            raise LookupError(f"pas de version {version} du modèle dans la base")
        staged = Path(tempfile.mkdtemp()) / "nlu.tar.gz"
        try:
            staged.write_bytes(bytes(row.data))
            return await self.publish(staged, f"{by}, version {version} again", row.figures)
        finally:
            shutil.rmtree(staged.parent, ignore_errors=True)

    async def download(self, version: int, target: Path) -> Version:
        """Version `version` written atomically at `target` (and its figures beside it)."""
        async with self.db.session() as session:
            row = await session.get(NluModel, version)
        if row is None:
            raise LookupError(f"no NLU model version {version}")
        data = bytes(row.data)
        if hashlib.sha256(data).hexdigest() != row.sha256:
            raise ValueError(f"NLU model version {version}: its bytes do not match its SHA-256")
        target.parent.mkdir(parents=True, exist_ok=True)  # a new host: nothing there yet
        staged = target.with_name(f".{target.name}.incoming")
        with open(staged, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(staged, target)
        if row.figures is not None:
            write_json_atomic(figures_path(target), row.figures)
        return Version(row.version, row.sha256)


class ModelFollower:
    """What one host serves, following the database (used by NluSupervisor)."""

    def __init__(self, models: SharedModels, model_path: Path, host: str):
        self.models = models
        self.model_path = model_path
        self.host = host
        self.version: int | None = None
        self._local: tuple[tuple[int, int, int], str] | None = None

    def local_sha(self) -> str | None:
        try:
            stat = self.model_path.stat()
        except OSError:
            return None
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if self._local is None or self._local[0] != signature:
            self._local = (signature, sha256_of(self.model_path))
        return self._local[1]

    async def at_start(self) -> None:
        """The database's newest model in place before the service starts; an empty
        database gets this host's."""
        newest = await self.models.newest()
        if newest is None:
            if self.local_sha() is None:
                return
            figures = read_json(figures_path(self.model_path))
            newest = (
                await self.models.publish(
                    self.model_path, f"build ({self.host})", figures, first=True
                )
                or await self.models.newest()
            )
        if newest is not None:
            await self._take(newest)

    async def newer(self) -> bool:
        """True when a newer version than the one served has been put in place. Not
        while a retrain runs here: the model it promotes is published right after, and
        must not be overwritten meanwhile by a version another host published."""
        if lock_holder(self.model_path) is not None:
            return False
        newest = await self.models.newest()
        if newest is None or (self.version is not None and newest.number <= self.version):
            return False
        return await self._take(newest)

    async def _take(self, newest: Version) -> bool:
        if newest.sha256 != self.local_sha():
            # Followed only once fetched: a failed download is tried again next time.
            await self.models.download(newest.number, self.model_path)
            log.warning("NLU model version %d fetched from the database", newest.number)
            self.version = newest.number
            return True
        self.version = newest.number  # published from here (a retrain), or already here
        return False


def follower_for(config, db: Database) -> ModelFollower | None:
    """A follower when the database is shared (PostgreSQL), else None (one host: the
    model file is the model in service)."""
    if not config.shared_database:
        return None
    import socket

    return ModelFollower(SharedModels(db), Path(config.model_path), socket.gethostname())
