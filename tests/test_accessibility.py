"""RGAA: axe-core (axe-playwright-python) in Chromium finds no serious or critical violation
in the widget (open, mid-conversation, after saving), the console's pages, the alert
summary and the accessibility statement."""

from __future__ import annotations

import re

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from bot.channels.web.app import create_app
from tests.conftest import to_the_summary, web_config
from tests.test_browser import ARTIFACTS, PHONE, bot_says, choose, open_connected

AXE = Axe()
BLOCKING = {"serious", "critical"}


async def assert_accessible(page, name: str) -> None:
    """No serious or critical violation; every violation found is written to
    test-artifacts/axe-<name>.txt (moderate and minor ones included), with the rules axe
    could not decide (to review by hand)."""
    results = await AXE.run(page)
    violations = results.response["violations"]
    ARTIFACTS.mkdir(exist_ok=True)
    review = sorted(
        {
            f"{i['id']} ({i['impact']}): "
            + "; ".join(
                f"{' > '.join(map(str, n['target']))} [{(n['any'] or n['all'] or [{}])[0].get('message', '')}]"
                for n in i["nodes"]
            )
            for i in results.response["incomplete"]
        }
    )
    (ARTIFACTS / f"axe-{name}.txt").write_text(
        (results.generate_report() if violations else "no violation\n")
        + "\nto review by hand (axe could not decide):\n"
        + ("\n".join(review) or "none")
        + "\n",
        encoding="utf-8",
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{name}:\n" + "\n".join(
        results.generate_report(v["id"]) for v in blocking
    )


async def assert_accessible_both_widths(page, name: str) -> None:
    """Desktop, then phone width (where the console's navigation once wrapped off its
    blue band: white links on grey, a contrast failure)."""
    size = page.viewport_size
    await assert_accessible(page, name)
    await page.set_viewport_size(PHONE)
    await assert_accessible(page, name + "-phone")
    await page.set_viewport_size(size)


# A lost parcel to a saved alert: (typed or pressed, what the bot says next) per language.
SAVE_STEPS = {
    "fr": [
        ("type", "colis Chronopost perdu depuis 10 jours", "Où"),
        ("type", "Nantes", "service client"),
        ("press", "Non", "Tout est correct"),
        ("press", "Envoyer", "Référence"),
    ],
    "en": [
        ("type", "my Chronopost parcel was lost 10 days ago", "Where"),
        ("type", "Nantes", "customer service"),
        ("press", "No", "correct"),
        ("press", "Send", "Reference"),
    ],
}


async def save_an_alert(page, lang: str = "fr") -> None:
    field = page.get_by_test_id("jalerte-input")
    for how, what, then in SAVE_STEPS[lang]:
        if how == "type":
            await field.fill(what)
            await field.press("Enter")
        else:
            await choose(page, what)
        await bot_says(page, then)


async def test_widget_has_no_serious_violation(browser, site):  # noqa: F811
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    await page.goto(site)
    await assert_accessible(page, "demo-page")  # the host page and the closed bubble
    await open_connected(page, None)
    await assert_accessible(page, "widget-open")
    field = page.get_by_test_id("jalerte-input")
    await field.fill("colis Chronopost perdu depuis 10 jours")
    await field.press("Enter")
    await bot_says(page, "Où")
    await assert_accessible(page, "widget-mid-conversation")
    await field.fill("Nantes")
    await field.press("Enter")
    await bot_says(page, "service client")
    await choose(page, "Non")
    await bot_says(page, "Tout est correct")
    await choose(page, "Envoyer")
    await bot_says(page, "Référence")
    await expect(page.get_by_test_id("jalerte-summary")).to_be_visible()
    await assert_accessible(page, "widget-saved")
    await page.set_viewport_size({"width": 1280, "height": 900})  # the panel beside the page
    await assert_accessible(page, "widget-saved-desktop")
    await context.close()


async def test_accessibility_statement(browser, site):  # noqa: F811
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(site)
    await page.get_by_role("link", name=re.compile("partiellement conforme")).click()
    await expect(page.get_by_role("heading", name="Déclaration d'accessibilité")).to_be_visible()
    main = page.locator("main")
    for words in (
        "partiellement conforme",
        "axe-core",
        "Défenseur des droits",
        "Retour d'information et contact",
        "Voies de recours",
    ):
        await expect(main).to_contain_text(words)
    await assert_accessible(page, "statement")
    await context.close()


async def test_console_has_no_serious_violation(
    browser,
    aiohttp_server,
    sqlite_bot,  # noqa: F811
    tmp_path,
):
    from dialogues.events import ChoiceEvent
    from storage.staff import StaffRepository

    await to_the_summary(sqlite_bot)
    await sqlite_bot.send(ChoiceEvent("confirm:send"))
    await StaffRepository(sqlite_bot.db).add_user("agent", "correct horse battery staple")
    server = await aiohttp_server(create_app(web_config(tmp_path), rt=sqlite_bot.runtime))
    base = str(server.make_url("/")).rstrip("/")

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{base}/staff/alerts")
    await expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    await assert_accessible_both_widths(page, "console-login")
    await page.get_by_label("Nom").fill("agent")
    await page.get_by_label("Mot de passe").fill("correct horse battery staple")
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("heading", name=re.compile("Alertes"))).to_be_visible()
    await assert_accessible_both_widths(page, "console-alerts")
    await page.locator("table.alerts tbody tr a").first.click()
    await expect(page.get_by_role("heading", name=re.compile("Alerte JA-"))).to_be_visible()
    await assert_accessible_both_widths(page, "console-alert")
    await page.get_by_role("link", name="Voir la conversation").click()
    await expect(page.locator("ol.transcript")).to_be_visible()
    await assert_accessible_both_widths(page, "console-transcript")
    await page.get_by_role("link", name="Statistiques").click()
    await expect(page.locator("svg[role=img]").first).to_be_visible()
    await assert_accessible_both_widths(page, "console-stats")
    # The pages added for issue 12 (conversations, review inbox, funnel, NLU model); at
    # phone width the funnel's tables once scrolled in boxes the keyboard could not reach.
    for path in ("conversations", "inbox", "funnel", "model"):
        await page.goto(f"{base}/staff/{path}")
        await expect(page.locator("h1")).to_be_visible()
        await assert_accessible_both_widths(page, f"console-{path}")
    link = page.get_by_role("link", name=re.compile("Accessibilité"))
    await expect(link).to_have_attribute("href", "/accessibilite")
    await context.close()
