"""The staff console: access control, CSRF, escaping, statistics, exports."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
from cryptography.fernet import Fernet

from bot.console.auth import COOKIE, fernet_key
from bot.console.charts import format_number, significant
from bot.channels.web.app import create_app
from bot.process.wiring import load_secret
from dialogues.events import ChoiceEvent
from dialogues.service import IncomingPhoto
from storage.models import Alert
from storage.counts import rebuild
from storage.staff import StaffRepository
from tests.conftest import STAFF_PASSWORD, web_config
from tests.images import jpeg_with_gps

PASSWORD = STAFF_PASSWORD
XSS = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    "[lien](javascript:alert(1))",
    "{{ 7*7 }} {% if true %}jinja{% endif %}",
]


async def csrf_of(client, path: str) -> str:
    page = await (await client.get(path)).text()
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


async def log_in(client, name: str = "agent", password: str = PASSWORD, address: str | None = None):
    """A login form posted; `address`: the client as a trusted proxy names it."""
    token = await csrf_of(client, "/staff/login")
    headers = {"X-Forwarded-For": address} if address else {}
    return await client.post(
        "/staff/login",
        data={"csrf_token": token, "name": name, "password": password, "next": "/staff/alerts"},
        headers=headers,
        allow_redirects=False,
    )


async def make_alert(bot, user: str, first: str, *, photo: bool = False) -> dict:
    await bot.send(first, user=user)
    state = await bot.service.state_of("cli", user)
    for _ in range(6):
        if state.expecting == "confirmation":
            break
        answers = {
            "location": "75011",
            "contacted_customer_service": "non",
            "technology": ChoiceEvent("technology:unknown"),
            "sector": ChoiceEvent("sector:mobile"),
            "category": ChoiceEvent("category:other"),
        }
        await bot.send(answers.get(state.expecting, "non"), user=user)
        state = await bot.service.state_of("cli", user)
    if photo:
        await bot.send(IncomingPhoto(jpeg_with_gps()), user=user)
    out = await bot.send(ChoiceEvent("confirm:send"), user=user)
    assert out.alert, out.replies
    return out.alert


PAGES = [
    "/staff/alerts",
    "/staff/stats",
    "/staff/alerts/JA-XXXX",
    "/staff/conversations/1",
    "/staff/conversations",
    "/staff/conversations?outcome=abandoned&unsure=1",
    "/staff/inbox",
    "/staff/inbox?status=done",
    "/staff/funnel",
    "/staff/funnel?channel=web&start=2026-01-01",
    "/staff/model",
    "/staff/alerts/JA-XXXX/photos/1/redact",
]
FILES = [
    "/staff/export/alerts.csv",
    "/staff/export/alerts.json",
    "/staff/export/opendata.csv",
    "/staff/export/annotations.yml",
    "/staff/photos/ab/" + "a" * 64 + ".jpg",
    "/staff/alerts/JA-XXXX/photos/1/preview.png",
]


async def test_every_route_refuses_without_a_session(console) -> None:
    for path in PAGES:
        response = await console.get(path, allow_redirects=False)
        assert response.status == 302 and response.headers["Location"].startswith(
            "/staff/login?next="
        ), path
    for path in FILES:
        assert (await console.get(path, allow_redirects=False)).status == 401, path


async def test_forged_and_expired_cookies_are_refused(console, sqlite_bot) -> None:
    console.session.cookie_jar.update_cookies({COOKIE: "gAAAAABforged-cookie-value"})
    assert (await console.get("/staff/export/alerts.csv")).status == 401
    # A well-formed cookie for "agent", encrypted with the real key but 9 hours old.
    secret = load_secret(console.config)
    sid = await StaffRepository(sqlite_bot.db).open_session("agent")  # a live session
    payload = json.dumps(
        {
            "created": int(time.time()) - 9 * 3600,
            "session": {"user": "agent", "sid": sid, "csrf": "x"},
        }
    ).encode()
    old = Fernet(fernet_key(secret)).encrypt_at_time(payload, int(time.time()) - 9 * 3600)
    console.session.cookie_jar.update_cookies({COOKIE: old.decode()})
    assert (await console.get("/staff/export/alerts.csv")).status == 401
    # The same cookie made now would be accepted: the age is what refused it.
    fresh = Fernet(fernet_key(secret)).encrypt(
        json.dumps(
            {"created": int(time.time()), "session": {"user": "agent", "sid": sid, "csrf": "x"}}
        ).encode()
    )
    console.session.cookie_jar.update_cookies({COOKIE: fresh.decode()})
    assert (await console.get("/staff/export/alerts.csv")).status == 200
    # Even made with the real key, a cookie naming no live session is refused.
    unknown = Fernet(fernet_key(secret)).encrypt(
        json.dumps(
            {
                "created": int(time.time()),
                "session": {"user": "agent", "sid": "made-up", "csrf": "x"},
            }
        ).encode()
    )
    console.session.cookie_jar.update_cookies({COOKIE: unknown.decode()})
    assert (await console.get("/staff/export/alerts.csv")).status == 401


async def test_forms_without_csrf_are_refused(console) -> None:
    no_token = await console.post("/staff/login", data={"name": "agent", "password": PASSWORD})
    assert no_token.status == 403
    assert (await log_in(console)).status == 302
    for path, data in (
        ("/staff/logout", {}),
        ("/staff/messages/1/annotation", {"category": "billing"}),
        ("/staff/messages/1/annotation", {"category": "billing", "next": "/staff/inbox"}),
        ("/staff/messages/1/review", {"next": "/staff/inbox"}),
        ("/staff/model/retrain", {}),
        ("/staff/alerts/JA-XXXX/photos/1/redact", {"x1": "0", "y1": "0", "w1": "10", "h1": "10"}),
        ("/staff/login", {"name": "agent", "password": PASSWORD}),
    ):
        response = await console.post(path, data=data, allow_redirects=False)
        assert response.status == 403, path
        bad = await console.post(path, data={**data, "csrf_token": "wrong"}, allow_redirects=False)
        assert bad.status == 403, path
    assert (await console.get("/staff/alerts", allow_redirects=False)).status == 200  # still in


async def test_login_logout_and_security_headers(console) -> None:
    wrong = await log_in(console, password="nope nope nope")
    assert wrong.status == 401 and "incorrect" in await wrong.text()
    ok = await log_in(console)
    assert ok.status == 302
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=28800" in cookie
    page = await console.get("/staff/alerts")
    assert page.status == 200
    csp = page.headers["Content-Security-Policy"]
    assert (
        "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    )
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    token = await csrf_of(console, "/staff/alerts")
    out = await console.post("/staff/logout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status == 302
    assert (await console.get("/staff/alerts", allow_redirects=False)).status == 302


class Clock:
    """The login throttle's clock, moved by the test (whole seconds, as Retry-After)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(console) -> Clock:
    from bot.console.common import THROTTLE
    from bot.channels.web.base import CONSOLE

    clock = Clock()
    console.server.app[CONSOLE][THROTTLE].clock = clock
    return clock


