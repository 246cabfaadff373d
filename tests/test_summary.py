"""« What the person keeps »: the alert's printable summary, from the widget, with no
personal data, and only for the session that saved the alert."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.async_api import expect

from bot.channels.web.app import create_app
from bot.channels.web.summary import format_date
from tests.clock import DST, MONTH_STARTS, Moment, around, at, by_month
from tests.conftest import web_config
from tests.test_accessibility import assert_accessible, save_an_alert
from tests.test_browser import ARTIFACTS, PHONE, open_connected
from tests.test_web import open_session, turn

DESCRIPTION = "colis Chronopost perdu depuis 10 jours"


# In August: a month whose French name has an accent, which a JavaScript `\w` misses.
IN_AUGUST = Moment(
    datetime(2026, 8, 15, 12, 30, tzinfo=timezone.utc),
    "15 août 2026 à 14:30",
    "August 15, 2026 at 14:30",
    "15/08/2026 14:30",
    "2026-08",
)


async def test_printable_summary_from_the_widget(
    browser,
    aiohttp_server,
    sqlite_bot,  # noqa: F811
    tmp_path,
):
    with at(IN_AUGUST):
        await _printable_summary(browser, aiohttp_server, sqlite_bot, tmp_path)


async def _printable_summary(browser, aiohttp_server, sqlite_bot, tmp_path):  # noqa: F811
    # Embedding sites restricted: the form's POST must carry the page's real origin.
    config = web_config(tmp_path, web_allowed_origins=("https://www.mairie.example",))
    server = await aiohttp_server(create_app(config, rt=sqlite_bot.runtime))
    context = await browser.new_context(viewport=PHONE, locale="fr-FR", accept_downloads=True)
    page = await context.new_page()
    await open_connected(page, str(server.make_url("/")))
    await save_an_alert(page)
    reference = await page.locator(".ref").first.text_content()
    keep = page.get_by_test_id("jalerte-summary")
    await expect(keep).to_have_count(1)  # once, even though the reference shows again
    await keep.scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / "widget-summary-offer.png"))

    async with context.expect_page() as opened:
        await keep.get_by_role("button", name="Récapitulatif à imprimer").click()
    summary = await opened.value
    await summary.wait_for_load_state()
    assert "session" not in summary.url and summary.url.endswith("/summary?lang=fr")
    await expect(
        summary.get_by_role("heading", name="Récapitulatif de votre alerte")
    ).to_be_visible()
    body = summary.locator("main")
    await expect(body).to_contain_text(reference)
    for words in (
        "Colis (perdu, retard, avis de passage)",
        "Chronopost",
        "Nantes",
        "Courrier et colis",
        "Nos conseils pour agir",
    ):
        await expect(body).to_contain_text(words)
    await expect(body).to_contain_text(IN_AUGUST.fr)
    text = await body.inner_text()
    assert "perdu depuis 10 jours" not in text  # the description never appears
    assert await summary.locator("img").count() == 0
    await expect(
        summary.get_by_role("button", name="Imprimer ou enregistrer en PDF")
    ).to_be_visible()
    await assert_accessible(summary, "summary")
    await summary.screenshot(path=str(ARTIFACTS / "summary-page.png"), full_page=True)
    await summary.close()

    async with page.expect_download() as downloading:
        await keep.get_by_role("button", name="Télécharger le récapitulatif").click()
    download = await downloading.value
    assert download.suggested_filename == f"recapitulatif-{reference}.html"
    saved = Path(await download.path()).read_text(encoding="utf-8")
    assert reference in saved and "perdu depuis 10 jours" not in saved

    # After a reload the history brings the summary form back.
    await open_connected(page, None)
    await expect(page.get_by_test_id("jalerte-summary")).to_have_count(1)
    await context.close()


async def test_summary_in_english(browser, aiohttp_server, sqlite_bot, tmp_path):  # noqa: F811
    server = await aiohttp_server(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))
    context = await browser.new_context(viewport=PHONE, locale="en-GB")
    page = await context.new_page()
    await page.goto(str(server.make_url("/")))
    await page.evaluate("JAlerte.init({lang: 'en'})")
    await page.get_by_test_id("jalerte-bubble").click()
    await expect(page.get_by_test_id("jalerte-panel")).to_have_attribute("data-connection", "ready")
    await save_an_alert(page, "en")
    async with context.expect_page() as opened:
        await page.get_by_role("button", name="Printable summary").click()
    summary = await opened.value
    await expect(summary.get_by_role("heading", name="Summary of your alert")).to_be_visible()
    assert await summary.locator("html").get_attribute("lang") == "en"
    await expect(summary.locator("main")).to_contain_text("Our advice")
    await context.close()


@around(MONTH_STARTS + DST)
def test_the_date_in_every_month_and_around_the_clock_changes(moment: Moment) -> None:
    assert format_date(moment.utc, "fr") == moment.fr
    assert format_date(moment.utc, "en") == moment.en
    # SQLite gives back naive datetimes, which are UTC.
    assert format_date(moment.utc.replace(tzinfo=None), "fr") == moment.fr


@by_month()
async def test_the_summary_page_dates_the_alert_in_paris_time(client, moment: Moment) -> None:
    """Saved half an hour into the 1st in Paris (still the day before in UTC): the page
    says the 1st, in every month's own words."""
    with at(moment):
        session, reference = await _saved(client)
        page = await (
            await client.post("/summary", data={"session": session, "alert": reference})
        ).text()
    assert moment.fr in page


