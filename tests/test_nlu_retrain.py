"""The learning loop from the bot's side, on a tiny data set (seconds per training):
`jalerte nlu retrain --with-annotations` reads the annotations from the database, the
console's /staff/model page (session, admin-only button, CSRF, progress and result), and
the parse service picking up a promoted model without a pause."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.console import model_views
from model_records.files import compare, figures_path, history_path, previous_path, verdict
from storage.models import Message
from storage.staff import StaffRepository
from tests.conftest import web_config
from tests.test_staff import PASSWORD, csrf_of, log_in

PROJECT = Path(__file__).resolve().parent.parent
DATA = PROJECT / "tests" / "nlu_side" / "retrain_data"
TINY_ARGS = (
    "--examples-dir",
    str(DATA / "examples"),
    "--no-lexicon",
    "--heldout",
    f"tiny={DATA / 'heldout.yml'}",
)
PARCEL = "mon colis n'est toujours pas arrivé"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def nlu_retrain(nlu_python: str, model: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            nlu_python,
            "-m",
            "nlu.cli",
            "retrain",
            "--model",
            str(model),
            "--build-dir",
            str(model.parent / "build"),
            *TINY_ARGS,
            *extra,
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


@pytest.fixture(scope="module")
def tiny_models(nlu_python: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`base`: trained on the tiny examples (in service, with its figures); `better`: the
    same with the parcel annotations, as a retrain promotes it."""
    base = tmp_path_factory.mktemp("tiny-base") / "nlu.tar.gz"
    done = nlu_retrain(nlu_python, base)
    assert done.returncode == 0, done.stderr[-3000:]
    better = tmp_path_factory.mktemp("tiny-better") / "nlu.tar.gz"
    shutil.copy(base, better)
    done = nlu_retrain(nlu_python, better, "--annotations", str(DATA / "good_annotations.yml"))
    assert done.returncode == 0, done.stderr[-3000:]
    return {"base": base, "better": better}


def install_base(tiny_models: dict[str, Path], directory: Path) -> Path:
    """A private copy of the base model and its figure files."""
    directory.mkdir(parents=True, exist_ok=True)
    model = directory / "nlu.tar.gz"
    shutil.copy(tiny_models["base"], model)
    shutil.copy(figures_path(tiny_models["base"]), figures_path(model))
    shutil.copy(history_path(tiny_models["base"]), history_path(model))
    return model


async def bot_cli_retrain(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`jalerte nlu retrain --with-annotations` on the tiny data set, as an admin runs it."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.process.cli", "nlu", "retrain", "--with-annotations"]
        + list(TINY_ARGS),
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


async def annotate(bot, texts: list[str], **values: str) -> None:
    """Each text said in a conversation of its own, then corrected by staff."""
    for i, text in enumerate(texts):
        await bot.send(text, user=f"annotated-{values.get('category') or values['intent']}-{i}")
    repo = StaffRepository(bot.db)
    async with bot.db.session() as session:
        ids = {
            m.text: m.id
            for m in (
                await session.execute(select(Message).where(Message.sender == "user"))
            ).scalars()
        }
    for text in texts:
        assert await repo.annotate(ids[text], "agent", values)


def wrong_texts() -> dict[str, list[str]]:
    data = yaml.safe_load((DATA / "wrong_annotations.yml").read_text(encoding="utf-8"))
    return {
        entry["intent"]: [line[2:] for line in entry["examples"].splitlines()]
        for entry in data["nlu"]
    }


GOOD_TEXTS = [
    line[2:]
    for line in yaml.safe_load((DATA / "good_annotations.yml").read_text(encoding="utf-8"))["nlu"][
        0
    ]["examples"].splitlines()
]


# -- the verdict -----------------------------------------------------------------------------
def test_promoted_only_when_nothing_gets_worse() -> None:
    before = {
        "a": {"accuracy.intent": 0.9, "confidently_wrong_category": 0.10},
        "b": {"accuracy.intent": 0.8},
    }
    same = compare(before, before)
    assert verdict(same, True) == (True, ["every figure equal: nothing gets worse"])
    better = compare(
        before,
        {
            "a": {"accuracy.intent": 0.95, "confidently_wrong_category": 0.05},
            "b": {"accuracy.intent": 0.8},
        },
    )
    promoted, reasons = verdict(better, True)
    assert promoted and reasons == [
        "a: intent 0.900 → 0.950",
        "a: confidently wrong category 0.100 → 0.050",
    ]
    # Better on one set, worse on the other (lower is better for "confidently wrong").
    mixed = compare(
        before,
        {
            "a": {"accuracy.intent": 0.95, "confidently_wrong_category": 0.12},
            "b": {"accuracy.intent": 0.8},
        },
    )
    assert verdict(mixed, True) == (False, ["a: confidently wrong category 0.100 → 0.120"])
    assert verdict(compare(before, {"b": {"accuracy.intent": 0.79}}), True)[0] is False
    assert verdict(compare(None, before), False)[0] is True
    assert verdict(compare(before, {"b": {"accuracy.intent": 0.80004}}), True)[0] is True


