"""The web channel over real HTTP and WebSocket (aiohttp test client)."""

from __future__ import annotations

import io
import json

import aiohttp
import pytest
from aiohttp import WSMsgType

from bot.channels.web.app import create_app
from tests.conftest import clear_of_a_minute_change, web_config
from tests.images import PDF, jpeg_with_gps


@pytest.fixture
async def client(aiohttp_client, sqlite_bot, tmp_path):
    return await aiohttp_client(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))


async def open_session(client, session: str | None = None, **headers):
    url = "/ws" + (f"?session={session}" if session else "")
    ws = await client.ws_connect(url, headers=headers)
    first = await ws.receive_json()
    assert first["type"] == "session"
    return ws, first


async def turn(ws, frame: dict) -> dict:
    await ws.send_json(frame)
    answer = await ws.receive_json(timeout=15)
    return answer


async def test_demo_page_embeds_the_widget_like_any_site(client) -> None:
    page = await (await client.get("/")).text()
    assert '<script src="/widget.js" data-lang="fr"></script>' in page
    js = await client.get("/widget.js")
    assert js.status == 200 and "javascript" in js.headers["Content-Type"]
    assert "JAlerte" in await js.text()


async def test_health_reports_model_and_database(client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "model": True,
        "database": True,
        "worker": None,  # one process: no worker number
        "telegram_poller": False,
    }  # no Telegram token


async def test_a_whole_alert_over_the_websocket_with_a_photo(client, sqlite_bot) -> None:
    ws, first = await open_session(client)
    session = first["session"]
    assert first["history"] == []
    out = await turn(ws, {"type": "message", "text": "colis Chronopost perdu depuis 10 jours"})
    assert out["type"] == "turn" and out["expecting"] == "location"
    form = aiohttp.FormData()
    form.add_field("session", session)
    form.add_field("file", jpeg_with_gps(), filename="IMG_1.jpg", content_type="image/jpeg")
    uploaded = await (await client.post("/upload", data=form)).json()
    out = await turn(ws, {"type": "photo", "upload_id": uploaded["upload_id"]})
    assert "Photo ajoutée" in out["replies"][0]["text"]
    out = await turn(ws, {"type": "message", "text": "Nantes"})
    assert out["expecting"] == "contacted_customer_service"
    out = await turn(ws, {"type": "choice", "value": "contacted_customer_service:no"})
    assert out["expecting"] == "confirmation"
    out = await turn(ws, {"type": "choice", "value": "confirm:send"})
    assert out["alert_id"] and out["alert"]["channel"] == "web"
    assert len(out["alert"]["photos"]) == 1
    assert {r["type"] for r in out["replies"]} >= {"advice", "share"}
    await ws.close()

    # A reload: same session id, the conversation so far comes back.
    ws, again = await open_session(client, session)
    texts = [item.get("text") or item.get("reply", {}).get("text") for item in again["history"]]
    assert texts[0] == "colis Chronopost perdu depuis 10 jours"
    assert any(item["from"] == "user" and item["text"] == "Non" for item in again["history"])
    assert again["history"][-1]["reply"]["text"].startswith("Ces conseils")
    await ws.close()


async def test_an_upload_is_only_usable_by_its_own_session(client) -> None:
    ws_a, a = await open_session(client)
    ws_b, _ = await open_session(client)
    form = aiohttp.FormData()
    form.add_field("session", a["session"])
    form.add_field("file", PDF, filename="x.pdf")
    upload_id = (await (await client.post("/upload", data=form)).json())["upload_id"]
    stolen = await turn(ws_b, {"type": "photo", "upload_id": upload_id})
    assert stolen["type"] == "error" and stolen["code"] == "unknown_upload"
    own = await turn(ws_a, {"type": "photo", "upload_id": upload_id})
    assert own["type"] == "turn" and "JPEG, PNG ou WEBP" in own["replies"][0]["text"]
    again = await turn(ws_a, {"type": "photo", "upload_id": upload_id})
    assert again["code"] == "unknown_upload"  # used once


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json at all", "bad_frame"),
        ("[1, 2, 3]", "bad_frame"),
        ('{"type": "message", "text": 42}', "bad_frame"),
        ('{"type": "choice"}', "bad_frame"),
        ('{"type": "dance", "text": "hello"}', "bad_frame"),
        ('{"text": "no type"}', "bad_frame"),
        (json.dumps({"type": "message", "text": "x" * 40_000}), "too_large"),
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_lives(client, frame, code) -> None:
    ws, _ = await open_session(client)
    await ws.send_str(frame)
    error = await ws.receive_json(timeout=5)
    assert error["type"] == "error" and error["code"] == code and error["message"]
    out = await turn(ws, {"type": "message", "text": "bonjour"})
    assert out["type"] == "turn"


