"""Shared fixtures: one real Rasa model, trained by the build, served like in production.

Two environments run these tests (see Makefile): the bot's (Python 3.13, no Rasa) runs
everything but `tests/nlu_side/`, where the model is reached through a real parse service
(`jalerte-nlu serve` in the NLU environment); the NLU environment (Python 3.10, Rasa)
runs `tests/nlu_side/` alone, with the model in-process.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import shutil
from pathlib import Path

import pytest

from reading.interpret import Interpreter
from reading.lexicon import Lexicon
from domain.taxonomy import Taxonomy

# python-telegram-bot 22: opt in now to the durations it will give as timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "true")
NLU_ENV = importlib.util.find_spec("rasa") is not None
NLU_SIDE = Path(__file__).with_name("nlu_side")
# Rasa 3.6 and its TensorFlow/sklearn stack warn a lot on Python 3.10: the NLU side only.
RASA_NOISE = [
    "ignore::DeprecationWarning",
    "ignore::PendingDeprecationWarning",
    "ignore::FutureWarning",
    "ignore:.*:UserWarning:rasa.*",
    "ignore:.*:UserWarning:sklearn.*",
    "ignore:.*:UserWarning:tensorflow.*",
    "ignore:.*:UserWarning:sklearn_crfsuite.*",
    "ignore:.*:DeprecationWarning:matplotlib.*",
    "ignore::sqlalchemy.exc.MovedIn20Warning",
]


def pytest_configure(config: pytest.Config) -> None:
    if NLU_ENV:
        for line in RASA_NOISE:
            config.addinivalue_line("filterwarnings", line)


# What keeps a test out of the fast lane (`make test-fast`: no model, no browser, no
# PostgreSQL, no server process): the fixtures that bring those, and the modules that
# start them themselves.
SLOW_FIXTURES = frozenset(
    {
        "trained_model",
        "nlu",
        "nlu_python",
        "bot",
        "sqlite_bot",
        "postgres_server",
        "database_url",
        "browser",
        "page",
    }
)
SLOW_MODULES = frozenset(
    {
        "test_browser",
        "test_browser_review",
        "test_accessibility",
        "test_run",
        "test_run_workers",
        "test_deploy",  # nginx and openssl, from Debian
        "test_workers",
        "test_people",
        "test_nlu",
        "test_nlu_service",
        "test_nlu_retrain",
        "test_parse_cli",
        "test_chat_cli",
        "test_poller_election",
        "test_fake_telegram",
        "test_telegram",
        "test_operations",
        "test_web",
        "test_web_hardening",
        "test_staff",
        "test_staff_review",
        "test_migrations",
        "test_env_example",
        "test_security_floor",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks `fast` the tests of the fast lane (engine tables on a scripted NLU, slots,
    readers, storage on SQLite): `pytest -m fast`."""
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module not in SLOW_MODULES and not SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.fast)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Each environment collects its own tests only."""
    if collection_path == Path(__file__).parent:
        return None
    inside = collection_path == NLU_SIDE or NLU_SIDE in collection_path.parents
    return None if inside == NLU_ENV else True


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="session")
def interpreter(taxonomy: Taxonomy) -> Interpreter:
    return Interpreter(taxonomy, Lexicon.load(taxonomy))


@pytest.fixture(scope="session")
def nlu_python() -> str:
    from bot.process.config import Config

    python = Config.from_env(os.environ).nlu_python
    assert python.exists(), f"the NLU environment is missing ({python}): run `make install`"
    return str(python)


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model the build trained (`make test` passes it in JALERTE_TEST_MODEL), else one
    trained now, in the NLU environment."""
    reuse = os.environ.get("JALERTE_TEST_MODEL")
    if reuse:
        return Path(reuse)
    workdir = tmp_path_factory.mktemp("nlu")
    model = workdir / "nlu.tar.gz"
    if NLU_ENV:
        from nlu.training import train

        return train(model, workdir / "build", progress=lambda _msg: None)
    from bot.process.config import Config

    python = str(Config.from_env(os.environ).nlu_python)
    subprocess.run(
        [
            python,
            "-m",
            "nlu.cli",
            "train",
            "--model",
            str(model),
            "--build-dir",
            str(workdir / "build"),
        ],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    return model


@pytest.fixture(scope="session")
async def nlu(trained_model: Path, nlu_python: str, tmp_path_factory: pytest.TempPathFactory):
    """The model behind a real parse service process, as `jalerte run` starts it."""
    from bot.process.nlu_process import NluSupervisor

    supervisor = NluSupervisor(
        trained_model, tmp_path_factory.mktemp("nlu-service"), python=nlu_python
    )
    assert await supervisor.start(), supervisor.log_path.read_text(errors="replace")[-3000:]
    yield supervisor.client
    await supervisor.stop()


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
        from bot.process.wiring import Runtime

        return Runtime(self.service, self.db, self.nlu, self.repository, self.photos)

    async def send(self, event, user: str = "alice", channel: str = "cli"):
        from dialogues.events import TextEvent

        if isinstance(event, str):
            event = TextEvent(event)
        return await self.service.handle(channel, user, event)


_PLACES = []


def _places():
    """The communes, loaded once for the whole test session (0.4 s each time)."""
    from reading.places import Places

    if not _PLACES:
        _PLACES.append(Places.load())
    return _PLACES[0]


async def make_bot(
    nlu,
    taxonomy,
    data_dir: Path,
    database_url: str | None = None,
    secret: bytes = b"test-secret",
    pool_size: int | None = None,
) -> Bot:
    from advice_content.library import AdviceLibrary
    from dialogues.engine import DialogueEngine
    from dialogues.service import ConversationService
    from storage.db import Database
    from storage.photos import PhotoRejected, PhotoStore
    from storage.repository import ConversationRepository

    url = database_url or f"sqlite+aiosqlite:///{data_dir / 'jalerte.db'}"
    db = await (Database.open(url, pool_size=pool_size) if pool_size else Database.open(url))
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

    from bot.process.config import Config

    from bot.channels.web.clients import AddressLimits

    base = Config.from_env({"JALERTE_DATA_DIR": str(tmp_path / "data")})
    # Every test client is 127.0.0.1 and the counters outlive a test: per-address limits
    # are off unless a test sets them (tests/test_web.py does).
    off = AddressLimits(
        connections=0,
        sessions_per_hour=0,
        turns_per_minute=0,
        uploads_per_minute=0,
        notices_per_minute=0,
    )
    return replace(base, **{"web_address_limits": off, **overrides})


async def clear_of_a_minute_change(margin: float = 10.0) -> None:
    """Rate counts are per clock minute: a test of a limit starts well inside one."""
    import asyncio
    import time

    while time.time() % 60 > 60 - margin:
        await asyncio.sleep(0.5)


async def to_the_summary(
    bot, first: str = "colis DPD perdu depuis 10 jours à Lyon", user: str = "alice"
) -> None:
    """A parcel report taken to its summary, whatever the bot still asks on the way."""
    await bot.send(first, user=user)
    for _ in range(4):
        state = await bot.service.state_of("cli", user)
        if state.expecting == "confirmation":
            return
        await bot.send("Lyon" if state.expecting == "location" else "non", user=user)


# -- fixtures several modules share (imports inside: the NLU environment has none of these)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture
async def browser():
    """Debian's headless Chromium, through Playwright."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield launched
        await launched.close()


@pytest.fixture
async def fake():
    """The local server playing Telegram's Bot API."""
    from tests.fake_telegram import FakeTelegram

    async with FakeTelegram() as telegram:
        yield telegram


@pytest.fixture
async def console(aiohttp_client, sqlite_bot, tmp_path):
    """The staff console of a bot on SQLite, with one account (agent / STAFF_PASSWORD)."""
    from bot.channels.web.app import create_app
    from storage.staff import StaffRepository

    config = web_config(tmp_path, staff_secure_cookies=False)
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    await StaffRepository(sqlite_bot.db).add_user("agent", STAFF_PASSWORD)
    client.config = config
    return client


@pytest.fixture
async def site(aiohttp_server, sqlite_bot, tmp_path) -> str:
    """The demo page with the widget, served by a bot on SQLite: its URL."""
    from bot.channels.web.app import create_app

    server = await aiohttp_server(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))
    return str(server.make_url("/"))
