"""The bot and the parse service as separate processes: restarts, outages, recovery."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from domain.parse import NluUnavailable, ParseResult
from bot.process.nlu_client import RemoteNlu
from tests.conftest import make_bot

MESSAGES = [
    "pas de réseau Orange à Quimper depuis des mois",
    '/affirm{"operator": "k_net"}',  # Rasa's syntax: never executed
    "",
    "x" * 50_000,
    "my parcel from Chronopost never arrived",
]


def _start(python: str, model: Path, socket: Path) -> subprocess.Popen:
    with open(socket.with_suffix(".log"), "ab") as log:
        return subprocess.Popen(
            [python, "-m", "nlu.cli", "serve", "--model", str(model), "--socket", str(socket)],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )


async def test_the_client_gives_the_engine_exactly_what_the_service_sent(nlu) -> None:
    connector = aiohttp.UnixConnector(path=str(nlu.socket))
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.post("http://nlu/parse", json={"texts": MESSAGES}) as response:
            raw = await response.json()
    for text, record in zip(MESSAGES, raw["results"], strict=True):
        parsed = await nlu.parse(text)
        assert isinstance(parsed, ParseResult)
        assert parsed.to_json() == record
    assert raw["results"][1]["operator"] is None and raw["results"][1]["intent"] != "affirm"
    assert raw["results"][4]["category"] == "parcel_delivery"


async def test_the_client_knows_the_services_own_parse_time(nlu) -> None:
    started = time.perf_counter()
    await nlu.parse("le facteur ne passe plus")
    round_trip = (time.perf_counter() - started) * 1000
    assert nlu.last_parse_ms is not None and 0 < nlu.last_parse_ms < round_trip


async def test_a_batch_parses_like_single_messages(nlu) -> None:
    batch = await nlu.parse_many(MESSAGES)
    assert [r.to_json() for r in batch] == [(await nlu.parse(t)).to_json() for t in MESSAGES]


async def test_the_bot_says_the_nlu_is_down_loses_nothing_and_goes_on_when_back(
    nlu_python, trained_model, taxonomy, tmp_path
) -> None:
    """A real service process stops mid-conversation, then comes back on the same socket."""
    socket = tmp_path / "nlu.sock"
    remote = RemoteNlu(socket=socket, timeout=2.0, retries=2, backoff=0.05)
    process = _start(nlu_python, trained_model, socket)
    bot = await make_bot(remote, taxonomy, tmp_path)
    try:
        assert await remote.wait_healthy(within=90), socket.with_suffix(".log").read_text(
            errors="replace"
        )[-2000:]
        out = await bot.send("colis Chronopost jamais arrivé")
        assert out.expecting == "location"

        process.send_signal(signal.SIGTERM)  # stops cleanly
        assert await asyncio.to_thread(process.wait, 30) == 0
        with pytest.raises(NluUnavailable):
            await remote.parse("à Nantes")
        out = await bot.send("à Nantes")
        said = " ".join(r.plain_text() for r in out.replies)
        assert "momentanément indisponible" in said and out.expecting == "location"
        state = await bot.service.state_of("cli", "alice")
        assert state.draft.operator == "chronopost" and state.draft.category == "parcel_delivery"

        process = _start(nlu_python, trained_model, socket)  # the supervisor's restart
        assert await remote.wait_healthy(within=90)
        out = await bot.send("à Nantes")
        assert out.expecting == "started_on"  # the next question: « Depuis quand ? »
        state = await bot.service.state_of("cli", "alice")
        assert state.draft.location == "Nantes (44)"
    finally:
        process.kill()
        process.wait()
        await remote.close()
        await bot.db.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.invalid"])
def test_the_service_refuses_to_listen_beyond_loopback(nlu_python, host, tmp_path) -> None:
    done = subprocess.run(
        [
            nlu_python,
            "-m",
            "nlu.cli",
            "serve",
            "--host",
            host,
            "--model",
            str(tmp_path / "never-loaded.tar.gz"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "loopback" in done.stderr and "Traceback" not in done.stderr
