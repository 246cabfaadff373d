"""Rolling restarts under load: nothing acknowledged is lost or duplicated.

The deployment of README « Deploying on several hosts », on one machine: one PostgreSQL
(tests/postgres.py), two app hosts (`jalerte run --workers 2`, data directories of their
own, the same JALERTE_SECRET_KEY) and the shipped nginx site in front (tests/proxy.py,
HTTPS with a self-signed certificate). Both hosts share one parse service started here
(JALERTE_NLU=unix:…) instead of one each: the machine has two cores.

N scripted people talk to the widget's WebSocket through nginx, each doing reports one
after another, from a first message to a saved alert (bench/dialogue_turns.py, the
answers of bench/load.py), each report a conversation of its own. A person whose socket
closes (1012 from a stopping host, a reset from a killed one, no answer within a minute)
reconnects with the same session and does not resend blindly: the session frame's
history says whether the frame left unanswered was handled (one more user item than the
person knew of; turns are committed whole, answer after commit) — then the person reads
the bot's replies there, the alert's reference included — or not — then the person sends
it again. « Envoyer » is also pressed twice on purpose: in one report out of three again
once the alert is acknowledged (a blind resend), in another at the same time on a second
socket of the same conversation (a double click across a reconnection, maybe on the
other host): one alert, the other answer « déjà enregistrée », never a second alert.

Timeline (`--seconds-per-phase` P): warm-up P s; « rolling A »: SIGTERM to host A (as
systemd stops it), its exit awaited (the drain), A started again on the same port and
awaited healthy, then P s; « rolling B »: the same for B; « kill -9 A »: SIGKILL to A's
whole process group, A started again, healthy, P s; « finish »: each person completes
the report in progress, then stops.

Prints turns/s, turn latency, answers that were errors (by code), alerts acknowledged vs
in the database (lost: acknowledged, absent; duplicated: more alerts in a conversation's
database rows than acknowledged to its person), people who finished their last report,
reconnections; the same per phase; each host's SIGTERM exit code and drain time. Exit
code 0 when nothing was lost or duplicated and every person finished.

    .venv/bin/python bench/rolling.py [--people 24] [--seconds-per-phase 10] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dialogue_turns import FIRST_MESSAGES  # noqa: E402
from load import next_frame  # noqa: E402
from dialogues.messages import text as msg  # noqa: E402
from tests import proxy  # noqa: E402

MODEL = Path(os.environ.get("JALERTE_MODEL_PATH") or ROOT / "models" / "nlu.tar.gz")
SECRET = "rolling-" + "0123456789abcdef" * 3  # the same on both hosts
# Every simulated person comes from 127.0.0.1 (nginx passes it on in X-Forwarded-For).
LIMITS = {
    "JALERTE_WEB_MESSAGES_PER_MINUTE": "100000",
    "JALERTE_WEB_MAX_CONNECTIONS": "1000",
    **{
        f"JALERTE_WEB_{what}_PER_ADDRESS": "0"
        for what in ("CONNECTIONS", "SESSIONS", "TURNS", "UPLOADS", "NOTICES")
    },
}
ANSWER_WITHIN = 60.0  # seconds; beyond, the person gives up on the socket and reconnects
RETRY_AFTER = 0.5  # after « réessayez »
RECONNECT_FIRST, RECONNECT_MAX = 0.2, 2.0  # the widget's back-off, shortened
MAX_TURNS = 25  # answered turns in one report before calling it stuck
# « Envoyer » pressed twice: in one report out of three once the alert is acknowledged
# ("again", on the same socket), in another at once on two sockets ("double").
PROBES = (None, "again", "double")
REFERENCE = re.compile(r"JA-[A-Z0-9]{8}")
# The service's answer to a turn that failed (database or parse service): a turn whose
# one reply says « réessayez dans un instant » (dialogues/service.py); nothing was kept.
TECHNICAL = msg("technical_error", "fr")
# What the bot's errors may be here: the documented « réessayez » (an error frame
# "server_error", or the service's polite turn); nothing else is expected.
DOCUMENTED = {"server_error", "technical_error"}


# -- records ----------------------------------------------------------------------------
@dataclass
class Report:
    """One report: one conversation (its own session), first message to saved alert."""

    first: str
    session: str = ""
    alert: str | None = None
    acked_at: float | None = None  # monotonic
    acked_by: str | None = None  # "turn": the answer; "history": the session frame's
    turns: int = 0  # turns answered
    reconnections: int = 0
    stuck: bool = False
    probe_kind: str | None = None  # « Envoyer » pressed twice: see PROBES
    probe: str | None = None  # what the answers to it were
    probe_ok: bool | None = None  # never two alerts

    @property
    def done(self) -> bool:
        return self.alert is not None


@dataclass
class Person:
    n: int
    reports: list[Report] = field(default_factory=list)
    stopped: bool = False  # left after the report in progress, as asked

    @property
    def finished(self) -> bool:
        return self.stopped and bool(self.reports) and self.reports[-1].done


@dataclass
class HostEvent:
    phase: str
    host: str
    action: str  # "sigterm", "kill", "start"
    seconds: float  # sigterm: until the host exited (the drain); start: until healthy
    exit_code: int | None = None
    leftovers: bool = False  # processes of the host's group alive after its exit


@dataclass
class Event:
    at: float  # monotonic
    person: int
    kind: str
    detail: str = ""
    ms: float | None = None  # a turn's latency


@dataclass
class Phase:
    name: str
    at: float  # monotonic
    wall: float  # time.time(), to place the database's created_at


class Run:
    """Everything that happened, timed, for the totals and the per-phase figures."""

    def __init__(self, out: Callable[[str], None] = print) -> None:
        self.events: list[Event] = []
        self.phases: list[Phase] = []
        self.hosts: list[HostEvent] = []
        self.people: list[Person] = []
        self.stopping = asyncio.Event()
        self.out = out
        self.started = time.monotonic()
        self.ended = self.started

    def phase(self, name: str) -> None:
        self.phases.append(Phase(name, time.monotonic(), time.time()))
        self.say(f"phase « {name} »")

    def say(self, text: str) -> None:
        self.out(f"t={time.monotonic() - self.started:5.1f}s  {text}")

    def log(self, person: Person, kind: str, detail: str = "", ms: float | None = None) -> None:
        self.events.append(Event(time.monotonic(), person.n, kind, detail, ms))

    def phase_at(self, at: float, wall: bool = False) -> str:
        name = self.phases[0].name if self.phases else ""
        for phase in self.phases:
            if (phase.wall if wall else phase.at) <= at:
                name = phase.name
        return name


# -- a person ---------------------------------------------------------------------------
async def receive(run: Run, person: Person, ws, within: float) -> dict | None:
    """The next frame from the server; None (and why, logged) when the socket ended."""
    try:
        message = await ws.receive(timeout=within)
    except asyncio.TimeoutError:
        run.log(person, "timeout")
        return None
    except (aiohttp.ClientError, ConnectionError) as exc:
        run.log(person, "closed", type(exc).__name__)
        return None
    if message.type == aiohttp.WSMsgType.TEXT:
        return json.loads(message.data)
    run.log(person, "closed", str(ws.close_code))
    return None


def user_items(history: list[dict]) -> int:
    return sum(1 for item in history if item.get("from") == "user")


def turn_from_history(history: list[dict]) -> dict:
    """The last turn as the session frame shows it: the bot's replies after the last
    user item. The history has no `expecting`: taken from the buttons' values (each is
    « slot:value »), which is all next_frame needs."""
    replies: list[dict] = []
    for item in reversed(history):
        if item.get("from") == "user":
            break
        replies.insert(0, item.get("reply") or {})
    values = [c.get("value", "") for r in replies for c in r.get("choices") or []]
    if "confirm:send" in values:
        expecting = "confirmation"
    else:
        expecting = values[-1].split(":", 1)[0] if values else None
    found = REFERENCE.search(" ".join(r.get("text") or "" for r in replies))
    return {
        "type": "turn",
        "replies": replies,
        "expecting": expecting,
        "alert_id": found.group(0) if found else None,
    }


async def connect(
    run: Run, person: Person, http: aiohttp.ClientSession, url: str
) -> tuple[Any, dict] | None:
    """A socket and its session frame, or None (logged) if this attempt failed."""
    try:
        ws = await http.ws_connect(
            url, ssl=False, heartbeat=None, timeout=aiohttp.ClientWSTimeout(ws_close=5)
        )
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        status = getattr(exc, "status", None)
        run.log(person, "connect_failed", f"{type(exc).__name__} {status or ''}".strip())
        return None
    hello = await receive(run, person, ws, 30)
    if hello is None or hello.get("type") != "session":
        run.log(person, "connect_failed", (hello or {}).get("code") or "closed before session")
        await ws.close()
        return None
    return ws, hello


SEND = {"type": "choice", "value": "confirm:send"}


def already_saved(answer: dict) -> str | None:
    """The reference an « already saved » answer names, if it is one."""
    texts = " ".join(rep.get("text") or "" for rep in answer.get("replies") or [])
    found = REFERENCE.search(texts)
    if found and any(
        msg("already_saved", lang, ref=found.group(0)) in texts for lang in ("fr", "en")
    ):
        return found.group(0)
    return None


def technical(answer: dict) -> bool:
    return any((rep.get("text") or "").startswith(TECHNICAL) for rep in answer.get("replies") or [])


def label(answer: dict | None) -> str:
    """What an answer to « Envoyer » was, in a word."""
    if answer is None:
        return "cut"
    if answer.get("type") != "turn":
        return f"error {answer.get('code')}"
    if technical(answer):
        return "technical_error"
    if answer.get("alert_id"):
        return "saved"
    if already_saved(answer):
        return "already_saved"
    texts = " ".join(rep.get("text") or "" for rep in answer.get("replies") or [])
    return f"other: {texts[:80]}"


async def exchange(run: Run, person: Person, ws, frame: dict) -> dict | None:
    """The frame sent, its answer; None (logged) when the socket ended first."""
    try:
        await ws.send_json(frame)
    except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
        run.log(person, "closed", f"send: {type(exc).__name__}")
        return None
    return await receive(run, person, ws, ANSWER_WITHIN)


async def report(
    run: Run, person: Person, r: Report, http: aiohttp.ClientSession, base: str
) -> None:
    """One report to its saved alert, across as many sockets as it takes."""
    frame: dict = {"type": "message", "text": r.first}
    pending: dict | None = None  # sent, not answered
    known = 0  # user items the server holds, as far as answers told the person
    doubtful = 0  # frames sent on a second socket, cut before their answer
    delay = RECONNECT_FIRST

    def acknowledged(alert: str, by: str) -> None:
        r.alert, r.acked_at, r.acked_by = alert, time.monotonic(), by
        run.log(person, "ack", alert)

    while True:
        url = f"{base}/ws?lang=fr" + (f"&session={r.session}" if r.session else "")
        opened = await connect(run, person, http, url)
        if opened is None:
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)
            continue
        delay = RECONNECT_FIRST
        ws, hello = opened
        try:
            if r.session:
                r.reconnections += 1
                run.log(person, "reconnect")
            r.session = hello["session"]
            history = hello.get("history") or []
            users = user_items(history)
            # Turns the server may have handled without the person seeing the answer:
            # the one pending, and a second socket's cut short (send_twice).
            in_doubt = (pending is not None) + doubtful
            if not 0 <= users - known <= in_doubt:
                run.log(person, "anomaly", f"history: {users} user items, knew {known}+{in_doubt}")
            if users == known and pending is not None:  # never reached the server
                run.log(person, "resent")
                frame = pending
            elif users != known:  # handled, the answer lost with the socket: read there
                turn = turn_from_history(history)
                if pending is not None:
                    run.log(person, "found_in_history", pending.get("value") or "message")
                if turn["alert_id"]:
                    acknowledged(turn["alert_id"], "history")
                    return
                frame = next_frame(turn)
            known, pending, doubtful = users, None, 0
            while True:
                if r.turns >= MAX_TURNS:
                    r.stuck = True
                    run.log(person, "stuck", r.first)
                    return
                pending, started = frame, time.perf_counter()
                if r.probe_kind == "double" and frame == SEND and r.probe is None:
                    again = f"{base}/ws?lang=fr&session={r.session}"
                    answer, extra, cut = await send_twice(run, person, r, ws, http, again)
                    known, doubtful = known + extra, doubtful + cut
                else:
                    answer = await exchange(run, person, ws, frame)
                if answer is None:
                    break  # reconnect; `pending` is settled from the history
                ms = (time.perf_counter() - started) * 1000
                if answer.get("type") == "error":
                    pending = None
                    run.log(person, "error", answer.get("code") or "?", ms)
                    await asyncio.sleep(RETRY_AFTER)
                    continue  # the same frame again: nothing was kept
                r.turns += 1
                if technical(answer):
                    pending = None
                    run.log(person, "error", "technical_error", ms)
                    await asyncio.sleep(RETRY_AFTER)
                    continue
                run.log(person, "turn", "", ms)
                known, pending = known + 1, None
                if answer.get("alert_id"):
                    acknowledged(answer["alert_id"], "turn")
                    if r.probe_kind == "again":
                        await press_send_again(run, person, r, ws)
                    return
                if ref := already_saved(answer):  # told so, with the reference
                    acknowledged(ref, "already_saved")
                    return
                frame = next_frame(answer)
        finally:
            await ws.close()


async def press_send_again(run: Run, person: Person, r: Report, ws) -> None:
    """« Envoyer » pressed again once the alert is acknowledged: answered « already
    saved » with the same reference, never a new alert."""
    answer = await exchange(run, person, ws, SEND)
    r.probe = label(answer)
    if r.probe == "already_saved" and already_saved(answer) != r.alert:
        r.probe = f"already_saved, another reference: {already_saved(answer)}"
    r.probe_ok = r.probe in ("already_saved", "cut")
    run.log(person, "probe", r.probe)


async def send_twice(
    run: Run, person: Person, r: Report, ws, http: aiohttp.ClientSession, url: str
) -> tuple[dict | None, int, int]:
    """« Envoyer » sent at the same time on a second socket of the same conversation
    (through nginx: maybe the other host), as a double click across a reconnection
    would: one answer saves the alert, the other says it is already saved. Returns the
    answer the person goes on with (the one with the alert, if any), how many other
    turns the server answered (each a user item in the history) and how many others
    were cut short (handled or not: the history will say)."""
    opened = await connect(run, person, http, url)
    if opened is None:
        r.probe = "double: no second socket"
        return await exchange(run, person, ws, SEND), 0, 0
    second_ws, _hello = opened
    try:
        answers = await asyncio.gather(
            exchange(run, person, ws, SEND), exchange(run, person, second_ws, SEND)
        )
    finally:
        await second_ws.close()
    labels = sorted(label(a) for a in answers)
    r.probe = "double: " + " + ".join(labels)
    r.probe_ok = labels.count("saved") <= 1 and not any(x.startswith("other") for x in labels)
    run.log(person, "probe", r.probe)
    turns = [a for a in answers if a is not None and a.get("type") == "turn" and not technical(a)]
    chosen = next((a for a in turns if a.get("alert_id")), answers[0])
    extra = len(turns) - (1 if any(a is chosen for a in turns) else 0)
    for _ in range(extra):
        r.turns += 1
        run.log(person, "turn")
    cut = sum(1 for a in answers if a is None and a is not chosen)
    return chosen, extra, cut


async def person_loop(run: Run, person: Person, base: str) -> None:
    async with aiohttp.ClientSession() as http:
        k = 0
        while not run.stopping.is_set():
            r = Report(FIRST_MESSAGES[(person.n + k) % len(FIRST_MESSAGES)])
            r.probe_kind = PROBES[k % len(PROBES)]
            person.reports.append(r)
            k += 1
            await report(run, person, r, http, base)
        person.stopped = True


# -- the hosts --------------------------------------------------------------------------
class Hosts:
    """Two app hosts on fixed ports (nginx names them), started, stopped and started
    again as systemd would: tests/proxy.py's Host, launched here on the same port each
    time (proxy.app_host picks a new free port at every start)."""

    def __init__(self, workdir: Path, database_url: str, model: Path, nlu_socket: Path):
        self.workdir = workdir
        self.env = {
            name: proxy.host_env(
                data_dir=workdir / f"host-{name}",
                port=proxy.free_port(),
                database_url=database_url,
                secret_key=SECRET,
                model=model,
                nlu=f"unix:{nlu_socket}",
                **LIMITS,
            )
            for name in ("A", "B")
        }
        self.running: dict[str, proxy.Host] = {}

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.env[name]['JALERTE_PORT']}"

    def upgrade(self) -> None:
        """The migrations, once, as the README's install steps do."""
        done = subprocess.run(
            [str(proxy.JALERTE), "db", "upgrade"], env=self.env["A"], capture_output=True
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]

    def launch(self, name: str) -> proxy.Host:
        env = self.env[name]
        data_dir = Path(env["JALERTE_DATA_DIR"])
        data_dir.mkdir(parents=True, exist_ok=True)
        log = data_dir.parent / f"{data_dir.name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(proxy.JALERTE), "run", "--workers", "2"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as a unit's cgroup
            )
        host = proxy.Host(int(env["JALERTE_PORT"]), data_dir, log, process, env)
        self.running[name] = host
        return host

    def start(self, name: str, timeout: float = 120) -> float:
        """Started and healthy: the seconds it took."""
        began = time.monotonic()
        self.launch(name).wait_ready(timeout)
        return time.monotonic() - began

    def sigterm(self, name: str, timeout: float = 60) -> tuple[int | None, float, bool]:
        """SIGTERM to the host's main process (systemd's KillMode=mixed): its exit code
        (None if it had to be killed), the seconds until it exited, and whether any
        process of its group outlived it (then killed)."""
        host = self.running[name]
        began = time.monotonic()
        host.process.send_signal(signal.SIGTERM)
        try:
            code: int | None = host.process.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        seconds = time.monotonic() - began
        return code, seconds, self._reap(host)

    def kill(self, name: str) -> float:
        host = self.running[name]
        began = time.monotonic()
        host.kill()  # SIGKILL to the whole process group
        return time.monotonic() - began

    @staticmethod
    def _reap(host: proxy.Host) -> bool:
        """True if processes of the host's group were still alive (now killed)."""
        try:
            os.killpg(host.process.pid, 0)
        except ProcessLookupError:
            left = False
        else:
            left = True
        host.kill()
        return left

    def close(self) -> None:
        for host in self.running.values():
            if host.process.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    host.process.send_signal(signal.SIGTERM)
                    host.process.wait(30)
            host.kill()  # whatever is left of its group


