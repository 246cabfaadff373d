"""Several workers on one database: any worker takes any message (issue 11).

Each `make_bot` here is a separate worker: its own service, engine, connection pool and
in-memory locks, sharing only the database (SQLite file or PostgreSQL) and the NLU.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from dialogues.events import ChoiceEvent, TextEvent
from dialogues.messages import text as msg
from dialogues.service import IncomingPhoto
from storage.models import Alert, Message
from tests.conftest import clear_of_a_minute_change, make_bot
from tests.images import image_bytes


async def _workers(nlu, taxonomy, tmp_path, database_url, n: int = 3):
    return [await make_bot(nlu, taxonomy, tmp_path, database_url) for _ in range(n)]


async def _close(workers) -> None:
    for worker in workers:
        await worker.db.close()


async def test_confirmations_on_several_workers_save_one_alert(
    nlu, taxonomy, tmp_path, database_url
) -> None:
    workers = await _workers(nlu, taxonomy, tmp_path, database_url)
    try:
        await workers[0].send("Orange me facture deux fois ma box")
        out = await workers[1].send("non")
        assert out.expecting == "confirmation"
        outs = await asyncio.gather(*(w.send(ChoiceEvent("confirm:send")) for w in workers))
        assert len([o.alert_id for o in outs if o.alert_id]) == 1
        async with workers[2].db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Alert)) == 1
    finally:
        await _close(workers)


async def test_answers_at_the_same_moment_on_several_workers_are_all_kept(
    nlu, taxonomy, tmp_path, database_url
) -> None:
    """Three photos sent at once, each taken by another worker: three acknowledged,
    three in the draft (none overwritten by another worker's turn)."""
    workers = await _workers(nlu, taxonomy, tmp_path, database_url)
    try:
        await workers[0].send("colis DPD perdu")
        album = [IncomingPhoto(image_bytes("PNG", size=(20 + i, 20))) for i in range(3)]
        outs = await asyncio.gather(*(w.send(p) for w, p in zip(workers, album)))
        said = sorted(r.text for o in outs for r in o.replies if r.text.startswith("Photo"))
        assert said == ["Photo ajoutée (1/3).", "Photo ajoutée (2/3).", "Photo ajoutée (3/3)."]
        state = await workers[1].service.state_of("cli", "alice")
        assert len(state.draft.photos) == 3
    finally:
        await _close(workers)


async def test_a_first_message_sent_to_several_workers_at_once_makes_one_conversation(
    nlu, taxonomy, tmp_path, database_url
) -> None:
    """A person new to the bot whose first messages reach three workers at the same
    moment: one conversation (the others wait for it, then read it), every line kept,
    each turn answered."""
    from storage.models import Conversation

    workers = await _workers(nlu, taxonomy, tmp_path, database_url)
    try:
        outs = await asyncio.gather(
            *(w.send(TextEvent(text)) for w, text in zip(workers, ["bonjour", "colis", "DPD"]))
        )
        technical = msg("technical_error", "fr")
        assert all(out.replies and technical not in out.replies[0].text for out in outs)
        async with workers[0].db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Conversation)) == 1
            users = await session.scalars(select(Message.text).where(Message.sender == "user"))
            assert sorted(users) == ["DPD", "bonjour", "colis"]
    finally:
        await _close(workers)


