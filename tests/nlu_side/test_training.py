"""Training is reproducible, and loading the model never blocks the event loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from nlu.parser import NluParser
from nlu.training import train

PROBES = [
    "slt g pa de reseau ac orange dan mon village",
    "Free me prélève encore alors que j'ai résilié",
    "my parcel from Chronopost never arrived",
    "bonjour",
    "chez Bouygues à Rennes",
    "le technicien fibre n'est jamais venu",
]


async def test_loading_the_model_leaves_the_event_loop_free(trained_model: Path) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    parser = await NluParser.load(trained_model)
    elapsed = time.perf_counter() - started
    task.cancel()
    # A blocked loop would not tick at all while the model loads.
    assert ticks >= int(elapsed / 0.05) // 2
    assert (await parser.parse("bonjour")).intent == "greet"


@pytest.mark.slow
async def test_training_twice_gives_the_same_model(
    trained_model: Path, nlu: NluParser, tmp_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    second = await loop.run_in_executor(
        None, lambda: train(tmp_path / "again.tar.gz", tmp_path / "build", progress=lambda _m: None)
    )
    again = await NluParser.load(second)
    for text in PROBES:
        first, other = await nlu.parse(text), await again.parse(text)
        assert first.to_json() == other.to_json()
        assert first.ranking == other.ranking  # same probabilities, to 4 decimals
