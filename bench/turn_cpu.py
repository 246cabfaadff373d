"""Where a turn's CPU goes in the bot process (issue 11, item 2: ≤ 5 ms besides the parse).

Runs the load bench's scripted conversations in-process through the real service and a
real SQLite (or PostgreSQL) database, with the parses answered from a cache filled by the
real NLU service in a first pass, so that what is measured is the bot's own work. Prints
CPU milliseconds per turn for the whole turn and for its parts, one at a time:

    .venv/bin/python bench/turn_cpu.py [--conversations 200] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bot.process.config import Config  # noqa: E402
from bot.process.wiring import runtime  # noqa: E402
from dialogue_turns import ANSWERS, FIRST_MESSAGES  # noqa: E402
from dialogues.events import ChoiceEvent, TextEvent  # noqa: E402
from dialogues.state import DialogueState  # noqa: E402
from storage.shared import SharedState  # noqa: E402


class Cached:
    """The real parse service, each text parsed once."""

    def __init__(self, nlu):
        self.nlu, self.cache = nlu, {}

    async def parse(self, text):
        if text not in self.cache:
            self.cache[text] = await self.nlu.parse(text)
        return self.cache[text]


def next_event(out) -> object:
    choices = [c.value for r in out.replies for c in getattr(r, "choices", ()) or ()]
    if out.expecting == "confirmation":
        return ChoiceEvent("confirm:send")
    if out.expecting in ANSWERS:
        return TextEvent(ANSWERS[out.expecting])
    if choices:
        return ChoiceEvent(choices[0])
    return TextEvent("je ne sais pas")


async def conversations(service, count: int, tag: str, record=None) -> int:
    turns = 0
    for n in range(count):
        person = f"{tag}-{n}"
        event = TextEvent(FIRST_MESSAGES[n % len(FIRST_MESSAGES)])
        for _ in range(12):
            if record is not None:
                record.append((person, event))
            out = await service.handle("web", person, event)
            turns += 1
            if out.alert_id:
                break
            event = next_event(out)
    return turns


def cpu_ms(started: float, turns: int) -> str:
    return f"{1000 * (time.process_time() - started) / turns:.2f} ms"


async def main(count: int, database: str) -> None:
    data = Path(tempfile.mkdtemp(prefix="jalerte-turn-cpu-"))
    config = dataclasses.replace(
        # A shared database requires the hosts' common key (any, for a bench).
        Config.from_env({"JALERTE_DATA_DIR": str(data), "JALERTE_SECRET_KEY": "b" * 64}),
        **({"database_url": database} if database else {}),
    )
    async with runtime(config) as rt:
        cached = Cached(rt.service.engine.nlu)
        rt.service.engine.nlu = cached
        await conversations(rt.service, count, "warm")  # fills the parse cache
        events: list = []
        started = time.process_time()
        turns = await conversations(rt.service, count, "run", events)
        print(
            f"{turns} turns, {len(cached.cache)} distinct texts "
            f"({'PostgreSQL' if database else 'SQLite'})"
        )
        print(f"whole turn (service.handle)          {cpu_ms(started, turns)}")

        state = DialogueState()
        started = time.process_time()
        for _person, event in events:
            state = (await rt.service.engine.handle(state, event, None)).state
        print(f"dialogue engine alone                {cpu_ms(started, turns)}")

        started = time.process_time()
        for person, _event in events:
            async with rt.repository.turn("web", person) as record:
                record.set_state(record.state, "fr")
        print(f"turn transaction, state rewritten    {cpu_ms(started, turns)}")

        shared = SharedState(rt.db)
        started = time.process_time()
        for person, _event in events:
            await shared.hits({f"web:{person}": 60, "addr:turns:x": 60})
        print(f"rate counters (one upsert)           {cpu_ms(started, turns)}")

        started = time.process_time()
        for _ in range(turns):
            async with rt.db.session() as session, session.begin():
                pass
        print(f"empty transaction                    {cpu_ms(started, turns)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    url, cluster = "", None
    if args.postgres:
        from tests.postgres import Cluster, create_database

        cluster = Cluster()
        url = asyncio.run(create_database(cluster.start(), "jalerte_turn_cpu"))
    try:
        asyncio.run(main(args.conversations, url))
    finally:
        if cluster is not None:
            cluster.stop()