async def timeline(run: Run, hosts: Hosts, pause: float) -> None:
    async def rolling_stop(name: str) -> None:
        run.phase(f"rolling {name}")
        code, seconds, left = await asyncio.to_thread(hosts.sigterm, name)
        run.hosts.append(HostEvent(run.phases[-1].name, name, "sigterm", seconds, code, left))
        run.say(f"host {name} exited {code} after SIGTERM, drain {seconds:.2f} s")
        started = await asyncio.to_thread(hosts.start, name)
        run.hosts.append(HostEvent(run.phases[-1].name, name, "start", started))
        run.say(f"host {name} started again, healthy after {started:.1f} s")
        await asyncio.sleep(pause)

    run.phase("warm-up")
    await asyncio.sleep(pause)
    await rolling_stop("A")
    await rolling_stop("B")
    run.phase("kill -9 A")
    seconds = await asyncio.to_thread(hosts.kill, "A")
    run.hosts.append(HostEvent(run.phases[-1].name, "A", "kill", seconds))
    run.say("host A killed (SIGKILL to its process group)")
    started = await asyncio.to_thread(hosts.start, "A")
    run.hosts.append(HostEvent(run.phases[-1].name, "A", "start", started))
    run.say(f"host A started again, healthy after {started:.1f} s")
    await asyncio.sleep(pause)
    run.phase("finish")
    run.stopping.set()


