"""The shared deployment as shipped in deploy/: nginx in front of two app hosts, one
PostgreSQL (README, « Deploying on several hosts »).

The fast tests read the shipped files: the nginx site passes `nginx -t` once rendered and
lets through what the app accepts; the systemd units run commands `jalerte` has, agree
on the parse service's socket and keep their hardening; the environment file sets only
variables the server reads. The real test runs the whole thing: PostgreSQL, two
`jalerte run --workers 2` hosts, the shipped nginx site in front (tests/proxy.py) and
Chromium talking to the widget through it; then one host is stopped as a rolling deploy
stops it, and the conversation goes on through the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import proxy
from tests import test_env_example as env_example

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED = "/opt/jalerte"  # where the units expect the project (README)
SOCKET = "/run/jalerte-nlu/nlu.sock"

HARDENING = {
    "User": "jalerte",
    "Group": "jalerte",
    "StateDirectory": "jalerte",
    "EnvironmentFile": "/etc/jalerte/jalerte.env",
    "Restart": "on-failure",
    "KillSignal": "SIGTERM",
    "UMask": "0077",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "SystemCallFilter": "@system-service",
}


# -- fast: the shipped files ----------------------------------------------------------
def site_directive(name: str) -> list[str]:
    """The values of a directive in the shipped nginx site (comments left out)."""
    text = proxy.SITE.read_text(encoding="utf-8")
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [line[len(name) :].strip(" ;") for line in lines if line.startswith(name + " ")]


def nginx_size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def test_the_shipped_nginx_site_passes_nginx_t_once_rendered(tmp_path) -> None:
    server = proxy.configure(tmp_path, ["127.0.0.1:18081", "127.0.0.1:18082"])
    checked = server.check()
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_nginx_lets_through_a_whole_photo_and_an_idle_socket() -> None:
    """A photo the app accepts is not refused by nginx first (its default is 1 MB), and
    nginx does not cut a socket before the app closes it as idle (code 4000, which the
    widget answers by waiting quietly; a cut makes it reconnect at once)."""
    from bot.process.config import Config
    from storage.photos import MAX_BYTES

    [body] = site_directive("client_max_body_size")
    assert nginx_size(body) >= MAX_BYTES + 64 * 1024  # the app's client_max_size
    [read] = site_directive("proxy_read_timeout")
    idle = Config.from_env({}).web_idle_seconds
    assert int(read.rstrip("s")) > idle, (read, idle)


def unit(name: str) -> dict[str, list[str]]:
    """A unit file's settings, each key with every value it is given."""
    settings: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def jalerte_help(*words: str) -> str:
    """`jalerte WORDS --help` of this checkout; fails if that command does not exist."""
    done = subprocess.run(
        [str(proxy.JALERTE), *words, "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"`jalerte {' '.join(words)}` does not exist: {done.stderr}"
    return done.stdout


def assert_command_exists(exec_start: str) -> None:
    """ExecStart= runs the installed `jalerte` with a command and options it has."""
    program, *args = shlex.split(exec_start)
    assert program == f"{INSTALLED}/.venv/bin/jalerte", program
    words = []
    for arg in args:
        if arg.startswith("-"):
            break
        words.append(arg)
    for depth, word in enumerate(words):
        choices = re.search(r"\{([\w,-]+)\}", jalerte_help(*words[:depth]))
        offered = choices.group(1).split(",") if choices else []
        assert word in offered, f"`jalerte {' '.join(words[: depth + 1])}` does not exist"
    text = jalerte_help(*words)
    for option in (arg.split("=")[0] for arg in args if arg.startswith("--")):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), (
            f"`jalerte {' '.join(words)}` has no {option}:\n{text}"
        )


@pytest.mark.parametrize("name", ["jalerte.service", "jalerte-nlu.service"])
def test_each_unit_runs_a_jalerte_command_as_jalerte_hardened(name: str) -> None:
    settings = unit(name)
    for key, value in HARDENING.items():
        assert settings.get(key) == [value], (key, settings.get(key))
    # Its files must outlive the unit; and W^X breaks C extensions (see the unit).
    assert "DynamicUser" not in settings and "MemoryDenyWriteExecute" not in settings
    [stop] = settings["TimeoutStopSec"]
    assert int(stop.rstrip("s")) >= 30  # room for the turns in flight and the sockets
    [exec_start] = settings["ExecStart"]
    assert_command_exists(exec_start)


def test_the_server_reaches_the_parse_service_the_other_unit_runs() -> None:
    server, nlu = unit("jalerte.service"), unit("jalerte-nlu.service")
    assert shlex.split(server["ExecStart"][0])[1:] == ["run", "--workers", "2"]
    assert f"JALERTE_NLU=unix:{SOCKET}" in server["Environment"]
    argv = shlex.split(nlu["ExecStart"][0])
    assert argv[argv.index("--socket") + 1] == SOCKET
    assert nlu["RuntimeDirectory"] == [Path(SOCKET).parent.name]  # /run/<it>, made at start
    for key in ("Wants", "After"):
        assert "jalerte-nlu.service" in " ".join(server[key]).split(), key
    assert "Requires" not in server  # the server outlives a restart of the parse service


def test_systemd_analyze_verify_accepts_both_units(tmp_path) -> None:
    # `make test` installs it (Debian's systemd package) when it is missing.
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: apt-get install systemd (make system)"
    for path in UNITS.glob("*.service"):  # the project where the units expect it
        text = path.read_text(encoding="utf-8").replace(INSTALLED, str(ROOT))
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # verify exits 0 on unknown keys and bad values, which it only prints.
    ours = [line for line in (done.stdout + done.stderr).splitlines() if "jalerte" in line]
    assert done.returncode == 0 and not ours, done.stdout + done.stderr


def environment_file() -> dict[str, str]:
    """deploy/jalerte.env.example's settings, checked for systemd's syntax."""
    values = {}
    for line in (DEPLOY / "jalerte.env.example").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        match = re.fullmatch(r"(JALERTE_[A-Z0-9_]+)=(\S*)", line)
        assert match, f"not a KEY=value line systemd reads as meant: {line!r}"
        values[match.group(1)] = match.group(2)
    return values


def test_the_environment_file_sets_what_a_shared_deployment_needs() -> None:
    values = environment_file()
    known = env_example.listed()  # every variable the server reads (tests/test_env_example.py)
    assert not set(values) - set(known), f"the server reads none of {set(values) - set(known)}"
    assert values["JALERTE_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert values["JALERTE_SECRET_KEY"] == ""  # to fill in, the same on every host
    assert values["JALERTE_HOST"] == "0.0.0.0" and values["JALERTE_TRUSTED_PROXIES"]
    # The units' StateDirectory=jalerte, the one place they may write.
    assert values["JALERTE_DATA_DIR"] == "/var/lib/jalerte"
    for key in ("JALERTE_MODEL_PATH", "JALERTE_BUILD_DIR"):
        assert values[key].startswith("/var/lib/jalerte/"), key
    # The unit sets it; a value here would override the unit's (EnvironmentFile= wins).
    assert "JALERTE_NLU" not in values


# -- real: PostgreSQL, two hosts, nginx, Chromium -------------------------------------
SECRET = "deploy-test-" + "0123456789abcdef" * 3  # the same on both hosts
METRICS = "scrape"
PHONE = {"width": 390, "height": 844}
FIRST = "aucun réseau SFR dans mon village à Lannion, ça a toujours été comme ça"


@dataclass
class Deployment:
    database_url: str
    hosts: list[proxy.Host]
    nginx: proxy.Nginx


@pytest.fixture
async def deployment(postgres_server, trained_model, nlu, tmp_path):
    """Both hosts on one database and one parse service (each host has its own in
    production: jalerte-nlu.service), one new conversation per address and hour."""
    from tests.postgres import create_database

    url = await create_database(postgres_server, "jalerte_deploy")
    common = dict(
        database_url=url,
        secret_key=SECRET,
        model=trained_model,
        nlu=f"unix:{nlu.socket}",
        JALERTE_METRICS_TOKEN=METRICS,
        JALERTE_WEB_SESSIONS_PER_ADDRESS="1",
    )
    # As the README's install steps: the migrations once, then the hosts.
    env = proxy.host_env(data_dir=tmp_path / "upgrade", port=0, **common)
    done = await asyncio.to_thread(
        subprocess.run, [str(proxy.JALERTE), "db", "upgrade"], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    with contextlib.ExitStack() as stack:
        hosts = [
            stack.enter_context(proxy.app_host(tmp_path / f"host{i}", wait=False, **common))
            for i in (1, 2)
        ]
        await asyncio.gather(*(asyncio.to_thread(host.wait_ready) for host in hosts))
        front = stack.enter_context(proxy.nginx([h.address for h in hosts], tmp_path / "nginx"))
        yield Deployment(url, hosts, front)


async def web_turns(host: proxy.Host) -> float:
    """Turns the host's workers answered on the widget (its /metrics, read directly)."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{host.url}/metrics", headers={"Authorization": f"Bearer {METRICS}"}
        ) as response:
            text = await response.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('jalerte_turns_total{channel="web"')
    )


async def host_of(ws, hosts: list[proxy.Host]) -> proxy.Host:
    """The host a widget socket opened through nginx landed on: the one whose count of
    answered turns grows when it sends a message."""
    before = [await web_turns(host) for host in hosts]
    assert (await ws.receive_json(timeout=10))["type"] == "session"
    await ws.send_json({"type": "message", "text": "bonjour"})
    assert (await ws.receive_json(timeout=10))["type"] == "turn"
    grown = [await web_turns(host) - count for host, count in zip(hosts, before)]
    assert sorted(grown) == [0, 1], grown
    return hosts[grown.index(1)]


async def alerts(database_url: str) -> list[dict]:
    import asyncpg

    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT a.id, a.channel, a.operator, a.category, a.technology, a.advice_rating,"
            " (SELECT count(*) FROM alert_photos p WHERE p.alert_id = a.id) AS photos"
            " FROM alerts a"
        )
    finally:
        await conn.close()
    return [dict(row) for row in rows]


async def first_frame(url: str) -> dict:
    """A new widget connection's first frame (no session: a new conversation)."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url, ssl=False) as ws:
            return await ws.receive_json(timeout=10)


async def clear_of_an_hour_change(margin: float = 15.0) -> None:
    """New conversations are counted per clock hour: the three opened here in a few
    seconds must fall in the same one."""
    while time.time() % 3600 > 3600 - margin:
        await asyncio.sleep(0.5)


async def test_a_person_reports_through_nginx_and_goes_on_when_their_host_stops(
    deployment, browser, tmp_path
) -> None:
    import aiohttp
    from playwright.async_api import expect

    from tests.test_browser import bot_says, choose, open_connected, report_with_a_photo

    front, hosts = deployment.nginx, deployment.hosts
    context = await browser.new_context(viewport=PHONE, locale="fr-FR", ignore_https_errors=True)
    try:
        page = await context.new_page()
        sockets = []
        page.on("websocket", lambda socket: sockets.append(socket))

        # The person's browser reaches nginx over IPv6 (::1); nginx reaches the hosts
        # from 127.0.0.1, the one trusted proxy. Their conversation is this hour's one
        # new conversation for their address...
        await clear_of_an_hour_change()
        await open_connected(page, f"{front.https_v6}/")
        # ...and someone else, on another address (127.0.0.1) behind the same nginx, is
        # not refused for it: the hosts count the address X-Forwarded-For names, not
        # nginx's. A second new conversation from the person's address is refused, by
        # whichever host takes it (the counts are in PostgreSQL).
        other = await first_frame(f"{front.https.replace('https', 'wss')}/ws")
        assert other["type"] == "session", other
        again = await first_frame(f"{front.https_v6.replace('https', 'wss')}/ws")
        assert again.get("code") == "too_many_sessions", again

        # The whole report, with a photo uploaded through nginx.
        await report_with_a_photo(page, tmp_path, FIRST)
        reference = (await page.locator(".ref").first.text_content()).strip()
        [alert] = await alerts(deployment.database_url)
        assert alert["id"] == reference and alert["channel"] == "web", alert
        assert (alert["operator"], alert["category"], alert["technology"]) == (
            "sfr",
            "coverage",
            "4g",
        )
        assert alert["photos"] == 1 and alert["advice_rating"] is None

        # What nginx itself answers: plain HTTP is sent to HTTPS, one HSTS header, no
        # version, no metrics on the public name, and a photo at the app's limit passes.
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{front.http}/healthz", allow_redirects=False) as response:
                assert response.status == 301
                assert response.headers["Location"] == "https://127.0.0.1/healthz"
            async with http.get(f"{front.https}/", ssl=False) as response:
                assert response.status == 200 and "widget.js" in await response.text()
                assert response.headers.getall("Strict-Transport-Security") == ["max-age=63072000"]
                assert response.headers["Server"] == "nginx"
            async with http.get(
                f"{front.https}/metrics",
                ssl=False,
                headers={"Authorization": f"Bearer {METRICS}"},
            ) as response:
                assert response.status == 404
            from storage.photos import MAX_BYTES

            form = aiohttp.FormData()
            form.add_field("session", other["session"])
            form.add_field("file", io.BytesIO(os.urandom(MAX_BYTES)), filename="big.jpg")
            async with http.post(f"{front.https}/upload", data=form, ssl=False) as response:
                assert response.status == 200, await response.text()
                assert "upload_id" in await response.json()

        # A rolling deploy stops the host holding the person's socket: SIGTERM.
        turns = [await web_turns(host) for host in hosts]
        assert sorted(t > 0 for t in turns) == [False, True], turns
        serving = hosts[turns.index(max(turns))]
        other_host = hosts[1 - hosts.index(serving)]
        async with aiohttp.ClientSession() as http, contextlib.AsyncExitStack() as held:
            # Someone else's sockets, two of them on the other host: nginx gives a new
            # socket to the host holding fewer, so the stopped host is the one it tries
            # first for the person's reconnection, whether or not it has counted the
            # person's socket there as closed yet.
            url = f"{front.https.replace('https', 'wss')}/ws?session={other['session']}"
            on_other = opened = 0
            for opened in range(1, 7):
                ws = await held.enter_async_context(http.ws_connect(url, ssl=False))
                if await host_of(ws, hosts) is other_host:
                    on_other += 1
                else:
                    await ws.close()
                if on_other == 2:
                    break
            assert on_other == 2
            answered_there = await web_turns(other_host)
            code = await asyncio.to_thread(serving.stop)
            assert code == 0, serving.log_text()
            # The widget reconnects by itself, through nginx, to the other host: the
            # same conversation comes back (same secret, same database) and goes on.
            for _ in range(150):
                if len(sockets) >= 2:
                    break
                await asyncio.sleep(0.1)
            assert len(sockets) == 2 and sockets[0].is_closed(), front.logs()
            panel = page.get_by_test_id("jalerte-panel")
            await expect(panel).to_have_attribute("data-connection", "ready", timeout=15_000)
            log = page.get_by_test_id("jalerte-log")
            await expect(log).to_contain_text(FIRST)
            await expect(log).to_contain_text(reference)
            await choose(page, "Oui")  # « Ces conseils vous ont-ils été utiles ? »
            await bot_says(page, "Merci pour votre avis")
        [alert] = await alerts(deployment.database_url)
        assert alert["advice_rating"] == "useful", alert
        assert await web_turns(other_host) == answered_there + 1  # by the other host
    finally:
        await context.close()

    # nginx logged every socket once closed, and the hosts that served it: the person's
    # first socket on the stopped host; their reconnection refused by it and passed on
    # to the other host within the same request (they never saw an error). Never the
    # session id a reconnection's URL carries.
    expected = 4 + opened  # the person's two, someone else's, the one refused, the held
    lines = []
    for _ in range(50):  # the browser's last socket: logged when its context closed
        lines = [line for line in front.access_log.read_text().splitlines() if "/ws " in line]
        if len(lines) >= expected:
            break
        await asyncio.sleep(0.1)
    access = "\n".join(lines)
    assert len(lines) == expected, access
    assert all('"GET /ws HTTP/1.1" 101 ' in line for line in lines), access
    assert f"upstream={serving.address} 101 " in access, access
    assert f"upstream={serving.address}, {other_host.address} 502, 101 " in access, access
    assert "session" not in access, access
    # Nor in the error log, where nginx writes the request line of the failover: the
    # widget sends its session in its first frame (/ws?resume=1), never in the URL.
    assert "resume=1" in front.error_log.read_text()  # the failover was logged…
    assert reference and "session=" not in front.error_log.read_text().replace(
        f"session={other['session']}", ""
    )  # …without the person's session (the raw client above puts its own in its URL)
    # The photos went through as they were sent (GPS position and all, until the app
    # re-encoded them) without touching the front host's disk.
    assert "buffered to a temporary file" not in front.error_log.read_text()
