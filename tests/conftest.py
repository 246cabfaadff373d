"""Shared fixtures: one real Rasa model, trained once per test session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from nlu.interpret import Interpreter
from nlu.lexicon import Lexicon
from nlu.parser import NluParser
from nlu.taxonomy import Taxonomy


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="session")
def interpreter(taxonomy: Taxonomy) -> Interpreter:
    return Interpreter(taxonomy, Lexicon.load(taxonomy))


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained from the project's data for this session.

    JALERTE_TEST_MODEL may name an already trained model to save the training time
    while iterating locally; `make test` and CI always train.
    """
    reuse = os.environ.get("JALERTE_TEST_MODEL")
    if reuse:
        return Path(reuse)
    from nlu.training import train

    workdir = tmp_path_factory.mktemp("nlu")
    return train(workdir / "nlu.tar.gz", workdir / "build", progress=lambda _msg: None)


@pytest.fixture(scope="session")
async def nlu(trained_model: Path, taxonomy: Taxonomy) -> NluParser:
    return await NluParser.load(trained_model, taxonomy)


class Bot:
    """The real service (model, SQLite file, photo store) driven like a channel would."""

    def __init__(self, service, repository, photos, db, nlu):
        self.service = service
        self.repository = repository
        self.photos = photos
        self.db = db
        self.nlu = nlu

    @property
    def runtime(self):
        from bot.wiring import Runtime

        return Runtime(self.service, self.db, self.nlu, self.repository, self.photos)

    async def send(self, event, user: str = "alice", channel: str = "cli"):
        from dialogues.events import TextEvent

        if isinstance(event, str):
            event = TextEvent(event)
        return await self.service.handle(channel, user, event)


_PLACES = []


def _places():
    """The communes, loaded once for the whole test session (0.4 s each time)."""
    from nlu.places import Places

    if not _PLACES:
        _PLACES.append(Places.load())
    return _PLACES[0]


async def make_bot(nlu, taxonomy, data_dir: Path, database_url: str | None = None,
                   secret: bytes = b"test-secret") -> Bot:
    from advice_content.library import AdviceLibrary
    from dialogues.engine import DialogueEngine
    from dialogues.service import ConversationService
    from storage.db import Database
    from storage.photos import PhotoRejected, PhotoStore
    from storage.repository import ConversationRepository

    db = await Database.open(database_url or f"sqlite+aiosqlite:///{data_dir / 'jalerte.db'}")
    repository = ConversationRepository(db, taxonomy)
    photos = PhotoStore(data_dir / "photos")
    engine = DialogueEngine(nlu, AdviceLibrary.load(taxonomy), taxonomy, places=_places())
    service = ConversationService(engine, repository, photos, secret, rejected=PhotoRejected)
    return Bot(service, repository, photos, db, nlu)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the session (the storage tests run on both databases)."""
    from tests.postgres import Cluster

    cluster = Cluster()
    url = cluster.start()
    yield url
    cluster.stop()


_databases = iter(range(1, 1_000_000))


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'jalerte.db'}"
    from tests.postgres import create_database

    server = request.getfixturevalue("postgres_server")
    return await create_database(server, f"jalerte_test_{next(_databases)}")


@pytest.fixture
async def bot(nlu, taxonomy, tmp_path: Path, database_url: str):
    made = await make_bot(nlu, taxonomy, tmp_path, database_url)
    yield made
    await made.db.close()


@pytest.fixture
async def sqlite_bot(nlu, taxonomy, tmp_path: Path):
    """The service on SQLite only, for channel tests (storage is tested on both)."""
    made = await make_bot(nlu, taxonomy, tmp_path)
    yield made
    await made.db.close()


def web_config(tmp_path: Path, **overrides):
    """A server configuration for tests (no Telegram unless asked)."""
    from dataclasses import replace

    from bot.config import Config

    base = Config.from_env({"JALERTE_DATA_DIR": str(tmp_path / "data")})
    return replace(base, **overrides)
