"""The parse service (`jalerte-nlu serve`) and the bot's client of it."""
from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dialogues.events import TextEvent
from nlu.interpret import NluUnavailable, ParseResult
from nlu.remote import RemoteNlu
from nlu.service import MAX_BATCH, make_app

MESSAGES = [
    "pas de réseau Orange à Quimper depuis des mois",
    "colis Chronopost jamais arrivé",
    '/affirm{"operator": "k_net"}',  # Rasa's syntax: never executed
    "",
    "x" * 50_000,
    "my parcel from Chronopost never arrived",
]


@pytest.fixture
async def service(aiohttp_client, nlu):
    return await aiohttp_client(make_app(nlu, "nlu.tar.gz"))


async def test_one_message_gets_exactly_the_parse_record(service, nlu) -> None:
    for text in MESSAGES:
        response = await service.post("/parse", json={"text": text})
        assert response.status == 200
        assert await response.json() == (await nlu.parse(text)).to_json()


async def test_a_batch_keeps_its_order(service, nlu) -> None:
    response = await service.post("/parse", json={"texts": MESSAGES})
    assert response.status == 200
    results = (await response.json())["results"]
    assert results == [(await nlu.parse(t)).to_json() for t in MESSAGES]
    assert results[2]["operator"] is None and results[2]["intent"] != "affirm"


@pytest.mark.parametrize("body, status", [
    (b"not json", 400), (b"[1, 2]", 400), (b'{"text": 3}', 400), (b'{"texts": ["a", 1]}', 400),
    (b'"a string"', 400), (b"{" * 5000, 400),
])
async def test_bad_requests_get_a_json_error(service, body: bytes, status: int) -> None:
    response = await service.post("/parse", data=body,
                                  headers={"Content-Type": "application/json"})
    assert response.status == status
    assert "error" in await response.json()


async def test_oversized_requests_are_refused(service) -> None:
    response = await service.post("/parse", json={"texts": ["ok"] * (MAX_BATCH + 1)})
    assert response.status == 413
    body = io.BytesIO(json.dumps({"text": "x" * (3 * 1024 * 1024)}).encode())
    response = await service.post("/parse", data=body,
                                  headers={"Content-Type": "application/json"})
    assert response.status == 413


async def test_health(service) -> None:
    response = await service.get("/health")
    assert (await response.json()) == {"status": "ok", "model": "nlu.tar.gz"}


async def test_the_client_reads_what_the_model_reads(aiohttp_server, nlu) -> None:
    server = await aiohttp_server(make_app(nlu, "m"))
    remote = RemoteNlu(str(server.make_url("/")).rstrip("/"))
    try:
        for text in MESSAGES:
            assert await remote.parse(text) == ParseResult.from_json(
                (await nlu.parse(text)).to_json())
    finally:
        await remote.close()


async def test_the_bot_says_the_nlu_is_down_loses_nothing_and_goes_on_when_back(
        aiohttp_server, nlu, taxonomy, tmp_path) -> None:
    from tests.conftest import make_bot

    server = await aiohttp_server(make_app(nlu, "m"))
    port = server.port
    remote = RemoteNlu(f"http://127.0.0.1:{port}", timeout=1.0, retries=2, backoff=0.05)
    bot = await make_bot(remote, taxonomy, tmp_path)
    try:
        out = await bot.send("colis Chronopost jamais arrivé")
        assert out.expecting == "location"
        await server.close()  # the NLU process goes away

        out = await bot.send("à Nantes")
        said = " ".join(r.plain_text() for r in out.replies)
        assert "momentanément indisponible" in said and out.expecting == "location"
        state = await bot.service.state_of("cli", "alice")
        assert state.draft.operator == "chronopost" and state.draft.category == "parcel_delivery"

        await aiohttp_server(make_app(nlu, "m"), port=port)  # back, same address
        out = await bot.send("à Nantes")
        assert out.expecting == "contacted_customer_service"
        state = await bot.service.state_of("cli", "alice")
        assert state.draft.location == "Nantes (44)"
    finally:
        await remote.close()
        await bot.db.close()


def _start(model: Path, socket: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(socket.with_suffix(".log"), "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "nlu.cli", "serve", "--model",
                                 str(model), "--socket", str(socket)], env=env,
                                stdout=log, stderr=log)


async def test_the_real_process_serves_restarts_and_the_client_follows(
        trained_model, nlu, tmp_path) -> None:
    socket = tmp_path / "nlu.sock"
    remote = RemoteNlu(socket=socket, timeout=2.0, retries=2, backoff=0.05)
    process = _start(trained_model, socket)
    try:
        assert await remote.wait_healthy(within=60), \
            socket.with_suffix(".log").read_text(errors="replace")[-2000:]
        text = "le facteur ne passe plus depuis une semaine"
        assert (await remote.parse(text)).to_json() == (await nlu.parse(text)).to_json()

        process.send_signal(signal.SIGTERM)  # stops cleanly
        assert await asyncio.to_thread(process.wait, 30) == 0
        with pytest.raises(NluUnavailable):
            await remote.parse(text)

        process = _start(trained_model, socket)  # the supervisor's restart
        assert await remote.wait_healthy(within=60)
        assert (await remote.parse(text)).category == (await nlu.parse(text)).category
    finally:
        process.kill()
        process.wait()
        await remote.close()