@pytest.fixture
async def proxied(aiohttp_client, sqlite_bot, tmp_path):
    """The console behind a reverse proxy (JALERTE_TRUSTED_PROXIES), on a test clock."""
    from bot.console.common import THROTTLE
    from bot.channels.web.base import CONSOLE
    from bot.channels.web.clients import trusted_proxies

    config = web_config(
        tmp_path, staff_secure_cookies=False, trusted_proxies=trusted_proxies("127.0.0.1, ::1")
    )
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    await StaffRepository(sqlite_bot.db).add_user("agent", PASSWORD)
    client.clock = Clock()
    client.server.app[CONSOLE][THROTTLE].clock = client.clock
    return client


async def test_repeated_failed_logins_are_slowed_down(console, clock) -> None:
    for _ in range(5):
        assert (await log_in(console, password="guess guess guess")).status == 401
    blocked = await log_in(console)  # even the right password waits now
    assert blocked.status == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "Réessayez dans" in await blocked.text()


async def test_wrong_tries_behind_the_proxy_slow_down_their_own_address_only(proxied) -> None:
    for n in range(7):  # seven names guessed from one address
        guess = await log_in(proxied, f"nobody{n}", "guess guess guess", "198.51.100.7")
        assert guess.status in (401, 429)
    assert (await log_in(proxied, address="198.51.100.7")).status == 429
    # Every staff member elsewhere logs in as usual.
    assert (await log_in(proxied, address="203.0.113.9")).status == 302