# -- the command -----------------------------------------------------------------------------
async def test_cli_retrain_with_annotations_from_the_database(
    sqlite_bot, tiny_models, tmp_path, nlu_python
) -> None:
    model = install_base(tiny_models, tmp_path / "models")
    for intent, texts in wrong_texts().items():
        if intent == "goodbye":
            await annotate(sqlite_bot, texts, intent="goodbye")
        else:
            await annotate(sqlite_bot, texts, intent="report", category="billing", sector="mobile")
    env = {
        **os.environ,
        "JALERTE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'jalerte.db'}",
        "JALERTE_MODEL_PATH": str(model),
        "JALERTE_BUILD_DIR": str(tmp_path / "build"),
        "JALERTE_NLU_PYTHON": nlu_python,
        "JALERTE_DATA_DIR": str(tmp_path / "data"),
    }
    old = sha(model)
    done = await bot_cli_retrain(env)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "16 annotations relues dans la base." in done.stderr
    out = done.stdout
    assert "Annotations: 16 examples (annotations.yml)" in out
    assert "== tiny" in out and "worse" in out
    assert f"KEPT the current model {model}: the candidate is worse on" in out
    assert sha(model) == old and not previous_path(model).exists()
    exported = (tmp_path / "build" / "retrain" / "annotations.yml").read_text(encoding="utf-8")
    assert "- intent: report_billing" in exported and "- intent: goodbye" in exported
    entry = json.loads(history_path(model).read_text())[-1]
    assert entry["promoted"] is False and entry["annotations"] == 16


# -- the console -----------------------------------------------------------------------------
def admin_console_config(tiny_models, tmp_path: Path, nlu_python: str, monkeypatch):
    """A console whose model is the tiny base one, "chef" its admin, retraining on the
    tiny data set."""
    model = install_base(tiny_models, tmp_path / "models")
    monkeypatch.setattr(model_views, "RETRAIN_ARGS", (*model_views.RETRAIN_ARGS, *TINY_ARGS))
    return web_config(
        tmp_path,
        staff_secure_cookies=False,
        model_path=model,
        build_dir=tmp_path / "build",
        nlu_python=Path(nlu_python),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'jalerte.db'}",
        staff_admins=frozenset({"chef"}),
    )


@pytest.fixture
async def console_for_model(
    aiohttp_client, sqlite_bot, tiny_models, tmp_path, nlu_python, monkeypatch
):
    from bot.channels.web.app import create_app

    config = admin_console_config(tiny_models, tmp_path, nlu_python, monkeypatch)
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    repo = StaffRepository(sqlite_bot.db)
    await repo.add_user("agent", PASSWORD)
    await repo.add_user("chef", PASSWORD)
    client.config = config
    return client