async def test_a_turn_run_again_after_a_conflict_keeps_one_of_everything(
    nlu, taxonomy, tmp_path, database_url
) -> None:
    """Every turn's first run finds at its end that another worker changed the
    conversation (TurnConflict, as the PostgreSQL store says): each is run again,
    locked, and the person sees one answer per message, the transcript has each line
    once, one alert is saved and counted once, and no message is parsed twice."""
    from contextlib import asynccontextmanager

    from domain.turns import TurnConflict
    from storage.models import AlertCount

    bot = await make_bot(nlu, taxonomy, tmp_path, database_url)
    store, runs, parses = bot.service.store, [], []

    class AlwaysChangedMeanwhile:
        async def peek(self, channel: str, key: str, limits):
            return await store.peek(channel, key, limits)

        @asynccontextmanager
        async def turn(self, channel: str, key: str, locked: bool = False, read=None):
            runs.append(locked)
            async with store.turn(channel, key, locked, read) as record:
                yield record
                if not locked:
                    raise TurnConflict()  # the store keeps nothing of this run

        async def after_erasing(self) -> None:
            await store.after_erasing()

    engine_nlu = bot.service.engine.nlu
    parse = engine_nlu.parse

    async def counted_parse(text: str):
        parses.append(text)
        return await parse(text)

    bot.service.store = AlwaysChangedMeanwhile()
    engine_nlu.parse = counted_parse
    try:
        first = await bot.send("Orange me facture deux fois ma box")
        answered = await bot.send("non")
        assert answered.expecting == "confirmation", [r.text for r in answered.replies]
        saved = await bot.send(ChoiceEvent("confirm:send"))
        assert saved.alert_id and first.replies
        assert runs == [False, True] * 3
        assert parses == ["Orange me facture deux fois ma box", "non"]
        async with bot.db.session() as session:
            users = await session.scalars(select(Message.text).where(Message.sender == "user"))
            assert list(users) == ["Orange me facture deux fois ma box", "non", None]
            assert await session.scalar(select(func.count()).select_from(Alert)) == 1
            counted = await session.scalar(select(func.sum(AlertCount.alerts)))
            assert counted == 1
    finally:
        engine_nlu.parse = parse
        await bot.db.close()


async def test_many_people_across_workers_lose_no_message(
    nlu, taxonomy, tmp_path, database_url
) -> None:
    workers = await _workers(nlu, taxonomy, tmp_path, database_url)
    people = [f"p{i}" for i in range(8)]
    lines = ["colis Chronopost perdu", "à Nantes", "non"]
    try:
        for line in lines:  # each person's lines in order, every worker busy at once
            await asyncio.gather(
                *(
                    workers[(i + len(line)) % len(workers)].send(TextEvent(line), user=person)
                    for i, person in enumerate(people)
                )
            )
        async with workers[0].db.session() as session:
            users = await session.scalar(
                select(func.count()).select_from(Message).where(Message.sender == "user")
            )
        assert users == len(people) * len(lines)
        for person in people:
            state = await workers[2].service.state_of("cli", person)
            assert state.draft.location == "Nantes (44)", person
    finally:
        await _close(workers)


async def _web_workers(aiohttp_client, nlu, taxonomy, tmp_path, database_url, **config):
    from bot.channels.web.app import create_app
    from tests.conftest import web_config

    workers = await _workers(nlu, taxonomy, tmp_path, database_url, n=2)
    clients = [
        await aiohttp_client(create_app(web_config(tmp_path, **config), rt=w.runtime))
        for w in workers
    ]
    return workers, clients


async def _open(client, session: str | None = None):
    ws = await client.ws_connect("/ws" + (f"?session={session}" if session else ""))
    return ws, (await ws.receive_json())["session"]


async def test_a_photo_uploaded_to_one_worker_is_sent_through_another(
    aiohttp_client, nlu, taxonomy, tmp_path, database_url
) -> None:
    import aiohttp

    from tests.images import PDF, jpeg_with_gps

    workers, (first, second) = await _web_workers(
        aiohttp_client, nlu, taxonomy, tmp_path, database_url
    )
    try:
        ws, session = await _open(second)
        await ws.send_json({"type": "message", "text": "colis DPD perdu"})
        await ws.receive_json()
        ids = []
        for payload, name in ((jpeg_with_gps(), "a.jpg"), (PDF, "b.pdf")):
            form = aiohttp.FormData()
            form.add_field("session", session)
            form.add_field("file", payload, filename=name)
            response = await first.post("/upload", data=form)
            assert response.status == 200
            ids.append((await response.json())["upload_id"])
        # Someone else's session cannot take it.
        other, _ = await _open(second)
        await other.send_json({"type": "photo", "upload_id": ids[0]})
        assert (await other.receive_json())["code"] == "unknown_upload"

        await ws.send_json({"type": "photo", "upload_id": ids[0]})
        turn = await ws.receive_json()
        assert any("Photo ajoutée (1/3)" in r["text"] for r in turn["replies"])
        await ws.send_json({"type": "photo", "upload_id": ids[1]})  # a PDF: told, kindly
        turn = await ws.receive_json()
        assert turn["type"] == "turn" and "photo" in turn["replies"][0]["text"].lower()
        await ws.send_json({"type": "photo", "upload_id": ids[0]})  # taken once only
        assert (await ws.receive_json())["code"] == "unknown_upload"
        state = await workers[0].service.state_of("web", session)
        assert len(state.draft.photos) == 1
    finally:
        await _close(workers)