async def test_the_wait_grows_with_each_wrong_password_up_to_five_minutes(proxied) -> None:
    clock = proxied.clock
    for _ in range(5):
        assert (await log_in(proxied, password="guess guess guess")).status == 401
    waits = []
    for _ in range(11):
        early = await log_in(proxied)  # too early: refused unchecked, even the right one
        assert early.status == 429
        wait = int(early.headers["Retry-After"])
        waits.append(wait)
        clock.advance(wait - 1)  # a try refused does not push the wait further
        assert int((await log_in(proxied)).headers["Retry-After"]) == 1
        clock.advance(1)
        assert (await log_in(proxied, password="guess guess guess")).status == 401
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    clock.advance(300)
    assert (await log_in(proxied)).status == 302


async def test_an_account_guessed_from_many_addresses_is_delayed_not_locked(proxied) -> None:
    clock = proxied.clock
    attackers = [f"198.51.100.{n}" for n in range(1, 21)]

    async def guess(address: str) -> int:
        """A wrong password for "agent", tried again as soon as the server allows."""
        answer = await log_in(proxied, password="guess guess guess", address=address)
        if answer.status == 429:
            clock.advance(int(answer.headers["Retry-After"]))
            answer = await log_in(proxied, password="guess guess guess", address=address)
        return answer.status

    assert [await guess(address) for address in attackers] == [401] * 20
    # The agent, at the office, is told to wait at most five minutes…
    told = await log_in(proxied, address="203.0.113.9")
    assert told.status == 429
    wait = int(told.headers["Retry-After"])
    assert 0 < wait <= 300
    # …while the guessing goes on from every address, each as soon as it may…
    clock.advance(wait)
    for address in attackers[:10]:
        await log_in(proxied, password="guess guess guess", address=address)
    # …and then logs in.
    assert (await log_in(proxied, address="203.0.113.9")).status == 302


async def test_a_burst_of_guesses_gets_five_checked_and_leaves_the_loop_free(console) -> None:
    """20 wrong guesses and the right password at once: five are checked at most, the
    rest wait, even the right one; the server keeps answering meanwhile."""
    import asyncio
    import time

    tokens = [await csrf_of(console, "/staff/login") for _ in range(21)]

    async def attempt(token: str, password: str):
        return await console.post(
            "/staff/login",
            data={
                "csrf_token": token,
                "name": "agent",
                "password": password,
                "next": "/staff/alerts",
            },
            allow_redirects=False,
        )

    guesses = [attempt(t, f"guess number {n}") for n, t in enumerate(tokens[:20])]
    burst = asyncio.gather(*guesses, attempt(tokens[20], PASSWORD))
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    assert (await console.get("/healthz")).status in (200, 503)
    assert time.perf_counter() - started < 1.0  # hashing runs off the event loop
    statuses = [r.status for r in await burst]
    assert statuses.count(401) + statuses.count(302) <= 5
    assert statuses.count(429) >= 16


async def test_a_removed_account_loses_its_session(console, sqlite_bot) -> None:
    await log_in(console)
    await StaffRepository(sqlite_bot.db).remove_user("agent")
    assert (await console.get("/staff/alerts", allow_redirects=False)).status == 302


async def test_hostile_text_is_shown_as_text_everywhere(console, sqlite_bot) -> None:
    alerts = [
        await make_alert(sqlite_bot, f"x{i}", f"Orange me facture deux fois ma box {p}")
        for i, p in enumerate(XSS)
    ]
    formula = await make_alert(sqlite_bot, "f", '=HYPERLINK("http://evil") SFR me facture trop')
    await log_in(console)
    pages = (
        ["/staff/alerts", "/staff/stats"]
        + [f"/staff/alerts/{a['id']}" for a in alerts]
        + [f"/staff/conversations/{a['conversation_id']}" for a in alerts]
    )
    for path in pages:
        html = await (await console.get(path)).text()
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert 'href="javascript:' not in html and ">49<" not in html, path
    detail = await (await console.get(f"/staff/alerts/{alerts[0]['id']}")).text()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in detail
    body = (await (await console.get("/staff/export/alerts.csv")).read()).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body), delimiter=";"))
    assert all(not r["description"].startswith(("=", "+", "-", "@")) for r in rows)
    assert any(r["description"].startswith("'=HYPERLINK") for r in rows)
    assert formula["id"] in body
    exported = json.loads(await (await console.get("/staff/export/alerts.json")).read())
    assert {a["description"] for a in exported} >= {a["description"] for a in alerts}


