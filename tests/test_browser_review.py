"""The conversations list, the review inbox and the funnel in a real browser (Chromium
through Playwright), at desktop and phone width."""

from __future__ import annotations

import re

from playwright.async_api import expect
from sqlalchemy import select

from bot.channels.web.app import create_app
from dialogues.events import ChoiceEvent
from storage.models import Annotation, Message
from storage.staff import StaffRepository
from tests.conftest import web_config
from tests.test_browser import ARTIFACTS, PHONE
from tests.test_staff_review import ANSWERS, Story

PASSWORD = "correct horse battery staple"


async def open_console(browser, sqlite_bot, aiohttp_server, tmp_path, viewport):
    await StaffRepository(sqlite_bot.db).add_user("agent", PASSWORD)
    server = await aiohttp_server(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))
    base = str(server.make_url("/")).rstrip("/")
    context = await browser.new_context(viewport=viewport, locale="fr-FR")
    page = await context.new_page()
    await page.goto(f"{base}/staff/conversations")
    await page.get_by_label("Nom").fill("agent")
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("heading", name=re.compile("Conversations"))).to_be_visible()
    return context, page, base


async def stories(sqlite_bot) -> dict[str, Story]:
    made = {}
    s = made["alert"] = Story(sqlite_bot, "alert")
    await s.to_summary("Free me facture deux fois ma box")
    await s.say("non c'est SFR pas Free", correcting=True)  # corrected in plain words
    for _ in range(4):
        if s.expecting == "summary":
            break
        await s.say(ANSWERS.get(s.expecting or "", "non"))
    await s.say(ChoiceEvent("confirm:send"))
    assert s.alert and s.alert["operator"] == "sfr"
    await s.say(ChoiceEvent("rating:not_useful"))
    s = made["lost"] = Story(sqlite_bot, "lost", channel="web")
    await s.say("xqzw plomf grutz")
    s = made["repeat"] = Story(sqlite_bot, "repeat", channel="web")
    await s.say("aucun réseau SFR dans mon village")
    await s.say("aide")
    assert s.repeats
    return made


async def test_conversations_list_and_its_filters(browser, aiohttp_server, sqlite_bot, tmp_path):
    await stories(sqlite_bot)
    context, page, _ = await open_console(
        browser, sqlite_bot, aiohttp_server, tmp_path, {"width": 1280, "height": 900}
    )
    rows = page.locator("table.conversations tbody tr")
    await expect(rows).to_have_count(3)
    await expect(page.get_by_role("heading", name="Conversations (3)")).to_be_visible()

    await page.get_by_label("Issue").select_option(label="Alerte enregistrée")
    await page.get_by_role("button", name="Filtrer").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Conseils jugés pas utiles")

    await page.get_by_label("Issue").select_option("")
    await page.get_by_label("Canal").select_option(label="Widget web")
    await page.get_by_role("button", name="Filtrer").click()
    await expect(rows).to_have_count(2)
    await page.get_by_label("Question reposée").check()
    await page.get_by_role("button", name="Filtrer").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Question reposée")

    await page.get_by_label("Question reposée").uncheck()
    await page.get_by_label("Recherche").fill("plomf")
    await page.get_by_role("button", name="Filtrer").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Widget web")
    await expect(rows.first).to_contain_text(re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d"))
    await rows.first.get_by_role("link").click()
    await expect(page.locator("ol.transcript")).to_contain_text("xqzw plomf grutz")

    # At phone width the table scrolls inside its box; the page does not widen.
    await page.set_viewport_size(PHONE)
    await page.goto(page.url.split("/staff/")[0] + "/staff/conversations")
    await expect(rows).to_have_count(3)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "staff-conversations-phone.png"), full_page=True)
    await context.close()