async def test_binary_frames_are_refused_politely(client) -> None:
    ws, _ = await open_session(client)
    await ws.send_bytes(b"\x00\x01\x02")
    error = await ws.receive_json(timeout=5)
    assert error["code"] == "bad_frame"


async def test_unknown_button_and_forged_session_id(client) -> None:
    ws, first = await open_session(client, session="../../etc/passwd")
    assert first["session"] != "../../etc/passwd"
    out = await turn(ws, {"type": "choice", "value": "operator:<script>"})
    assert "plus valable" in out["replies"][0]["text"]


async def test_rate_limit_per_session(aiohttp_client, sqlite_bot, tmp_path) -> None:
    app = create_app(web_config(tmp_path, web_messages_per_minute=3), rt=sqlite_bot.runtime)
    client = await aiohttp_client(app)
    await clear_of_a_minute_change()
    ws, _ = await open_session(client)
    for _ in range(3):
        assert (await turn(ws, {"type": "message", "text": "bonjour"}))["type"] == "turn"
    limited = await turn(ws, {"type": "message", "text": "bonjour"})
    assert limited["code"] == "rate_limited" and "minute" in limited["message"]


async def test_connection_limit(aiohttp_client, sqlite_bot, tmp_path) -> None:
    app = create_app(web_config(tmp_path, web_max_connections=2), rt=sqlite_bot.runtime)
    client = await aiohttp_client(app)
    first, _ = await open_session(client)
    second, _ = await open_session(client)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws")
    assert refused.value.status == 503
    await first.close()
    third, _ = await open_session(client)  # a slot is free again
    await third.close()
    await second.close()


async def test_allowed_origins(aiohttp_client, sqlite_bot, tmp_path) -> None:
    config = web_config(tmp_path, web_allowed_origins=("https://mairie.example",))
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    ws, _ = await open_session(client, Origin="https://mairie.example")
    await ws.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403


async def test_the_own_https_origin_behind_a_tls_proxy(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    """Behind nginx terminating TLS the app sees http: the page's own https origin is
    recognised from X-Forwarded-Proto, but only when a trusted proxy sends it."""
    from bot.channels.web.clients import trusted_proxies

    def app(proxies: str):
        return create_app(
            web_config(
                tmp_path,
                web_allowed_origins=("https://mairie.example",),
                trusted_proxies=trusted_proxies(proxies),
            ),
            rt=sqlite_bot.runtime,
        )

    behind = await aiohttp_client(app("127.0.0.1"))
    own = f"https://{behind.server.host}:{behind.server.port}"
    ws, _ = await open_session(behind, Origin=own, **{"X-Forwarded-Proto": "https"})
    await ws.close()
    untrusted = await aiohttp_client(app("10.9.9.9"))
    own = f"https://{untrusted.server.host}:{untrusted.server.port}"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await untrusted.ws_connect("/ws", headers={"Origin": own, "X-Forwarded-Proto": "https"})
    assert refused.value.status == 403


async def test_upload_limits(client) -> None:
    ws, first = await open_session(client)
    form = aiohttp.FormData()
    form.add_field("session", first["session"])
    # A file object: aiohttp warns about multi-megabyte bytes sent in one piece.
    form.add_field("file", io.BytesIO(b"\xff" * (10 * 1024 * 1024 + 10)), filename="big.jpg")
    response = await client.post("/upload", data=form)
    assert response.status == 413 and (await response.json())["error"] == "too_large"
    response = await client.post(
        "/upload", data=b"not multipart", headers={"Content-Type": "text/plain"}
    )
    assert response.status == 400
    form = aiohttp.FormData()
    form.add_field("file", b"abc", filename="x.jpg")
    response = await client.post("/upload", data=form)  # no session
    assert response.status == 400


async def test_shutdown_closes_open_sockets(aiohttp_client, sqlite_bot, tmp_path) -> None:
    client = await aiohttp_client(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))
    ws, _ = await open_session(client)
    await client.server.app.shutdown()
    closing = await ws.receive(timeout=5)
    assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)