# -- the run ----------------------------------------------------------------------------
@dataclass
class StoredAlert:
    id: str
    user_key: str
    created: float  # time.time()


async def stored_alerts(database_url: str) -> list[StoredAlert]:
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await conn.fetch(
            "SELECT a.id, c.user_key, a.created_at FROM alerts a"
            " JOIN conversations c ON c.id = a.conversation_id WHERE c.channel = 'web'"
        )
    finally:
        await conn.close()
    return [StoredAlert(r["id"], r["user_key"], r["created_at"].timestamp()) for r in rows]


def user_key(session: str) -> str:
    """The conversation's key for a widget session, as ConversationService.user_key."""
    return hmac.new(SECRET.encode(), f"web:{session}".encode(), hashlib.sha256).hexdigest()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


@dataclass
class Result:
    run: Run
    stored: list[StoredAlert]
    seconds: float
    workdir: Path

    # -- what was acknowledged, what the database holds
    def acked(self) -> list[tuple[Person, Report]]:
        return [(p, r) for p in self.run.people for r in p.reports if r.alert]

    def lost(self) -> list[Report]:
        ids = {a.id for a in self.stored}
        return [r for _p, r in self.acked() if r.alert not in ids]

    def _told(self) -> dict[str, str | None]:
        """Each conversation's key: the alert its person was told of (None: none yet)."""
        return {user_key(r.session): r.alert for p in self.run.people for r in p.reports}

    def duplicated(self) -> list[StoredAlert]:
        """Alerts in the database beyond what each conversation's person was told: in a
        conversation acknowledged an alert, any other; or in no conversation of ours."""
        told = self._told()
        return [a for a in self.stored if told.get(a.user_key, "-") not in (a.id, None)]

    def unacknowledged(self) -> list[StoredAlert]:
        """Saved in a report its person never finished (cut short by the deadline, its
        « Envoyer » in flight): not a duplicate; counted apart."""
        told = self._told()
        return [a for a in self.stored if a.user_key in told and told[a.user_key] is None]

    def finished(self) -> int:
        return sum(p.finished for p in self.run.people)

    def errors(self, events: list[Event]) -> Counter:
        return Counter(e.detail for e in events if e.kind == "error")

    def undocumented_errors(self) -> Counter:
        return Counter(
            {k: v for k, v in self.errors(self.run.events).items() if k not in DOCUMENTED}
        )

    def sigterm_codes(self) -> dict[str, int | None]:
        return {h.host: h.exit_code for h in self.run.hosts if h.action == "sigterm"}

    def anomalies(self) -> list[Event]:
        return [e for e in self.run.events if e.kind in ("anomaly", "stuck")]

    def probes(self) -> Counter:
        return Counter(r.probe for _p, r in self.acked() if r.probe is not None)

    def probes_failed(self) -> list[Report]:
        """« Envoyer » pressed twice and answered by two alerts (or anything unexpected)."""
        return [r for p in self.run.people for r in p.reports if r.probe_ok is False]

    def ok(self) -> bool:
        return not self.lost() and not self.duplicated() and self.finished() == len(self.run.people)

    # -- printing
    def _figures(self, events: list[Event], seconds: float | None) -> str:
        kinds = Counter(e.kind for e in events)
        answered = [e.ms for e in events if e.ms is not None]
        errors = self.errors(events)
        rate = f"{kinds['turn'] / seconds:.1f} turns/s, " if seconds else ""
        latency = (
            f"p50 {statistics.median(answered):.0f} / p95 {percentile(answered, 0.95):.0f} / "
            f"p99 {percentile(answered, 0.99):.0f} ms"
            if answered
            else "no answers"
        )
        closes = Counter(e.detail for e in events if e.kind == "closed")
        fails = Counter(e.detail for e in events if e.kind == "connect_failed")
        return (
            f"{kinds['turn']} turns, {rate}{latency}; errors "
            f"{dict(errors) or 0}; acknowledged {kinds['ack']}; reconnections "
            f"{kinds['reconnect']} (sockets ended: {dict(closes) or 0}; failed attempts: "
            f"{dict(fails) or 0}); unanswered frames found handled in the history "
            f"{kinds['found_in_history']}, sent again {kinds['resent']}"
        )

    def lines(self) -> list[str]:
        run = self.run
        people = run.people
        acked = self.acked()
        lost, duplicated = self.lost(), self.duplicated()
        by = Counter(r.acked_by for _p, r in acked)
        out = [
            f"{len(people)} people, {self.seconds:.0f} s through nginx to 2 hosts "
            f"(2 workers each, one shared parse service), one PostgreSQL",
            "all: " + self._figures(run.events, self.seconds),
            f"alerts acknowledged: {len(acked)} (by the turn's answer {by['turn']}, learnt from "
            f"the history after a cut {by['history']}, by an « already saved » answer "
            f"{by['already_saved']}); in the database: {len(self.stored)}; lost: {len(lost)} "
            f"{[r.alert for r in lost]}; duplicated: {len(duplicated)} "
            f"{[a.id for a in duplicated]}; saved in reports left unfinished: "
            f"{len(self.unacknowledged())}",
            f"people who finished their last report: {self.finished()}/{len(people)}; reports "
            f"{sum(len(p.reports) for p in people)}, stuck {sum(r.stuck for p in people for r in p.reports)}",
            f"« Envoyer » pressed twice (again once acknowledged; at once on two sockets): "
            f"{dict(self.probes()) or 'never'}; answered by two alerts or unexpectedly: "
            f"{len(self.probes_failed())}",
            f"anomalies: {[(e.person, e.kind, e.detail) for e in self.anomalies()] or 'none'}",
        ]
        for h in run.hosts:
            if h.action == "sigterm":
                out.append(
                    f"host {h.host} SIGTERM ({h.phase}): exit code {h.exit_code}, drain "
                    f"{h.seconds:.2f} s{', processes left behind' if h.leftovers else ''}"
                )
            else:
                out.append(f"host {h.host} {h.action} ({h.phase}): {h.seconds:.1f} s")
        bounds = run.phases + [Phase("end", run.ended, time.time())]
        for phase, after in zip(run.phases, bounds[1:]):
            events = [e for e in run.events if phase.at <= e.at < after.at]
            phase_lost = [r for r in lost if r.acked_at and run.phase_at(r.acked_at) == phase.name]
            phase_dups = [a for a in duplicated if run.phase_at(a.created, wall=True) == phase.name]
            out.append(
                f"« {phase.name} » ({after.at - phase.at:.1f} s): "
                + self._figures(events, after.at - phase.at)
                + f"; lost {len(phase_lost)}, duplicated {len(phase_dups)}"
            )
        return out

    def records(self) -> dict:
        return {
            "people": [asdict(p) for p in self.run.people],
            "hosts": [asdict(h) for h in self.run.hosts],
            "phases": [asdict(p) for p in self.run.phases],
            "events": [asdict(e) for e in self.run.events],
            "stored": [asdict(a) for a in self.stored],
        }