async def test_inbox_correct_and_reassign(browser, aiohttp_server, sqlite_bot, tmp_path):
    await stories(sqlite_bot)
    context, page, base = await open_console(browser, sqlite_bot, aiohttp_server, tmp_path, PHONE)
    await page.get_by_role("link", name="À vérifier").click()
    await expect(
        page.get_by_role("heading", name=re.compile("Messages à vérifier"))
    ).to_be_visible()
    items = page.locator("ol.inbox > li:not(.empty)")
    before = await items.count()
    assert before >= 1
    lost = items.filter(has_text="xqzw plomf grutz")
    await expect(lost).to_have_count(1)
    await expect(lost).to_contain_text("Modèle incertain")

    # « Corriger »: what the person meant, chosen by its label.
    await lost.get_by_text("Corriger").click()
    await lost.get_by_label("Intention").select_option(label="Hors sujet")
    await lost.get_by_role("button", name="Enregistrer la correction").click()
    await expect(
        page.get_by_role("heading", name=re.compile("Messages à vérifier"))
    ).to_be_visible()
    await expect(items.filter(has_text="xqzw plomf grutz")).to_have_count(0)
    await expect(items).to_have_count(before - 1)

    # « C'est juste » on the correction typed to the bot (its parse names an intent).
    fix = items.filter(has_text="non c'est SFR pas Free")
    await expect(fix).to_contain_text("Bot corrigé par la personne")
    await fix.get_by_role("button", name="C'est juste").click()
    await expect(
        page.get_by_role("heading", name=re.compile("Messages à vérifier"))
    ).to_be_visible()
    await expect(items.filter(has_text="non c'est SFR pas Free")).to_have_count(0)
    confirmed_text = "non c'est SFR pas Free"

    await page.get_by_label("État").select_option(label="Vérifiés")
    await page.get_by_role("button", name="Filtrer").click()
    await expect(items.filter(has_text="xqzw plomf grutz")).to_contain_text("Vérifié par agent")
    await expect(items.filter(has_text="xqzw plomf grutz")).to_contain_text("Retenu : Hors sujet")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "staff-inbox-phone.png"), full_page=True)

    async with sqlite_bot.db.session() as session:
        notes = (
            await session.execute(
                select(Message.text, Annotation.intent).join(
                    Annotation, Annotation.message_id == Message.id
                )
            )
        ).all()
    assert ("xqzw plomf grutz", "out_of_scope") in notes
    assert any(text == confirmed_text and intent for text, intent in notes)
    await context.close()


async def test_funnel_against_counts_from_the_conversations(
    browser, aiohttp_server, sqlite_bot, tmp_path
):
    made = await stories(sqlite_bot)
    context, page, base = await open_console(
        browser, sqlite_bot, aiohttp_server, tmp_path, {"width": 1280, "height": 900}
    )
    await page.get_by_role("link", name="Parcours").click()
    await expect(page.get_by_role("heading", name="Où les personnes s'arrêtent")).to_be_visible()
    await expect(page.locator("#started")).to_have_text(str(len(made)))
    await expect(page.locator("#alerts")).to_have_text(
        str(sum(1 for s in made.values() if s.alert))
    )
    saved = [s.sent_before_alert for s in made.values() if s.alert]
    await expect(page.locator("#median")).to_have_text(str(saved[0]))
    funnel = page.locator("section.chart").first
    await expect(funnel.locator("svg[role=img]")).to_be_visible()
    table = funnel.locator("table")

    def row(name: str):
        return table.locator("tr").filter(has=page.locator("th", has_text=name))

    await expect(row("Conversations commencées").locator("td").first).to_have_text("3")
    await expect(row("Alerte enregistrée").locator("td").first).to_have_text("1")
    await expect(row("Conseils notés").locator("td").first).to_have_text("1")
    summary = sum("summary" in s.asked for s in made.values())
    await expect(row("Récapitulatif atteint").locator("td").first).to_have_text(str(summary))
    repeated = page.locator("section.chart").nth(1).locator("table")
    repeats = [r for s in made.values() for r in s.repeats]
    await expect(repeated.locator("tbody tr")).to_have_count(len(set(repeats)))
    if len(set(repeats)) == 1:
        await expect(repeated.locator("tbody td").first).to_have_text(str(len(repeats)))

    await page.locator("select[name=channel]").select_option(label="Widget web")
    await page.get_by_role("button", name="Filtrer").click()
    await expect(page.locator("#started")).to_have_text("2")
    await expect(page.locator("#alerts")).to_have_text("0")
    await page.locator("input[name=start]").fill("2000-01-01")
    await page.locator("input[name=end]").fill("2000-01-31")
    await page.get_by_role("button", name="Filtrer").click()
    await expect(page.locator("#started")).to_have_text("0")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "staff-funnel.png"), full_page=True)
    await context.close()


