"""Realistic people (tests/people/*.yml, written by independent writers) against the bot.

Prints, as issue 9 measures them: how many reach a saved alert with every checked field
right, how many without any question asked twice, and the median number of messages
(overall, and when the first message already names operator and place). `-v` prints
the conversations that went wrong; `--dir tests/people_fresh` plays another table. Uses the model of `JALERTE_MODEL_PATH` or the default
model (`make model`). Run with `make bench`.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.process.config import Config  # noqa: E402
from bot.process.wiring import runtime  # noqa: E402
from tests.people_driver import first_message_complete, load_people, play  # noqa: E402


async def run(verbose: bool) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="jalerte-people-"))
    config = Config.from_env(
        {**os.environ, "JALERTE_DATA_DIR": str(data_dir), "JALERTE_DATABASE_URL": ""}
    )
    args = sys.argv[1:]
    directory = Path(args[args.index("--dir") + 1]) if "--dir" in args else None
    only = [a for a in args if not a.startswith("-") and a != str(directory)]
    people = [
        p
        for p in (load_people(directory) if directory else load_people())
        if not only or any(o in p.name for o in only)
    ]
    outcomes = []
    async with runtime(config) as rt:
        for n, person in enumerate(people):

            async def send(event, user=f"person-{n}"):
                return await rt.service.handle("cli", user, event)

            outcomes.append(await play(send, person))
    if not people:
        print(f"no people in {directory or 'tests/people'}")
        return
    right = [o for o in outcomes if o.right]
    once = [o for o in outcomes if o.saved is not None and not o.repeated]
    complete = [o for o in outcomes if first_message_complete(o.person) and o.saved]
    total = len(outcomes)
    print(f"people: {total} (writers: {', '.join(sorted({p.writer for p in people}))})")
    print(
        f"saved with every checked field right: {len(right)}/{total} "
        f"({100 * len(right) / total:.0f} %)"
    )
    print(
        f"saved with no question asked twice:   {len(once)}/{total} "
        f"({100 * len(once) / total:.0f} %)"
    )
    corrected = [o for o in outcomes if o.person.correction]
    if corrected:
        # Issue 19's target: a correction at the summary applied, every other field right.
        print(
            f"corrections at the summary applied right: "
            f"{sum(o.right for o in corrected)}/{len(corrected)} "
            f"({100 * sum(o.right for o in corrected) / len(corrected):.0f} %)"
        )
    counts = [o.messages for o in outcomes if o.saved]
    if counts:
        print(f"messages to the alert: median {statistics.median(counts)} (all saved)")
    if complete:
        print(
            f"messages when the first message names operator and place: median "
            f"{statistics.median(o.messages for o in complete)} over {len(complete)}; "
            f"without their mid-way question and correction: median "
            f"{statistics.median(o.messages - o.extra for o in complete)}"
        )
    wrong_fields: dict[str, int] = {}
    for o in outcomes:
        for name in o.wrong:
            wrong_fields[name] = wrong_fields.get(name, 0) + 1
    print(f"wrong fields: {wrong_fields or 'none'}")
    repeated: dict[str, int] = {}
    for o in outcomes:
        for name in o.repeated:
            repeated[name] = repeated.get(name, 0) + 1
    print(f"questions asked twice: {repeated or 'none'}")
    for o in outcomes:
        if o.problem:
            print(f"not saved: {o.person.writer}/{o.person.name}: {o.problem}")
    if verbose:
        for o in outcomes:
            if not o.right or o.repeated or o.problem:
                print("\n" + o.story())


if __name__ == "__main__":
    asyncio.run(run("-v" in sys.argv))
