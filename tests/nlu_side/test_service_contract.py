"""The parse service's contract (`jalerte-nlu serve`): exactly the parse record, batches in
order, hostile text never executed, every bad request a JSON error."""

from __future__ import annotations

import io
import json

import pytest

from domain.parse import ParseResult
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
        record = await response.json()
        assert record == (await nlu.parse(text)).to_json()
        assert ParseResult.from_json(record).to_json() == record  # what the bot rebuilds


async def test_a_batch_keeps_its_order(service, nlu) -> None:
    response = await service.post("/parse", json={"texts": MESSAGES})
    assert response.status == 200
    results = (await response.json())["results"]
    assert results == [(await nlu.parse(t)).to_json() for t in MESSAGES]
    assert results[2]["operator"] is None and results[2]["intent"] != "affirm"


@pytest.mark.parametrize(
    "body, status",
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"text": 3}', 400),
        (b'{"texts": ["a", 1]}', 400),
        (b'"a string"', 400),
        (b"{" * 5000, 400),
    ],
)
async def test_bad_requests_get_a_json_error(service, body: bytes, status: int) -> None:
    response = await service.post("/parse", data=body, headers={"Content-Type": "application/json"})
    assert response.status == status
    assert "error" in await response.json()


async def test_oversized_requests_are_refused(service) -> None:
    response = await service.post("/parse", json={"texts": ["ok"] * (MAX_BATCH + 1)})
    assert response.status == 413
    body = io.BytesIO(json.dumps({"text": "x" * (3 * 1024 * 1024)}).encode())
    response = await service.post("/parse", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 413


async def test_health(service) -> None:
    response = await service.get("/health")
    assert (await response.json()) == {"status": "ok", "model": "nlu.tar.gz"}


async def test_answers_say_how_long_the_parse_took(service) -> None:
    response = await service.post("/parse", json={"text": "colis perdu"})
    timing = response.headers["Server-Timing"]
    assert timing.startswith("parse;dur=") and float(timing.split("=")[1]) > 0


async def test_reload_serves_the_file_again_and_keeps_the_model_when_it_fails(
    aiohttp_client, nlu, trained_model, tmp_path
) -> None:
    """POST /reload loads the model file at the service's own path again (a newer model
    put there); a file that does not load leaves the current model answering."""
    import shutil

    model = tmp_path / "nlu.tar.gz"
    shutil.copy(trained_model, model)
    service = await aiohttp_client(make_app(nlu, model))
    text = "colis Chronopost jamais arrivé"
    expected = (await nlu.parse(text)).to_json()
    done = await service.post("/reload")
    assert done.status == 200 and (await done.json())["model"] == "nlu.tar.gz"
    answer = await (await service.post("/parse", json={"text": text})).json()
    assert answer == expected  # the same file: the same answers, from a new parser

    model.write_bytes(b"not a model")
    failed = await service.post("/reload")
    assert failed.status == 500 and "kept" in (await failed.json())["error"]
    still = await service.post("/parse", json={"text": text})
    assert still.status == 200 and await still.json() == expected
    # Only the service's own path: a body naming another file is not read.
    shutil.copy(trained_model, model)
    other = await service.post("/reload", json={"model": "/etc/passwd"})
    assert other.status == 200 and (await other.json())["model"] == "nlu.tar.gz"
    answer = await (await service.post("/parse", json={"text": text})).json()
    assert answer == expected