async def test_a_transcript_reads_well_on_a_phone(browser, aiohttp_server, sqlite_bot, tmp_path):
    """Dates in Paris time, labels instead of ids, a thumbnail for a photo, and the long
    share links of a saved alert wrap inside a 390-pixel page."""
    from dialogues.service import IncomingPhoto
    from tests.conftest import to_the_summary
    from tests.images import image_bytes

    await to_the_summary(sqlite_bot)
    await sqlite_bot.send(IncomingPhoto(image_bytes("PNG", size=(60, 40))))
    alert = (await sqlite_bot.send(ChoiceEvent("confirm:send"))).alert
    context, page, base = await open_console(browser, sqlite_bot, aiohttp_server, tmp_path, PHONE)
    await page.goto(f"{base}/staff/conversations/{alert['conversation_id']}")
    text = await page.locator("main").inner_text()
    assert re.search(r"\d\d/\d\d/20\d\d \d\d:\d\d", text)  # « 27/11/2026 21:05 »
    assert "T" not in re.findall(r"\d{4}-\d\d-\d\d(T)?", text)  # no raw ISO dates
    assert "Problème : Colis" in text and "category =" not in text
    thumb = page.locator("ol.transcript img.thumb").first
    await expect(thumb).to_be_visible()
    # the picture, served (decode() waits for its download, and fails on a broken one)
    assert await thumb.evaluate("i => i.decode().then(() => i.naturalWidth > 0, () => false)")
    assert "https://x.com/intent/tweet" in text  # the share links are there…
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # …and wrap instead of widening the page
    await page.goto(f"{base}/staff/alerts/{alert['id']}")
    text = await page.locator("main").inner_text()
    assert re.search(r"Date\s+\d\d/\d\d/20\d\d \d\d:\d\d", text) and "widget" not in text
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await context.close()


async def test_an_alert_about_several_operators_in_the_statistics(
    browser, aiohttp_server, sqlite_bot, tmp_path
):
    """One dead-zone alert about Orange and SFR, one about Orange alone: two alerts in
    all, Orange counted twice and SFR once in the operators' table."""
    from tests.test_staff import make_alert

    several = await make_alert(
        sqlite_bot, "s1", "pas de réseau mobile ni Orange ni SFR à Murat 15300"
    )
    assert several["operators"] == ["orange", "sfr"]
    await make_alert(sqlite_bot, "s2", "pas de réseau Orange dans mon village à Gap")
    context, page, base = await open_console(
        browser, sqlite_bot, aiohttp_server, tmp_path, {"width": 1280, "height": 900}
    )
    await page.goto(f"{base}/staff/stats")
    await expect(
        page.get_by_role("heading", name=re.compile(r"Statistiques \(2 alertes\)"))
    ).to_be_visible()
    table = page.locator(
        "table", has=page.locator("caption", has_text="Alertes par opérateur et par problème")
    )
    await table.locator("xpath=ancestor::details").locator("summary").click()

    async def total_of(operator: str) -> str:
        row = table.locator("tbody tr", has=page.locator("th", has_text=operator))
        return (await row.locator("td").last.inner_text()).strip()

    assert await total_of("Orange") == "2" and await total_of("SFR") == "1"
    await page.goto(f"{base}/staff/alerts/{several['id']}")
    await expect(page.get_by_text("Orange, SFR (plusieurs opérateurs)")).to_be_visible()
    await context.close()