async def test_filters_alert_page_photo_and_pagination(console, sqlite_bot) -> None:
    parcel = await make_alert(sqlite_bot, "p", "colis DPD perdu depuis 10 jours", photo=True)
    bill = await make_alert(sqlite_bot, "b", "Free me facture deux fois ma box")
    await log_in(console)
    listing = await (await console.get("/staff/alerts?sector=postal")).text()
    assert parcel["id"] in listing and bill["id"] not in listing
    listing = await (await console.get("/staff/alerts?photo=no")).text()
    assert bill["id"] in listing and parcel["id"] not in listing
    listing = await (await console.get("/staff/alerts?q=deux+fois")).text()
    assert bill["id"] in listing and parcel["id"] not in listing
    listing = await (
        await console.get("/staff/alerts?group=la_poste&category=parcel_delivery")
    ).text()
    assert parcel["id"] in listing
    detail = await (await console.get(f"/staff/alerts/{parcel['id']}")).text()
    [src] = re.findall(r'<img src="(/staff/photos/[^"]+)"', detail)
    image = await console.get(src)
    assert image.status == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert f"/staff/conversations/{parcel['conversation_id']}" in detail
    assert (await console.get("/staff/photos/../../secret.key")).status in (401, 404)


async def test_annotation_round_trip_and_rasa_export(console, sqlite_bot) -> None:
    alert = await make_alert(sqlite_bot, "a", "Bouygues me prélève encore après résiliation")
    await log_in(console)
    page = await (await console.get(f"/staff/conversations/{alert['conversation_id']}")).text()
    message_id = re.search(r'action="/staff/messages/(\d+)/annotation"', page).group(1)
    token = await csrf_of(console, f"/staff/conversations/{alert['conversation_id']}")
    saved = await console.post(
        f"/staff/messages/{message_id}/annotation",
        data={
            "csrf_token": token,
            "category": "contract",
            "operator": "bouygues",
            "sector": "fixed",
        },
        allow_redirects=False,
    )
    assert saved.status == 302
    page = await (await console.get(f"/staff/conversations/{alert['conversation_id']}")).text()
    assert 'value="contract" selected' in page and "par agent" in page
    exported = await (await console.get("/staff/export/annotations.yml")).text()
    assert "report_contract" in exported and "Bouygues" in exported


async def test_statistics_match_independent_counts(console, sqlite_bot) -> None:
    firsts = [
        "Orange me facture deux fois ma box",
        "colis DPD perdu depuis 10 jours",
        "Free me prélève encore alors que j'ai résilié",
        "colis DPD perdu à Lyon",
        "pas de réseau SFR dans mon village",
        "Orange me facture trop sur ma box",
    ]
    alerts = [await make_alert(sqlite_bot, f"s{i}", t) for i, t in enumerate(firsts)]
    # Spread them over months, as the trend needs.
    async with sqlite_bot.db.session() as session, session.begin():
        for i, alert in enumerate(alerts):
            row = await session.get(Alert, alert["id"])
            row.created_at = datetime(2026, 1 + i % 3, 10, tzinfo=timezone.utc)
        await rebuild(session)  # dates edited behind the app's back: counted again
    await log_in(console)
    page = await (await console.get("/staff/stats")).text()
    by_sector = Counter(a["sector"] for a in alerts)
    by_month = Counter(f"2026-{1 + i % 3:02d}" for i in range(len(alerts)))
    assert f"({len(alerts)} alertes)" in page
    for sector, count in by_sector.items():
        assert re.search(
            rf"<th scope=\"row\">{re.escape(label_fr(sector))}</th><td class=\"num\">{count}</td>",
            page,
        ), sector
    for month, count in by_month.items():
        assert re.search(rf"<th scope=\"row\">{month}</th><td class=\"num\">{count}</td>", page), (
            month
        )
    orange_fixed = sum(1 for a in alerts if a["operator"] == "orange" and a["sector"] == "fixed")
    shown = format_number(significant(orange_fixed * 100_000 / 11_800_000))
    assert re.search(
        rf'<th scope="row">Orange \([^<]*\)</th><td class="num">{orange_fixed}</td>'
        rf'<td class="num">11\u202f800\u202f000</td><td class="num">{shown}</td>',
        page,
    )
    data = (await (await console.get("/staff/export/opendata.csv")).read()).decode("utf-8-sig")
    assert "description" not in data and alerts[0]["id"] not in data
    only_postal = await (await console.get("/staff/stats?sector=postal")).text()
    assert f"({by_sector['postal']} alertes)" in only_postal


