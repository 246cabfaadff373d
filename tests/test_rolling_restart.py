"""Rolling restarts under load (bench/rolling.py at test scale): nginx in front of two
`jalerte run --workers 2` hosts on one PostgreSQL, scripted people reporting through it
over the widget's WebSocket while host A is stopped (SIGTERM) and started again, then
host B, then host A killed (-9) and started again.

No alert acknowledged to a person is missing from the database, none is there twice
(a conversation holds exactly the alert its person was told of, « Envoyer » pressed
again included), every person finishes the report in progress, the only errors anyone
sees are the documented « réessayez », and both hosts exit 0 on SIGTERM, leaving no
process behind. The scenario's code is the bench's: this test only runs it smaller.
"""

from __future__ import annotations

import importlib.util
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 6


def _bench():
    """bench/rolling.py as a module (bench/ is no package; its sys.path additions,
    needed only while it imports its neighbours, are undone)."""
    path, saved = ROOT / "bench" / "rolling.py", list(sys.path)
    spec = importlib.util.spec_from_file_location("bench_rolling", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


rolling = _bench()


async def test_nothing_acknowledged_is_lost_or_duplicated_across_rolling_restarts(
    postgres_server, trained_model, nlu, tmp_path
) -> None:
    from tests.postgres import create_database

    url = await create_database(postgres_server, f"jalerte_rolling_{secrets.token_hex(4)}")
    timeline: list[str] = []
    began = time.monotonic()
    result = await rolling.rolling(
        url,
        trained_model,
        nlu.socket,
        tmp_path,
        people=PEOPLE,
        seconds_per_phase=4,
        finish_within=45,
        out=timeline.append,
    )
    report = "\n".join([*timeline, *result.lines(), f"wall time {time.monotonic() - began:.0f} s"])
    print(report)  # pytest -s: the figures

    acked = result.acked()
    assert len(acked) >= PEOPLE, report
    assert not result.lost(), report
    assert not result.duplicated(), report
    assert not result.unacknowledged(), report
    assert len(result.stored) == len(acked), report
    assert result.finished() == PEOPLE, report
    assert not result.undocumented_errors(), report
    assert not result.anomalies(), report  # every acknowledged turn is in the history
    # « Envoyer » pressed twice, one after the other or at once on two sockets: one
    # alert, the other answer « déjà enregistrée » (or a socket cut by a restart).
    assert not result.probes_failed(), report
    probes = result.probes()
    assert probes["already_saved"] > 0, report
    assert probes["double: already_saved + saved"] > 0, report
    # The hosts did stop under the people's feet, and came back.
    assert result.sigterm_codes() == {"A": 0, "B": 0}, report
    assert not any(h.leftovers for h in result.run.hosts), report
    assert sum(r.reconnections for _p, r in acked) > 0, report
