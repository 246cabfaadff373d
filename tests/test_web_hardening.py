"""What a browser, a scanner or Prometheus sees of the public server (issue 18, item 5):
security headers on every answer, errors included; no version in `Server`; `/metrics`
behind a token; the privacy notice as a page; the Telegram webhook's URL and update ids."""

from __future__ import annotations

import re

import aiohttp
import pytest
from aiohttp import web

from bot.channels.web.app import create_app
from dialogues.messages import text
from tests.conftest import web_config
from tests.fake_telegram import FakeTelegram


def assert_safe_headers(response, path: str) -> None:
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", path
    assert headers.get("X-Frame-Options") == "DENY", path
    assert headers.get("Referrer-Policy"), path
    assert headers.get("Content-Security-Policy"), path
    server = headers.get("Server", "")
    assert "Python" not in server and "aiohttp" not in server, (path, server)


def boom_app(config, rt):
    """The real app, plus a route that fails the way a bug would."""
    app = create_app(config, rt=rt)

    async def boom(_request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app.router.add_get("/boom", boom)
    return app


async def test_every_answer_carries_the_security_headers(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    client = await aiohttp_client(boom_app(web_config(tmp_path), sqlite_bot.runtime))
    statuses = {
        "/": 200,
        "/widget.js": 200,
        "/healthz": 200,
        "/livez": 200,
        "/accessibilite": 200,
        "/pages.css": 200,
        "/nowhere": 404,
        "/boom": 500,
        "/staff/login": 200,
    }
    for path, status in statuses.items():
        response = await client.get(path, headers={"Accept": "text/html"})
        assert response.status == status, path
        assert_safe_headers(response, path)
    wrong_method = await client.post("/healthz")
    assert wrong_method.status == 405
    assert_safe_headers(wrong_method, "POST /healthz")
    # The WebSocket's handshake too.
    ws = await client.ws_connect("/ws")
    assert_safe_headers(ws._response, "/ws")
    await ws.close()


async def test_the_demo_page_allows_its_own_script_and_nothing_inline(
    aiohttp_client, sqlite_bot, tmp_path
) -> None:
    client = await aiohttp_client(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))
    response = await client.get("/")
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
        if part.strip()
    )
    assert policy["script-src"] == "'self'"  # /widget.js; no inline script, no eval
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "'self'" in policy["connect-src"]  # the widget's WebSocket and /upload
    page = await response.text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # every script is a file
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handler either
    # The widget is embedded by other sites: its script must stay loadable from them.
    widget = await client.get("/widget.js")
    assert widget.headers["Access-Control-Allow-Origin"] == "*"
    assert "Cross-Origin-Resource-Policy" not in widget.headers


@pytest.mark.parametrize("secure", [True, False])
async def test_hsts_comes_with_secure_cookies(aiohttp_client, sqlite_bot, tmp_path, secure) -> None:
    config = web_config(tmp_path, staff_secure_cookies=secure)
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    for path in ("/", "/staff/login", "/nowhere"):
        hsts = (await client.get(path)).headers.get("Strict-Transport-Security")
        if secure:
            assert hsts and int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 180 * 86400
        else:
            assert hsts is None


async def test_metrics_are_not_public_without_a_token(aiohttp_client, sqlite_bot, tmp_path) -> None:
    closed = await aiohttp_client(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))
    response = await closed.get("/metrics")
    assert response.status == 404 and "jalerte_turns" not in await response.text()

    config = web_config(tmp_path, metrics_token="scrape-me-7f3a")
    guarded = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "scrape-me-7f3a"}):
        response = await guarded.get("/metrics", headers=headers)
        assert response.status == 401, headers
        assert "jalerte_turns" not in await response.text()
        assert_safe_headers(response, "/metrics")
    response = await guarded.get("/metrics", headers={"Authorization": "Bearer scrape-me-7f3a"})
    assert response.status == 200 and "jalerte_turns" in await response.text()