async def test_the_message_rate_holds_across_workers(
    aiohttp_client, nlu, taxonomy, tmp_path, database_url
) -> None:
    workers, clients = await _web_workers(
        aiohttp_client, nlu, taxonomy, tmp_path, database_url, web_messages_per_minute=4
    )
    try:
        await clear_of_a_minute_change()
        ws, session = await _open(clients[0])
        again, _ = await _open(clients[1], session)
        answers = []
        for n in range(6):
            socket = (ws, again)[n % 2]
            await socket.send_json({"type": "message", "text": "bonjour"})
            answers.append((await socket.receive_json())["type"])
        assert answers == ["turn"] * 4 + ["error"] * 2
    finally:
        await _close(workers)


async def test_on_a_pool_of_one_connection_every_turn_goes_through(
    nlu, taxonomy, tmp_path, postgres_server
) -> None:
    """PostgreSQL's pool never opens more connections than its size (storage.db): a
    burst waits for one. That is safe only if nothing holds a connection while it asks
    for another. On a pool of one connection, a whole report (rate limits counted, a
    photo, an answer, sending it) and « Oubliez-moi » go through, and so do three
    people at once: every answer a real one, none after a wait for a connection
    that never comes (30 s)."""
    from domain.turns import Limits
    from dialogues.events import CommandEvent
    from tests.postgres import create_database

    url = await create_database(postgres_server, "jalerte_pool_of_one")
    bot = await make_bot(nlu, taxonomy, tmp_path, url, pool_size=1)
    limits = Limits({"web:alice": (60, 100), "addr:turns:x": (60, 100)})

    async def send(event, user: str = "alice"):
        output = await asyncio.wait_for(
            bot.service.handle("web", user, event, limits=limits), timeout=20
        )
        assert output.replies and msg("technical_error", "fr") not in output.replies[0].text
        return output

    try:
        assert bot.db.engine.pool.size() == 1
        await send(TextEvent("Orange me facture deux fois ma box"))
        await send(IncomingPhoto(image_bytes("PNG")))
        for _ in range(4):  # the questions still open, then the summary
            if (await send(TextEvent("non"))).expecting == "confirmation":
                break
        assert (await send(ChoiceEvent("confirm:send"))).alert_id
        await asyncio.gather(*(send(TextEvent("colis perdu"), user) for user in "xyz"))
        await send(CommandEvent("forget"))
        await send(ChoiceEvent("forget:yes"))
        async with bot.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Alert)) == 1
    finally:
        await bot.db.close()


async def test_readiness_answers_while_every_pooled_connection_is_busy(
    aiohttp_client, nlu, taxonomy, tmp_path, postgres_server
) -> None:
    """Under load every pooled connection may be in a turn; the readiness check (what a
    proxy or an orchestrator polls) must still answer at once, not after the pool's
    30 s wait: it connects outside the pool."""
    from bot.channels.web.app import create_app
    from tests.conftest import web_config
    from tests.postgres import create_database

    url = await create_database(postgres_server, "jalerte_ready_under_load")
    bot = await make_bot(nlu, taxonomy, tmp_path, url, pool_size=1)
    try:
        client = await aiohttp_client(create_app(web_config(tmp_path), rt=bot.runtime))
        async with bot.db.engine.connect() as busy:  # the pool's one connection, in a turn
            await busy.exec_driver_sql("SELECT 1")
            response = await asyncio.wait_for(client.get("/healthz"), timeout=10)
            assert (await response.json())["database"] is True
    finally:
        await bot.db.close()