@pytest.fixture
async def client(aiohttp_client, sqlite_bot, tmp_path):
    return await aiohttp_client(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))


async def _saved(client) -> tuple[str, str]:
    ws, first = await open_session(client)
    await turn(ws, {"type": "message", "text": DESCRIPTION})
    await turn(ws, {"type": "message", "text": "Nantes"})
    await turn(ws, {"type": "choice", "value": "contacted_customer_service:no"})
    out = await turn(ws, {"type": "choice", "value": "confirm:send"})
    await ws.close()
    return first["session"], out["alert_id"]


async def test_only_the_session_that_saved_it_gets_the_summary(client) -> None:
    session, reference = await _saved(client)
    own = await client.post("/summary", data={"session": session, "alert": reference})
    assert own.status == 200
    page = await own.text()
    assert reference in page and DESCRIPTION not in page and session not in page
    csp = own.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert own.headers["Cache-Control"] == "no-store"
    assert own.headers["Referrer-Policy"] == "no-referrer"
    assert "Content-Disposition" not in own.headers

    download = await client.post(
        "/summary", data={"session": session, "alert": reference, "download": "1"}
    )
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="recapitulatif-{reference}.html"'
    )

    ws, other = await open_session(client)  # another person, a valid session of their own
    await ws.close()
    refused = [
        await client.post("/summary", data={"session": other["session"], "alert": reference}),
        await client.post("/summary", data={"session": "x" * 40, "alert": reference}),
        await client.post("/summary", data={"session": session, "alert": "JA-00000000"}),
        await client.post("/summary", data={"alert": reference}),
    ]
    for answer in refused:
        assert answer.status == 404
        assert reference not in await answer.text()
    assert (await client.get("/summary")).status == 405  # never a GET with ids in the URL
    foreign = await client.post(
        "/summary",
        data={"session": session, "alert": reference},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status == 200  # any site may embed the widget by default ("*")


async def test_summary_refuses_a_site_not_allowed(aiohttp_client, sqlite_bot, tmp_path):
    config = web_config(tmp_path, web_allowed_origins=("https://www.mairie.example",))
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    session, reference = await _saved(client)
    data = {"session": session, "alert": reference}
    allowed = await client.post(
        "/summary", data=data, headers={"Origin": "https://www.mairie.example"}
    )
    assert allowed.status == 200
    for origin in ("https://evil.example", "null"):
        refused = await client.post("/summary", data=data, headers={"Origin": origin})
        assert refused.status == 403 and reference not in await refused.text()


async def test_no_summary_once_the_person_is_forgotten(client) -> None:
    session, reference = await _saved(client)
    ws, _ = await open_session(client, session)
    await turn(ws, {"type": "message", "text": "/oublier"})
    out = await turn(ws, {"type": "choice", "value": "forget:yes"})
    await ws.close()
    assert out["type"] == "turn"
    answer = await client.post("/summary", data={"session": session, "alert": reference})
    assert answer.status == 404