@pytest.mark.parametrize("path, lang", [("/confidentialite", "fr"), ("/privacy", "en")])
async def test_the_privacy_notice_is_a_page(
    aiohttp_client, sqlite_bot, tmp_path, path, lang
) -> None:
    config = web_config(tmp_path, retention_transcript_days=45, retention_free_text_days=200)
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    response = await client.get(path)
    assert response.status == 200 and response.content_type == "text/html"
    assert_safe_headers(response, path)
    page = await response.text()
    assert f'<html lang="{lang}">' in page and "<h1>" in page and "<main" in page
    # The notice the bot gives in chat, with this server's retention periods.
    notice = text("privacy", lang, transcript_days=45, free_text_days=200)
    import html

    for sentence in notice.split(". "):
        assert html.escape(sentence, quote=False).replace("&#x27;", "'") in page, sentence
    other = "/privacy" if lang == "fr" else "/confidentialite"
    assert f'href="{other}"' in page  # the other language is one link away
    assert 'href="/confidentialite"' in await (await client.get("/")).text()


async def test_the_webhook_path_is_added_once(sqlite_bot, aiohttp_server, tmp_path) -> None:
    async with FakeTelegram() as fake:
        for given in (
            "https://bot.example.org/telegram/webhook",
            "https://bot.example.org/telegram/webhook/",
            "https://bot.example.org/",
        ):
            config = web_config(
                tmp_path,
                telegram_token=fake.token,
                telegram_api_url=fake.url,
                telegram_webhook_url=given,
                telegram_webhook_secret="s3cret",
            )
            server = await aiohttp_server(create_app(config, rt=sqlite_bot.runtime))
            assert fake.webhook["url"] == "https://bot.example.org/telegram/webhook", given
            await server.close()


async def test_an_update_id_beyond_the_database_is_refused_politely(
    sqlite_bot, aiohttp_server, tmp_path
) -> None:
    from sqlalchemy import func, select

    from storage.models import TelegramUpdate

    async with FakeTelegram() as fake:
        config = web_config(
            tmp_path,
            telegram_token=fake.token,
            telegram_api_url=fake.url,
            telegram_webhook_url="https://bot.example.org",
            telegram_webhook_secret="s3cret",
        )
        server = await aiohttp_server(create_app(config, rt=sqlite_bot.runtime))
        url = str(server.make_url("/telegram/webhook"))
        headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        async with aiohttp.ClientSession() as http:
            for update_id in (10**26, 2**63, -1):
                update = fake.text_update(4242, "colis perdu")
                update["update_id"] = update_id
                async with http.post(url, json=update, headers=headers) as response:
                    assert response.status == 400, update_id
                    assert_safe_headers(response, "/telegram/webhook")
        async with sqlite_bot.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(TelegramUpdate)) == 0
        assert fake.sent(4242) == []


def test_jalerte_run_names_no_version_even_before_routing(trained_model, tmp_path) -> None:
    """A request line aiohttp's parser refuses is answered before any route or signal of
    the app: `jalerte run` must not name Python's and aiohttp's versions there either."""
    import socket

    from tests.test_run import start_server, stop_server

    proc, base = start_server(trained_model, tmp_path / "data")
    try:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = raw.recv(4096).decode("latin-1")
        assert answer.startswith("HTTP/1.") and " 400 " in answer.split("\r\n")[0]
        assert "Python" not in answer and "aiohttp" not in answer, answer
    finally:
        code, _out, err = stop_server(proc)
    assert code == 0, err[-2000:]


async def test_the_demo_page_works_under_its_policy_and_links_the_notice(browser, site):  # noqa: F811
    """In Chromium: the widget runs a conversation under the demo page's CSP without a
    single violation, and the privacy notice is one link away, styled and accessible."""
    from playwright.async_api import expect

    from tests.test_accessibility import assert_accessible
    from tests.test_browser import PHONE, bot_says, open_connected

    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    await open_connected(page, site)
    field = page.get_by_test_id("jalerte-input")
    await field.fill("colis Chronopost perdu depuis 10 jours")
    await field.press("Enter")
    await bot_says(page, "Où")
    assert refused == []
    link = page.get_by_role("link", name="Vos données dans l'assistant J'alerte l'Arcep")
    await link.focus()  # under the open chat panel on a phone: by keyboard
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Vos données personnelles")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("masqués")
    header = await page.locator("header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header == "rgb(0, 0, 145)"  # /pages.css, allowed by the page's policy
    await assert_accessible(page, "privacy")
    await page.get_by_role("link", name="This page in English").click()
    await expect(page.get_by_role("heading", name="Your personal data")).to_be_visible()
    assert refused == []
    await context.close()
