"""The widget in a real browser: Debian's Chromium driven by Playwright, phone width."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from playwright.async_api import expect

from bot.channels.web.app import create_app
from tests.conftest import to_the_summary, web_config
from tests.images import jpeg_with_gps

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PHONE = {"width": 390, "height": 844}


async def open_connected(page, site: str | None) -> None:
    """Opens the page (reloads it when `site` is None) and the chat, and waits for the
    connection: offline, typed text stays in the field (it is never queued)."""
    await (page.reload() if site is None else page.goto(site))
    await page.get_by_test_id("jalerte-bubble").click()
    await expect(page.get_by_test_id("jalerte-panel")).to_have_attribute("data-connection", "ready")


async def bot_says(page, text: str) -> None:
    await expect(page.get_by_test_id("jalerte-bot").filter(has_text=text).last).to_be_visible(
        timeout=15_000
    )


async def choose(page, label: str) -> None:
    await page.get_by_test_id("jalerte-choice").filter(has_text=label).last.click()


async def report_with_a_photo(page, tmp_path, first: str) -> None:
    """A person types `first` (a mobile network problem), answers with the buttons, adds a
    photo, sends, and sees the reference."""
    field = page.get_by_test_id("jalerte-input")
    await field.fill(first)
    await field.press("Enter")
    await bot_says(page, "technologie")
    await choose(page, "4G")
    await bot_says(page, "Depuis quand")
    await choose(page, "Plus d'un mois")
    await bot_says(page, "service client")
    photo = tmp_path / "antenne.jpg"
    photo.write_bytes(jpeg_with_gps())
    await page.get_by_test_id("jalerte-file").set_input_files(str(photo))
    await bot_says(page, "Photo ajoutée")
    await choose(page, "Non")
    await bot_says(page, "Tout est correct")
    await choose(page, "Envoyer")
    await bot_says(page, "Référence")


async def test_complete_an_alert_on_a_phone_and_find_it_after_reload(browser, site, tmp_path):
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    await page.goto(site)
    bubble = page.get_by_test_id("jalerte-bubble")
    await bubble.click()
    panel = page.get_by_test_id("jalerte-panel")
    await expect(panel).to_be_visible()
    assert (await panel.bounding_box())["width"] <= PHONE["width"]  # fits the phone

    await report_with_a_photo(
        page, tmp_path, "aucun réseau SFR dans mon village à Lannion, ça a toujours été comme ça"
    )
    await expect(page.get_by_role("link", name="WhatsApp")).to_be_visible()
    reference = page.locator(".ref").first  # never cut mid-code on a narrow screen
    await expect(reference).to_have_text(re.compile(r"^JA-[A-Z0-9]{8}$"))
    assert await reference.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "widget-phone.png"))

    await page.reload()
    await page.get_by_test_id("jalerte-bubble").click()
    log = page.get_by_test_id("jalerte-log")
    await expect(log).to_contain_text("aucun réseau SFR dans mon village", timeout=15_000)
    await expect(log).to_contain_text("Référence")
    await context.close()


async def test_keyboard_only(browser, site):
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(site)
    await page.get_by_test_id("jalerte-bubble").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("jalerte-panel")).to_be_visible()
    await page.get_by_test_id("jalerte-input").focus()
    await page.keyboard.type("bonjour")
    await page.keyboard.press("Enter")
    await bot_says(page, "Décrivez")
    await page.keyboard.press("Escape")
    await expect(page.get_by_test_id("jalerte-panel")).to_be_hidden()
    assert await page.evaluate(
        "document.querySelector('[data-jalerte-host], body > *:last-child') !== null"
    )
    await context.close()


async def test_user_text_is_shown_as_text_not_html(browser, site):
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    dialogs = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await open_connected(page, site)
    field = page.get_by_test_id("jalerte-input")
    await field.fill('<img src=x onerror="alert(1)"> Orange me facture trop')
    await field.press("Enter")
    await expect(page.get_by_test_id("jalerte-user").last).to_contain_text("<img src=x")
    await bot_says(page, "Cela concerne")
    assert dialogs == []
    await context.close()


async def test_staff_console_in_a_browser(browser, aiohttp_server, sqlite_bot, tmp_path):
    from dialogues.events import ChoiceEvent
    from storage.staff import StaffRepository

    for user, first in (
        ("u1", "colis DPD perdu depuis 10 jours"),
        ("u2", "Free me facture deux fois ma box"),
    ):
        await to_the_summary(sqlite_bot, first, user=user)
        await sqlite_bot.send(ChoiceEvent("confirm:send"), user=user)
    await StaffRepository(sqlite_bot.db).add_user("agent", "correct horse battery staple")
    # Default configuration: Secure cookies, which browsers accept on localhost.
    server = await aiohttp_server(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))
    base = str(server.make_url("/")).rstrip("/")

    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = await context.new_page()
    await page.goto(f"{base}/staff/alerts")
    await expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    await page.get_by_label("Nom").fill("agent")
    await page.get_by_label("Mot de passe").fill("correct horse battery staple")
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("heading", name=re.compile("Alertes"))).to_be_visible()
    await expect(page.locator("table.alerts tbody tr")).to_have_count(2)

    await page.get_by_label("Secteur").select_option("postal")
    await page.get_by_role("button", name="Filtrer").click()
    await expect(page.locator("table.alerts tbody tr")).to_have_count(1)
    await page.locator("table.alerts tbody tr a").first.click()
    await expect(page.get_by_role("heading", name=re.compile("Alerte JA-"))).to_be_visible()
    await expect(page.locator("dl.fields")).to_contain_text("DPD")

    await page.get_by_role("link", name="Voir la conversation").click()
    await expect(page.locator("ol.transcript")).to_contain_text("colis DPD perdu")
    first_user = page.locator("li.user").first
    await first_user.locator("summary").click()
    await first_user.get_by_label("Problème").select_option("parcel_delivery")
    await first_user.get_by_role("button", name="Enregistrer").click()
    await expect(page.locator("li.user.annotated")).to_have_count(1)

    await page.get_by_role("link", name="Statistiques").click()
    await expect(page.locator("svg[role=img]").first).to_be_visible()
    await expect(page.locator("section.chart").first).to_contain_text("DPD")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "staff-stats.png"), full_page=True)

    await page.get_by_role("link", name="Alertes", exact=True).click()
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="CSV").click()
    download = await download_info.value
    content = Path(await download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and b"dpd" in content
    await context.close()


async def test_erase_my_data_from_the_widget(browser, site):
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    await open_connected(page, site)
    field = page.get_by_test_id("jalerte-input")
    await field.fill("colis Chronopost perdu depuis dix jours")
    await field.press("Enter")
    await bot_says(page, "Où")
    forget = page.get_by_role("button", name="Effacer mes données")
    await forget.click()
    await bot_says(page, "C'est définitif")
    await page.get_by_test_id("jalerte-choice").filter(has_text="Oui, tout effacer").click()
    await bot_says(page, "C'est fait")
    await open_connected(page, None)  # reloaded, same session id: nothing comes back
    await expect(page.get_by_test_id("jalerte-user")).to_have_count(0)
    await context.close()


async def test_an_idle_chat_comes_back_when_the_person_acts(
    browser, aiohttp_server, sqlite_bot, tmp_path
):
    """The server closes a socket nobody used; the widget stays quiet (no reconnection
    loop) and reconnects, same conversation, when the person writes or chooses again."""
    config = web_config(tmp_path, web_idle_seconds=1.5)
    server = await aiohttp_server(create_app(config, rt=sqlite_bot.runtime))
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket))
    await open_connected(page, str(server.make_url("/")))
    panel, field = page.get_by_test_id("jalerte-panel"), page.get_by_test_id("jalerte-input")
    await field.fill("colis Chronopost perdu depuis 10 jours")
    await field.press("Enter")
    await bot_says(page, "Où")
    await expect(panel).to_have_attribute("data-connection", "idle", timeout=10_000)
    await page.wait_for_timeout(3000)
    assert len(sockets) == 1 and await panel.get_attribute("data-connection") == "idle"
    await expect(page.get_by_test_id("jalerte-status")).to_have_text("")

    await field.fill("Nantes")  # typed and sent as if nothing had happened
    await field.press("Enter")
    await bot_says(page, "service client")
    await expect(panel).to_have_attribute("data-connection", "idle", timeout=10_000)
    await choose(page, "Non")  # a button of the last turn, pressed after the close
    await bot_says(page, "Tout est correct")
    assert len(sockets) == 3
    log = page.get_by_test_id("jalerte-log")
    await expect(log).to_contain_text("colis Chronopost perdu depuis 10 jours")
    await expect(page.get_by_test_id("jalerte-user")).to_have_count(3)
    await context.close()