async def test_upload_answers_can_be_read_by_other_sites(client) -> None:
    ws, first = await open_session(client)
    form = aiohttp.FormData()
    form.add_field("session", first["session"])
    form.add_field("file", jpeg_with_gps(), filename="a.jpg")
    response = await client.post("/upload", data=form, headers={"Origin": "https://mairie.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_share_notices_get_no_answer_and_mark_the_alert(client, sqlite_bot) -> None:
    ws, first = await open_session(client)
    for text in ("Orange me facture deux fois ma box", "non"):
        await turn(ws, {"type": "message", "text": text})
    saved = await turn(ws, {"type": "choice", "value": "confirm:send"})
    await ws.send_json({"type": "shared", "network": "WhatsApp"})
    out = await turn(ws, {"type": "message", "text": "merci"})
    assert out["type"] == "turn"  # the next answer is the next turn's, not the notice's
    assert (await sqlite_bot.repository.alert(saved["alert_id"]))["shared"] is True


async def test_the_widgets_language_is_the_conversations_first_language(client) -> None:
    ws = await client.ws_connect("/ws?lang=en")
    await ws.receive_json()
    out = await turn(ws, {"type": "message", "text": "ok"})
    assert "Describe your problem" in " ".join(r["text"] for r in out["replies"])


async def test_only_sessions_the_server_issued_are_kept(client) -> None:
    ws, first = await open_session(client)
    issued = first["session"]
    await ws.send_json({"type": "message", "text": "colis Chronopost perdu"})
    await ws.receive_json()
    again, back = await open_session(client, issued)
    assert back["session"] == issued and back["history"]
    forged = issued[:24] + "A" * 16  # well-formed, not signed by this server
    other, chosen = await open_session(client, forged)
    assert chosen["session"] != forged and chosen["history"] == []
    form = aiohttp.FormData()
    form.add_field("session", forged)
    form.add_field("file", jpeg_with_gps(), filename="a.jpg")
    assert (await client.post("/upload", data=form)).status == 400


async def test_hostile_bodies_and_frames_get_their_documented_errors(client) -> None:
    ws, first = await open_session(client)
    await ws.send_str("[" * 30_000)  # nested deeper than any parser goes
    assert (await ws.receive_json())["code"] == "bad_frame"
    await ws.send_json({"type": "message", "text": "bonjour"})
    assert (await ws.receive_json())["type"] == "turn"  # the socket lives on
    broken = (
        b'--XyZ\r\nContent-Disposition: form-data; name="session"\r\n\r\n'
        + first["session"].encode()
        + b"\r\n--XyZ\r\nContent-Disposition: form-data"
    )
    response = await client.post(
        "/upload", data=broken, headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
    )
    assert response.status == 400 and (await response.json())["error"] == "bad_frame"
    form = aiohttp.FormData()
    form.add_field("session", io.BytesIO(b"x" * 5_000_000))  # 100 bytes read, then refused
    form.add_field("file", jpeg_with_gps(), filename="a.jpg")
    assert (await client.post("/upload", data=form)).status == 400


def _sample(text: str, name: str) -> float:
    """The value of one sample line in Prometheus' text format (0 when absent)."""
    for line in text.splitlines():
        if line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_liveness_and_readiness(aiohttp_client, sqlite_bot, tmp_path) -> None:
    from bot.process.metrics import TurnMetrics

    sqlite_bot.service.observer = TurnMetrics()
    config = web_config(tmp_path, metrics_token="prometheus-only")
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    scrape = {"Authorization": "Bearer prometheus-only"}
    before = await (await client.get("/metrics", headers=scrape)).text()
    ws, _ = await open_session(client)
    for frame in (
        {"type": "message", "text": "Orange me facture deux fois ma box"},
        {"type": "message", "text": "non"},
    ):
        await turn(ws, frame)
    state = await turn(ws, {"type": "choice", "value": "confirm:send"})
    assert state["alert_id"]
    after = await (await client.get("/metrics", headers=scrape)).text()
    turns = 'jalerte_turns_total{channel="web"}'
    assert _sample(after, turns) - _sample(before, turns) == 3
    alerts = 'jalerte_alerts_total{category="billing"}'
    assert _sample(after, alerts) - _sample(before, alerts) == 1
    assert "jalerte_turn_seconds_bucket" in after and "jalerte_nlu_confidence_count" in after
    assert "Orange" not in after  # counts only, never what people wrote
    assert (await client.get("/livez")).status == 200
    assert (await client.get("/readyz")).status == 200


# -- limits per client address ------------------------------------------------------------
def limited_app(tmp_path, sqlite_bot, trusted: str | None = None, **limits):
    from dataclasses import replace

    from bot.channels.web.clients import AddressLimits, trusted_proxies

    config = web_config(
        tmp_path,
        web_address_limits=replace(AddressLimits(), **limits),
        trusted_proxies=trusted_proxies(trusted),
    )
    return create_app(config, rt=sqlite_bot.runtime)


async def test_new_sessions_do_not_escape_the_turn_limit_of_an_address(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    client = await aiohttp_client(limited_app(tmp_path, sqlite_bot, turns_per_minute=4))
    await clear_of_a_minute_change()
    sockets = [(await open_session(client))[0] for _ in range(3)]
    answers = [
        await turn(ws, {"type": "message", "text": "bonjour"}) for ws in sockets + sockets[:2]
    ]
    assert [a["type"] for a in answers[:4]] == ["turn"] * 4
    assert answers[4]["code"] == "rate_limited" and "minute" in answers[4]["message"]
    for ws in sockets:
        await ws.close()


async def test_an_address_opening_sessions_in_a_loop_is_told_to_wait(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    client = await aiohttp_client(limited_app(tmp_path, sqlite_bot, sessions_per_hour=2))
    first, hello = await open_session(client)
    await first.close()
    second, _ = await open_session(client)
    await second.close()
    refused = await client.ws_connect("/ws")
    error = await refused.receive_json(timeout=5)
    assert error["code"] == "too_many_sessions" and "réessayez" in error["message"]
    assert (await refused.receive(timeout=5)).type == WSMsgType.CLOSE
    # Coming back to a conversation already open is no new session.
    again, resumed = await open_session(client, session=hello["session"])
    assert resumed["session"] == hello["session"]
    await again.close()


async def test_one_address_cannot_take_every_socket(aiohttp_client, sqlite_bot, tmp_path) -> None:
    client = await aiohttp_client(limited_app(tmp_path, sqlite_bot, connections=2))
    first, _ = await open_session(client)
    second, _ = await open_session(client)
    third = await client.ws_connect("/ws?lang=en")
    error = await third.receive_json(timeout=5)
    assert error["code"] == "too_many_connections" and "try again" in error["message"]
    await first.close()
    fourth, _ = await open_session(client)  # a socket closed: room again
    await fourth.close()
    await second.close()


async def test_behind_a_trusted_proxy_each_client_has_its_own_budget(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    client = await aiohttp_client(
        limited_app(tmp_path, sqlite_bot, trusted="127.0.0.1, ::1", turns_per_minute=2)
    )
    await clear_of_a_minute_change()
    # The client wrote a fake first hop; the proxy appended the address it saw.
    alice, _ = await open_session(client, **{"X-Forwarded-For": "10.9.9.9, 203.0.113.7"})
    bob, _ = await open_session(client, **{"X-Forwarded-For": "198.51.100.20"})
    for _ in range(2):
        assert (await turn(alice, {"type": "message", "text": "bonjour"}))["type"] == "turn"
    assert (await turn(alice, {"type": "message", "text": "bonjour"}))["code"] == "rate_limited"
    assert (await turn(bob, {"type": "message", "text": "bonjour"}))["type"] == "turn"
    await alice.close()
    await bob.close()


async def test_without_a_trusted_proxy_a_forwarded_header_changes_nothing(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    client = await aiohttp_client(limited_app(tmp_path, sqlite_bot, turns_per_minute=2))
    await clear_of_a_minute_change()
    sockets = [
        (await open_session(client, **{"X-Forwarded-For": f"198.51.100.{n}"}))[0] for n in range(3)
    ]
    answers = [await turn(ws, {"type": "message", "text": "bonjour"}) for ws in sockets]
    assert [a.get("code") for a in answers] == [None, None, "rate_limited"]
    for ws in sockets:
        await ws.close()


async def test_uploads_and_shared_notices_are_limited_per_address(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    client = await aiohttp_client(
        limited_app(tmp_path, sqlite_bot, uploads_per_minute=2, notices_per_minute=2)
    )
    await clear_of_a_minute_change()
    statuses = []
    for _ in range(3):
        ws, hello = await open_session(client)
        form = aiohttp.FormData()
        form.add_field("session", hello["session"])
        form.add_field("file", jpeg_with_gps(), filename="a.jpg", content_type="image/jpeg")
        statuses.append((await client.post("/upload", data=form)).status)
        for _ in range(2):
            await ws.send_json({"type": "shared", "network": "WhatsApp"})
        await turn(ws, {"type": "message", "text": "bonjour"})  # notices are handled first
        await ws.close()
    assert statuses == [200, 200, 429]
    async with sqlite_bot.runtime.db.session() as session:
        from sqlalchemy import func, select

        from storage.models import Message

        notices = await session.scalar(
            select(func.count()).select_from(Message).where(Message.kind == "shared")
        )
    assert notices == 2  # six sent, the address's two kept


async def test_counters_never_hold_an_address_in_clear(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    client = await aiohttp_client(limited_app(tmp_path, sqlite_bot, trusted="127.0.0.1"))
    ws, _ = await open_session(client, **{"X-Forwarded-For": "203.0.113.77"})
    await turn(ws, {"type": "message", "text": "bonjour"})
    await ws.close()
    async with sqlite_bot.runtime.db.session() as session:
        from sqlalchemy import select

        from storage.models import Counter

        keys = list(await session.scalars(select(Counter.key)))
    assert any(key.startswith("addr:turns:") for key in keys)
    assert not any("203.0.113" in key or "127.0.0.1" in key for key in keys)


# -- availability: idle sockets and connection caps ---------------------------------------
async def test_an_idle_socket_is_closed_and_its_conversation_goes_on(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    import asyncio

    from dataclasses import replace

    from bot.channels.web.clients import AddressLimits

    config = web_config(
        tmp_path, web_idle_seconds=2.0, web_address_limits=replace(AddressLimits(), connections=1)
    )
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    ws, hello = await open_session(client)
    # A person who writes keeps the socket, well past the idle time in all.
    first = await turn(ws, {"type": "message", "text": "colis Chronopost perdu depuis 10 jours"})
    assert first["expecting"] == "location"
    for _ in range(5):
        await asyncio.sleep(0.5)
        assert (await turn(ws, {"type": "message", "text": "bonjour"}))["type"] == "turn"

    async def ping() -> None:  # automatic traffic, as a browser's: no activity
        while not ws.closed:
            await ws.ping()
            await asyncio.sleep(0.2)

    pinging = asyncio.create_task(ping())
    started = asyncio.get_running_loop().time()
    # (the client's own timeout restarts at each pong: wait_for bounds the whole wait)
    closing = await asyncio.wait_for(ws.receive(), 15)
    waited = asyncio.get_running_loop().time() - started
    pinging.cancel()
    assert closing.type == WSMsgType.CLOSE
    assert (closing.data, closing.extra) == (4000, "idle")  # what the widget recognises
    assert waited >= 1.5 and waited < 10
    # Back with the same session: the conversation is all there and goes on; the
    # address's only socket was given back.
    again, resumed = await open_session(client, hello["session"])
    assert resumed["session"] == hello["session"]
    assert resumed["history"][0]["text"] == "colis Chronopost perdu depuis 10 jours"
    assert (await turn(again, {"type": "message", "text": "Nantes"}))["type"] == "turn"
    await again.close()


async def fill_from(client, address: str, most: int = 40) -> list:
    """Sockets from `address` (through the trusted proxy) until the server refuses one."""
    sockets = []
    for _ in range(most):
        try:
            ws = await client.ws_connect("/ws", headers={"X-Forwarded-For": address})
        except aiohttp.WSServerHandshakeError as refused:
            assert refused.status == 503
            break
        first = await ws.receive_json(timeout=15)
        if first["type"] == "error":
            assert first["code"] == "too_many_connections"
            await ws.close()
            break
        sockets.append(ws)
    return sockets


async def test_a_handful_of_addresses_cannot_fill_the_server_by_default(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    # (a test client opens as many sockets as asked: no pool limit of its own)
    client = await aiohttp_client(
        limited_app(tmp_path, sqlite_bot, trusted="127.0.0.1"),
        connector=aiohttp.TCPConnector(limit=0),
    )
    held = [await fill_from(client, f"192.0.2.{n}") for n in range(1, 8)]
    # Someone new still gets in and is answered…
    newcomer, _ = await open_session(client, **{"X-Forwarded-For": "203.0.113.50"})
    assert (await turn(newcomer, {"type": "message", "text": "bonjour"}))["type"] == "turn"
    assert len({len(sockets) for sockets in held}) == 1  # …and each address had its cap
    for ws in [newcomer] + [ws for sockets in held for ws in sockets]:
        await ws.close()


async def test_addresses_at_their_cap_leave_the_last_tenth_to_new_people(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    from dataclasses import replace

    from bot.channels.web.clients import AddressLimits, trusted_proxies

    # Set by hand so that three addresses at their cap (3 × 8) would be more than the
    # server's 20: the last two sockets are kept for addresses holding none.
    config = web_config(
        tmp_path,
        web_max_connections=20,
        web_address_limits=replace(AddressLimits(), connections=8),
        trusted_proxies=trusted_proxies("127.0.0.1"),
    )
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    held = [await fill_from(client, f"192.0.2.{n}") for n in (11, 12, 13)]
    assert sum(len(sockets) for sockets in held) == 18
    newcomers = [
        (await open_session(client, **{"X-Forwarded-For": f"203.0.113.{n}"}))[0] for n in (60, 61)
    ]
    with pytest.raises(aiohttp.WSServerHandshakeError) as full:
        await client.ws_connect("/ws", headers={"X-Forwarded-For": "203.0.113.62"})
    assert full.value.status == 503  # now the server is full
    for ws in newcomers + [ws for sockets in held for ws in sockets]:
        await ws.close()


async def test_a_session_resumed_in_the_first_frame_never_appears_in_a_url(client) -> None:
    """/ws?resume=1 then {"type": "resume", "session": …}: the widget's way, so that no
    proxy log holds the id; an unknown id, or no resume frame, starts a new session."""
    ws, first = await open_session(client)
    await turn(ws, {"type": "message", "text": "colis Chronopost perdu depuis 10 jours"})
    await ws.close()
    ws = await client.ws_connect("/ws?resume=1&lang=fr")
    await ws.send_json({"type": "resume", "session": first["session"]})
    again = await ws.receive_json()
    assert again["session"] == first["session"] and again["history"]
    await ws.close()
    ws = await client.ws_connect("/ws?resume=1")
    await ws.send_json({"type": "resume", "session": "x" * 40})
    other = await ws.receive_json()
    assert other["session"] != first["session"] and other["history"] == []
    await ws.close()
    ws = await client.ws_connect("/ws?resume=1")
    await ws.send_str("{broken")
    fresh = await ws.receive_json()
    assert fresh["type"] == "session" and fresh["history"] == []
    await ws.close()