async def test_statistics_count_an_alert_about_several_operators_once(console, sqlite_bot) -> None:
    """« ni Orange ni SFR »: one alert in the total, one for Orange and one for SFR in the
    operator table; an operator typed by hand is « autre (texte libre) », its words in
    their own table."""
    several = await make_alert(sqlite_bot, "m1", "pas de réseau mobile ni Orange ni SFR à Murat")
    typed = await make_alert(sqlite_bot, "m2", "pas de réseau SFR dans mon village")
    async with sqlite_bot.db.session() as session, session.begin():
        row = await session.get(Alert, typed["id"])
        row.operator, row.operator_text = None, "Kiwi Télécom"
        await rebuild(session)
    assert several["operators"] == ["orange", "sfr"]
    await log_in(console)
    page = await (await console.get("/staff/stats")).text()
    assert "(2 alertes)" in page
    assert re.search(
        r'<th scope="row">Orange</th>(<td class="num">\d+</td>)*?'
        r'<td class="num">1</td></tr>',
        page,
    )
    assert re.search(
        r'<th scope="row">SFR</th>(<td class="num">\d+</td>)*?'
        r'<td class="num">1</td></tr>',
        page,
    )
    assert re.search(r'<th scope="row">autre \(texte libre\)</th>', page)
    assert re.search(r'<th scope="row">Kiwi Télécom</th><td class="num">1</td>', page)
    assert re.search(r'<th scope="row">Mobile[^<]*</th><td class="num">2</td>', page)
    csv_text = (await (await console.get("/staff/export/alerts.csv")).read()).decode("utf-8-sig")
    assert "orange|sfr" in csv_text
    listed = await (await console.get("/staff/alerts?operator=sfr")).text()
    assert several["id"] in listed and "Orange, SFR" in listed
    detail = await (await console.get(f"/staff/alerts/{several['id']}")).text()
    assert "Orange, SFR (plusieurs opérateurs)" in detail


def label_fr(sector: str) -> str:
    from dialogues.messages import label

    return label("sector", sector, "fr")


def test_staff_cli_creates_lists_and_removes_accounts(tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "JALERTE_DATA_DIR": str(tmp_path)}
    env.pop("JALERTE_DATABASE_URL", None)

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.process.cli", "staff", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    assert cli("add-user", "claire", stdin="short\n").returncode == 2
    assert cli("add-user", "claire", stdin="a long enough passphrase\n").returncode == 0
    assert cli("list-users").stdout.split() == ["claire"]
    assert cli("remove-user", "claire").returncode == 0
    assert cli("list-users").stdout.split() == []


async def test_logout_and_a_new_password_end_sessions_on_the_server(console, sqlite_bot) -> None:
    """A copied cookie stops working once its session is closed, whatever it holds."""
    await log_in(console)
    cookie = console.session.cookie_jar.filter_cookies(console.make_url("/staff/"))
    stolen = {name: morsel.value for name, morsel in cookie.items()}
    token = await csrf_of(console, "/staff/alerts")
    await console.post("/staff/logout", data={"csrf_token": token}, allow_redirects=False)
    replay = await console.get("/staff/alerts", cookies=stolen, allow_redirects=False)
    assert replay.status == 302  # the old cookie is refused: its session is gone

    await log_in(console)
    assert (await console.get("/staff/alerts", allow_redirects=False)).status == 200
    assert await StaffRepository(sqlite_bot.db).set_password("agent", "another long secret")
    assert (await console.get("/staff/alerts", allow_redirects=False)).status == 302


HUGE = "1" + "0" * 30