async def test_model_page_needs_a_session(console_for_model) -> None:
    response = await console_for_model.get("/staff/model", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/staff/login?next=")
    response = await console_for_model.post("/staff/model/retrain", data={}, allow_redirects=False)
    assert response.status == 302
    assert not (console_for_model.config.data_dir / "retrain-job.json").exists()


async def test_model_page_shows_the_model_in_service_and_refuses_non_admins(
    console_for_model,
) -> None:
    await log_in(console_for_model, "agent")
    response = await console_for_model.get("/staff/model")
    page = await response.text()
    assert response.status == 200 and "Content-Security-Policy" in response.headers
    assert "Modèle NLU en service" in page and 'href="/staff/model"' in page
    assert "nlu.tar.gz" in page and '<th scope="col" class="num">tiny</th>' in page
    assert "problème (signalements seuls)" in page and "0.667" in page  # its figures
    assert 'action="/staff/model/retrain"' not in page  # no button for a non-admin
    assert "Seuls les administrateurs" in page
    token = await csrf_of(console_for_model, "/staff/model")
    response = await console_for_model.post(
        "/staff/model/retrain", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 403
    assert not (console_for_model.config.data_dir / "retrain-job.json").exists()


async def test_admin_retrain_needs_csrf_then_runs_and_promotes(
    console_for_model, sqlite_bot
) -> None:
    client = console_for_model
    model = client.config.model_path
    old = sha(model)
    await annotate(
        sqlite_bot, GOOD_TEXTS, intent="report", category="parcel_delivery", sector="postal"
    )
    await log_in(client, "chef")
    page = await (await client.get("/staff/model")).text()
    assert 'action="/staff/model/retrain"' in page
    for data in ({}, {"csrf_token": "forged"}):
        response = await client.post("/staff/model/retrain", data=data, allow_redirects=False)
        assert response.status == 403
    assert not (client.config.data_dir / "retrain-job.json").exists()

    token = await csrf_of(client, "/staff/model")
    response = await client.post(
        "/staff/model/retrain", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"] == "/staff/model?notice=started"
    response = await client.get("/staff/model?notice=started")
    page = await response.text()
    assert "Réentraînement lancé." in page
    assert "en cours" in page and response.headers.get("Refresh") == "5"
    assert "disabled" in page
    # A second start while the first runs is not started.
    response = await client.post(
        "/staff/model/retrain", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.headers["Location"] == "/staff/model?notice=running"

    job_file = client.config.data_dir / "retrain-job.json"
    for _ in range(1200):
        job = json.loads(job_file.read_text())
        if job["state"] == "done":
            break
        await asyncio.sleep(0.25)
    assert job["state"] == "done" and job["by"] == "chef", job
    log_text = (client.config.data_dir / "retrain.log").read_text()
    assert job["returncode"] == 0, log_text[-3000:]
    assert "6 annotations relues dans la base." in log_text

    assert sha(model) != old and sha(previous_path(model)) == old
    figures = json.loads(figures_path(model).read_text())
    assert figures["annotations"] == 6 and figures["sha256"] == sha(model)
    response = await client.get("/staff/model")
    page = await response.text()
    assert "Refresh" not in response.headers
    assert "nouveau modèle mis en service" in page and "<strong>Mis en service</strong>" in page
    assert "(6 exemples annotés" in page
    assert "<li>tiny : problème (signalements seuls) 0.667 → 1.000</li>" in page
    assert "0.667 → 1.000 (+0.333, en hausse)" in page and 'class="num better"' in page
    assert "conservé (nlu.previous.tar.gz)" in page
    assert "Journal du dernier réentraînement" in page


# -- the running bot picks the new model up --------------------------------------------------
@pytest.mark.parametrize("in_place", [True, False], ids=["reloaded", "new-process"])
async def test_the_parse_service_swaps_to_a_promoted_model_without_a_pause(
    tiny_models, tmp_path, nlu_python, in_place
) -> None:
    """The running service loads the new file itself (POST /reload); when it cannot,
    a new service is started beside it and takes its socket."""
    from bot.process.nlu_process import NluSupervisor

    model = install_base(tiny_models, tmp_path / "models")
    supervisor = NluSupervisor(model, tmp_path / "run", python=nlu_python)
    supervisor.check_every = 0.2
    if not in_place:

        async def cannot(within: float = 0) -> bool:
            return False

        supervisor.client.reload = cannot
    try:
        assert await supervisor.start(), supervisor.log_path.read_text()[-3000:]
        assert (await supervisor.client.parse(PARCEL)).category != "parcel_delivery"
        first = supervisor.process
        staged = model.with_name(".incoming")
        shutil.copy(tiny_models["better"], staged)
        os.replace(staged, model)  # as nlu.retrain.promote does
        answered = 0
        for _ in range(1200):  # every parse during the swap is answered
            result = await supervisor.client.parse(PARCEL)
            answered += 1
            if supervisor.model_swaps:
                break
            await asyncio.sleep(0.05)
        assert supervisor.model_swaps == 1, supervisor.log_path.read_text()[-3000:]
        assert (await supervisor.client.parse(PARCEL)).category == "parcel_delivery"
        assert answered > 1 and result is not None
        if in_place:
            assert supervisor.process is first and first.returncode is None
        else:
            await asyncio.wait_for(first.wait(), 20)  # the old service is stopped
            assert supervisor.process is not first and supervisor.process.returncode is None
    finally:
        await supervisor.stop()
    assert supervisor.process.returncode is not None
    assert not (tmp_path / "run" / "nlu.sock.next").exists()


def test_a_job_whose_server_stopped_is_read_from_the_run_record(tmp_path) -> None:
    config = web_config(tmp_path, model_path=tmp_path / "models" / "nlu.tar.gz")
    (tmp_path / "data").mkdir()
    (tmp_path / "models").mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    job = {
        "state": "running",
        "pid": int(dead),
        "by": "chef",
        "started_at": "2026-11-27T10:00:00+00:00",
    }
    (tmp_path / "data" / "retrain-job.json").write_text(json.dumps(job))
    assert model_views.job_state(config)["state"] == "interrupted"
    history_path(config.model_path).write_text(
        json.dumps(
            [
                {
                    "started_at": "2026-11-27T10:00:01+00:00",
                    "finished_at": "2026-11-27T10:05:00+00:00",
                    "promoted": False,
                }
            ]
        )
    )
    state = model_views.job_state(config)
    assert state["state"] == "done" and state["returncode"] == 1
    assert model_views.job_state(web_config(tmp_path / "elsewhere"))["state"] == "idle"


async def test_an_admin_retrains_from_the_console_in_a_browser(
    browser,
    aiohttp_server,
    sqlite_bot,
    tiny_models,
    tmp_path,
    nlu_python,  # noqa: F811
    monkeypatch,
) -> None:
    """The button, as an admin uses it (Chromium): the page follows the job by itself
    (its Refresh header: no script) until the candidate is put in service."""
    from playwright.async_api import expect

    from bot.channels.web.app import create_app

    config = admin_console_config(tiny_models, tmp_path, nlu_python, monkeypatch)
    model = config.model_path
    await StaffRepository(sqlite_bot.db).add_user("chef", PASSWORD)
    await annotate(
        sqlite_bot, GOOD_TEXTS, intent="report", category="parcel_delivery", sector="postal"
    )
    old = sha(model)
    server = await aiohttp_server(create_app(config, rt=sqlite_bot.runtime))
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    await page.goto(str(server.make_url("/staff/model")))
    await page.get_by_label("Nom").fill("chef")
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("heading", name="Modèle NLU en service")).to_be_visible()
    await page.get_by_role("button", name="Réentraîner").click()
    await expect(page.get_by_text("Réentraînement lancé.")).to_be_visible()
    # No click from here on: the page reloads itself until the job is over.
    await expect(page.get_by_text("nouveau modèle mis en service")).to_be_visible(timeout=240_000)
    job = json.loads((config.data_dir / "retrain-job.json").read_text())
    assert job["state"] == "done" and job["returncode"] == 0, job
    shown = await page.locator("main").inner_text()
    assert "problème (signalements seuls) 0.667 → 1.000" in shown  # what got better
    assert sha(model) != old and sha(previous_path(model)) == old
    await context.close()


# -- several hosts ---------------------------------------------------------------------------
async def test_a_model_promoted_on_one_host_is_served_by_the_other(
    tiny_models, tmp_path, nlu_python, nlu, taxonomy, postgres_server
) -> None:
    """Issue 21: two hosts, each with its own copy of the model, on one PostgreSQL. A
    retrain promoted on host A (`jalerte nlu retrain`, which publishes it) is fetched and
    served by host B's parse service without a restart; B's copy and figures become A's."""
    import secrets
    import time

    from bot.process.models import ModelFollower, SharedModels
    from bot.process.nlu_process import NluSupervisor
    from storage.models import NluModel
    from tests.conftest import make_bot
    from tests.postgres import create_database

    url = await create_database(postgres_server, f"jalerte_models_{secrets.token_hex(4)}")
    bot = await make_bot(nlu, taxonomy, tmp_path / "bot", url)
    hosts = {}
    try:
        for name in ("a", "b"):
            model = install_base(tiny_models, tmp_path / name)
            follower = ModelFollower(SharedModels(bot.db), model, name)
            hosts[name] = NluSupervisor(
                model, tmp_path / f"run-{name}", python=nlu_python, follower=follower
            )
            assert await hosts[name].start(), hosts[name].log_path.read_text()[-3000:]
        a, b = hosts["a"], hosts["b"]
        async with bot.db.session() as session:  # the first host published its model
            versions = (await session.execute(select(NluModel.version))).scalars().all()
        assert versions == [1] and a.follower.version == b.follower.version == 1
        assert (await b.client.parse(PARCEL)).category != "parcel_delivery"

        await annotate(
            bot, GOOD_TEXTS, intent="report", category="parcel_delivery", sector="postal"
        )
        env = {
            **os.environ,
            "JALERTE_DATABASE_URL": url,
            "JALERTE_SECRET_KEY": "s" * 40,
            "JALERTE_MODEL_PATH": str(a.model_path),
            "JALERTE_BUILD_DIR": str(tmp_path / "build"),
            "JALERTE_NLU_PYTHON": nlu_python,
            "JALERTE_DATA_DIR": str(tmp_path / "data-a"),
        }
        done = await bot_cli_retrain(env)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Modèle publié : version 2" in done.stderr
        promoted = time.monotonic()
        for _ in range(600):  # host B follows: a newer version, fetched and swapped in
            if b.model_swaps and (await b.client.parse(PARCEL)).category == "parcel_delivery":
                break
            await asyncio.sleep(0.1)
        print(f"host B served the promoted model {time.monotonic() - promoted:.1f} s after")
        assert (await b.client.parse(PARCEL)).category == "parcel_delivery"
        assert sha(b.model_path) == sha(a.model_path)
        assert json.loads(figures_path(b.model_path).read_text()) == json.loads(
            figures_path(a.model_path).read_text()
        )
        assert b.follower.version == 2 and b.model_swaps == 1
        assert a.model_swaps == 1  # A swapped once: its own file, not a download again
    finally:
        for supervisor in hosts.values():
            await supervisor.stop()
        await bot.db.close()


async def test_a_retrain_started_on_one_host_is_seen_and_exclusive_on_the_other(
    aiohttp_client, tiny_models, tmp_path, nlu_python, nlu, taxonomy, postgres_server, monkeypatch
) -> None:
    """Issue 21: the retrain job lives in the shared database. Started from host A's
    console, host B's shows it running with its log, refuses a second one, then shows
    how it ended; a job whose host stopped beating reads as interrupted."""
    import secrets
    from dataclasses import replace
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from bot.channels.web.app import create_app
    from storage.models import RetrainJob
    from tests.conftest import make_bot
    from tests.postgres import create_database

    url = await create_database(postgres_server, f"jalerte_jobs_{secrets.token_hex(4)}")
    bot = await make_bot(nlu, taxonomy, tmp_path / "bot", url, secret=b"s" * 40)
    await StaffRepository(bot.db).add_user("chef", PASSWORD)
    await annotate(bot, GOOD_TEXTS, intent="report", category="parcel_delivery", sector="postal")
    clients = []
    for name in ("a", "b"):
        config = admin_console_config(tiny_models, tmp_path / name, nlu_python, monkeypatch)
        config = replace(config, database_url=url, secret_key="s" * 40)
        client = await aiohttp_client(create_app(config, rt=bot.runtime))
        await log_in(client, "chef")
        clients.append(client)
    a, b = clients
    try:
        token = await csrf_of(a, "/staff/model")
        started = await a.post(
            "/staff/model/retrain", data={"csrf_token": token}, allow_redirects=False
        )
        assert started.headers["Location"] == "/staff/model?notice=started"
        page = await (await b.get("/staff/model")).text()
        assert "en cours" in page and "lancé par chef" in page and "disabled" in page
        token_b = await csrf_of(b, "/staff/model")
        again = await b.post(
            "/staff/model/retrain", data={"csrf_token": token_b}, allow_redirects=False
        )
        assert again.headers["Location"] == "/staff/model?notice=running"
        for _ in range(1200):
            page = await (await b.get("/staff/model")).text()
            if "en cours" not in page:
                break
            await asyncio.sleep(0.5)
        assert "terminé le" in page and "nouveau modèle mis en service" in page, page[-3000:]
        assert "Journal du dernier réentraînement" in page  # A's log, read on B
        assert "Versions mises en service sur tous les serveurs" in page
        assert "retrain (" in page  # the version the retrain published, listed on B
        async with bot.db.session() as session:
            jobs = (await session.execute(select(RetrainJob))).scalars().all()
        assert [(j.state, j.returncode) for j in jobs] == [("done", 0)]

        # A host that dies mid-run stops beating: the job reads as interrupted.
        async with bot.db.session() as session, session.begin():
            long_ago = datetime.now(timezone.utc) - timedelta(minutes=5)
            await session.execute(update(RetrainJob).values(state="running", heartbeat_at=long_ago))
        page = await (await b.get("/staff/model")).text()
        assert "interrompu" in page and "disabled" not in page
    finally:
        await bot.db.close()


async def test_publish_checks_the_model_rolls_back_and_says_when_the_database_is_down(
    tiny_models, tmp_path, nlu_python, postgres_server
) -> None:
    """`jalerte nlu publish`: a file that does not load is refused before any host sees
    it; `--version N` puts an earlier version back; a database that does not answer is
    said in words, with what to do, and a distinct exit code."""
    import secrets

    import asyncpg

    from tests.postgres import create_database

    url = await create_database(postgres_server, f"jalerte_publish_{secrets.token_hex(4)}")
    from storage.db import upgrade

    await upgrade(url)
    env = {
        **os.environ,
        "JALERTE_DATABASE_URL": url,
        "JALERTE_SECRET_KEY": "s" * 40,
        "JALERTE_NLU_PYTHON": nlu_python,
        "JALERTE_DATA_DIR": str(tmp_path / "data"),
        "JALERTE_MODEL_PATH": str(tmp_path / "nlu.tar.gz"),
    }

    def publish(*args: str, **more: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot.process.cli", "nlu", "publish", *args],
            cwd=PROJECT,
            env={**env, **more},
            capture_output=True,
            text=True,
            timeout=300,
        )

    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a model")
    done = publish("--model", str(broken))
    assert done.returncode == 2 and "ne se charge pas" in done.stderr
    assert "Traceback (most recent call last)" not in done.stderr.split("\n\n")[0]
    pg = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        assert await pg.fetchval("SELECT count(*) FROM nlu_models") == 0
        done = publish("--model", str(tiny_models["base"]))  # loaded and parsed first
        assert done.returncode == 0 and "version 1" in done.stderr, done.stderr[-2000:]
        from bot.process.models import SharedModels
        from storage.db import Database

        db = await Database.open(url, migrate=False)
        try:  # as a retrain on another host publishes (checked by its retrain)
            await SharedModels(db).publish(tiny_models["better"], "retrain (elsewhere)")
        finally:
            await db.close()
        done = publish("--version", "1")
        assert done.returncode == 0 and "version 3" in done.stderr, done.stderr[-2000:]
        rows = await pg.fetch("SELECT version, sha256 FROM nlu_models ORDER BY version")
        assert [r["sha256"] for r in rows] == [
            sha(tiny_models["base"]),
            sha(tiny_models["better"]),
            sha(tiny_models["base"]),
        ]
    finally:
        await pg.close()
    down = publish(
        "--model",
        str(tiny_models["base"]),
        JALERTE_DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:9/none",
    )
    assert down.returncode == 3 and "la base ne répond pas" in down.stderr
    assert "Traceback" not in down.stderr


async def test_a_failed_download_is_tried_again(tmp_path) -> None:
    """A transient error while fetching a newer model: the next poll tries again (the
    host does not stay on the old model until the next version)."""
    from bot.process.models import ModelFollower, Version

    model = tmp_path / "nlu.tar.gz"
    model.write_bytes(b"version 1")

    class Models:
        failures = 1

        async def newest(self) -> Version:
            return Version(2, hashlib.sha256(b"version 2").hexdigest())

        async def download(self, version: int, target: Path) -> Version:
            if self.failures:
                self.failures -= 1
                raise OSError("connection reset")
            target.write_bytes(b"version 2")
            return Version(2, hashlib.sha256(b"version 2").hexdigest())

    follower = ModelFollower(Models(), model, "here")
    follower.version = 1
    with pytest.raises(OSError):
        await follower.newer()
    assert follower.version == 1 and model.read_bytes() == b"version 1"
    assert await follower.newer() is True
    assert follower.version == 2 and model.read_bytes() == b"version 2"
    assert await follower.newer() is False


def test_the_shared_job_keeps_no_line_that_may_quote_a_message(tmp_path) -> None:
    """The retrain log's tail goes into the shared database: never Rasa's warnings that
    quote a training example (staff annotations are people's messages)."""
    config = web_config(tmp_path)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    (config.data_dir / "retrain.log").write_text(
        "Retrain: training a candidate with 6 annotated examples\n"
        "UserWarning: Misaligned entity annotation in message 'je suis chez Free 06 12'\n"
        "Evaluating the candidate on the held-out sets\n",
        encoding="utf-8",
    )
    kept = model_views._tail_of_log(config)
    assert "Evaluating the candidate" in kept and "6 annotated examples" in kept
    assert "chez Free" not in kept and "Misaligned" not in kept