async def rolling(
    database_url: str,
    model: Path,
    nlu_socket: Path,
    workdir: Path,
    *,
    people: int = 24,
    seconds_per_phase: float = 10.0,
    finish_within: float = 90.0,
    out: Callable[[str], None] = print,
) -> Result:
    """The whole scenario on a fresh database; every process it starts is stopped at
    the end, whatever happened."""
    run = Run(out)
    hosts = Hosts(workdir, database_url, model, nlu_socket)
    await asyncio.to_thread(hosts.upgrade)
    with contextlib.ExitStack() as stack:
        stack.callback(hosts.close)
        for name in ("A", "B"):
            hosts.launch(name)
        await asyncio.gather(
            *(asyncio.to_thread(host.wait_ready, 120) for host in hosts.running.values())
        )
        front = stack.enter_context(
            proxy.nginx([hosts.address("A"), hosts.address("B")], workdir / "nginx")
        )
        base = front.https.replace("https", "wss")
        run.started = time.monotonic()
        run.people = [Person(n) for n in range(people)]
        talking = [asyncio.create_task(person_loop(run, p, base)) for p in run.people]
        try:
            await timeline(run, hosts, seconds_per_phase)
            done, left = await asyncio.wait(talking, timeout=finish_within)
            for task in left:
                task.cancel()
            for task in done:
                if task.exception() is not None:
                    raise task.exception()
        finally:
            for task in talking:
                task.cancel()
            await asyncio.gather(*talking, return_exceptions=True)
        run.ended = time.monotonic()
    stored = await stored_alerts(database_url)
    return Result(run, stored, run.ended - run.started, workdir)