async def test_numbers_too_large_for_the_database_get_a_polite_400(console, sqlite_bot) -> None:
    """A hand-edited URL (page 10^30, the year 9999's last day, a conversation number no
    database holds) is told, never a 500, and keeps the console's headers."""
    alert = await make_alert(sqlite_bot, "big", "colis DPD perdu depuis 10 jours")
    await log_in(console)
    refused = {
        f"/staff/alerts?page={HUGE}": "page",
        f"/staff/conversations?page={HUGE}": "page",
        f"/staff/inbox?page={HUGE}&status=all": "page",
        "/staff/alerts?end=9999-12-31": "date",
        "/staff/stats?end=9999-12-31": "date",
        "/staff/conversations?end=9999-12-31": "date",
        "/staff/funnel?end=9999-12-31": "date",
        "/staff/alerts?start=0001-01-01": "date",
    }
    for path, what in refused.items():
        response = await console.get(path)
        body = await response.text()
        assert response.status == 400, path
        assert response.content_type == "text/html" and '<html lang="fr">' in body, path
        assert what in body.lower() and 'href="/staff/alerts"' in body, path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
    export = await console.get("/staff/export/alerts.csv?end=9999-12-31")
    assert export.status == 400 and export.headers["X-Content-Type-Options"] == "nosniff"
    for path in (
        f"/staff/conversations/{HUGE}",
        f"/staff/alerts/{alert['id']}/photos/{HUGE}/redact",
    ):
        assert (await console.get(path)).status == 404, path
    token = await csrf_of(console, "/staff/alerts")
    for path in (f"/staff/messages/{HUGE}/annotation", f"/staff/messages/{HUGE}/review"):
        response = await console.post(
            path, data={"csrf_token": token, "intent": "report"}, allow_redirects=False
        )
        assert response.status == 404, path
    # The largest page a person can reach still answers, empty.
    assert (await console.get("/staff/alerts?page=999999")).status == 200
    assert alert["id"] in await (await console.get("/staff/alerts?end=9998-12-31")).text()


RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: « ‮gpj.exe » reads « exe.jpg »


async def test_bidi_controls_written_by_people_are_shown_not_obeyed(console, sqlite_bot) -> None:
    alert = await make_alert(
        sqlite_bot,
        "rtl",
        f"Orange me facture deux fois ma box facture{RLO}fdp.exe \u2067isolé\u2069 \u200fmarque",
    )
    await log_in(console)
    pages = [
        "/staff/alerts",
        f"/staff/alerts/{alert['id']}",
        f"/staff/conversations/{alert['conversation_id']}",
        "/staff/inbox?status=all",
        "/staff/conversations?q=facture",
    ]
    for path in pages:
        html = await (await console.get(path)).text()
        assert not re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]", html), path
    detail = await (await console.get(f"/staff/alerts/{alert['id']}")).text()
    assert "facture[U+202E]fdp.exe" in detail  # staff see that a control was there
    assert re.search(r"<bdi>[^<]*facture\[U\+202E\]fdp\.exe", detail)  # isolated
    transcript = await (
        await console.get(f"/staff/conversations/{alert['conversation_id']}")
    ).text()
    assert re.search(r"<bdi>[^<]*\[U\+2067\]isolé\[U\+2069\]", transcript)
    body = (await (await console.get("/staff/export/alerts.csv")).read()).decode("utf-8-sig")
    [row] = [r for r in csv.DictReader(io.StringIO(body), delimiter=";") if r["id"] == alert["id"]]
    assert "facture[U+202E]fdp.exe" in row["description"] and RLO not in body


async def test_small_rates_per_100000_customers_are_not_zero(
    console, sqlite_bot, monkeypatch
) -> None:
    """1 alert for 7 million customers is 0,014 per 100 000, not « 0 »."""
    from bot.console import views
    from bot.console.stats import CustomerBase

    monkeypatch.setattr(
        views,
        "load_customer_base",
        lambda: [
            CustomerBase("orange", "fixed", 7_000_000, "test", "2026-01-01"),
            CustomerBase("sfr", "fixed", 7_700, "test", "2026-01-01"),
        ],
    )
    await make_alert(sqlite_bot, "r1", "Orange me facture deux fois ma box")
    for i in range(10):
        await make_alert(sqlite_bot, f"r{i + 2}", "SFR me facture deux fois ma box")
    await log_in(console)
    page = await (await console.get("/staff/stats")).text()
    table = page[page.index("<caption>Alertes pour 100") :]
    assert re.search(
        r'<th scope="row">Orange \([^<]*\)</th><td class="num">1</td>'
        r'<td class="num">7\u202f000\u202f000</td><td class="num">0,014</td>',
        table,
    )
    assert re.search(r'<td class="num">7\u202f700</td><td class="num">130</td>', table)  # 129,87