@contextlib.asynccontextmanager
async def backend(workdir: Path, name: str):
    """One throwaway PostgreSQL with a database `name`, and one parse service for every
    host (the machine has two cores): (cluster, database URL, supervisor), stopped at
    the end. bench/hosts.py uses it too."""
    from bot.process.config import Config
    from bot.process.nlu_process import NluSupervisor
    from tests.postgres import Cluster, create_database

    cluster = Cluster()
    supervisor = None
    try:
        server = await asyncio.to_thread(cluster.start)
        database = await create_database(server, name)
        nlu_dir = workdir / "nlu"
        nlu_dir.mkdir(parents=True)
        supervisor = NluSupervisor(
            MODEL, nlu_dir, python=str(Config.from_env(os.environ).nlu_python)
        )
        assert await supervisor.start(), supervisor.log_path.read_text(errors="replace")[-3000:]
        yield cluster, database, supervisor
    finally:
        if supervisor is not None:
            await supervisor.stop()
        await asyncio.to_thread(cluster.stop)


async def _bench(args: argparse.Namespace, workdir: Path) -> Result:
    async with backend(workdir, "jalerte_rolling") as (_, database, supervisor):
        return await rolling(
            database,
            MODEL,
            supervisor.socket,
            workdir,
            people=args.people,
            seconds_per_phase=args.seconds_per_phase,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=24)
    parser.add_argument("--seconds-per-phase", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="jalerte-rolling-"))
    try:
        result = asyncio.run(_bench(args, workdir))
        print("\n".join(result.lines()))
        if args.keep:
            (workdir / "records.json").write_text(json.dumps(result.records(), indent=1))
        return 0 if result.ok() else 1
    finally:
        if args.keep:
            print(f"kept: {workdir} (hosts' logs, nginx's, records.json)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
