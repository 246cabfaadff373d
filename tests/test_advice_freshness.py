"""Advice sheets age visibly: `jalerte doctor` and the staff model page warn about sheets
checked more than twelve months before today. Today is given to them by the test, so no
test changes its verdict with the calendar."""

from __future__ import annotations

from datetime import timedelta

import pytest

from advice_content.library import STALE_AFTER_MONTHS, AdviceLibrary, months_later
from bot.process.doctor import doctor, run_checks
from bot.console import model_views
from bot.channels.web.app import create_app
from domain.taxonomy import Taxonomy
from storage.staff import StaffRepository
from tests.conftest import web_config
from tests.test_staff import PASSWORD, log_in

SHEETS = AdviceLibrary.load(Taxonomy.load()).sheets
# Days taken from the sheets themselves: the first day every sheet is fresh, the first
# day every sheet is stale (whatever dates later checks write in the sheets).
ALL_FRESH = min(sheet.checked for sheet in SHEETS)
ALL_STALE = months_later(max(sheet.checked for sheet in SHEETS), STALE_AFTER_MONTHS) + timedelta(
    days=1
)


async def test_doctor_warns_about_sheets_checked_too_long_ago(tmp_path) -> None:
    config = web_config(tmp_path)
    fresh = {c.name: c for c in await run_checks(config, today=ALL_FRESH)}["advice sheets"]
    assert fresh.ok and not fresh.warning
    assert f"oldest check {ALL_FRESH:%Y-%m-%d}" in fresh.detail
    stale = {c.name: c for c in await run_checks(config, today=ALL_STALE)}["advice sheets"]
    assert stale.ok and stale.warning  # a warning: the service may still run
    assert "more than 12 months ago" in stale.detail and "update `checked`" in stale.detail
    assert all(f"{sheet.id} ({sheet.checked:%Y-%m-%d})" in stale.detail for sheet in SHEETS)


def test_doctor_prints_the_warning_with_its_own_mark(tmp_path, capsys) -> None:
    doctor(web_config(tmp_path), today=ALL_STALE)
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith("! advice sheets: checked more than 12 months ago") for line in lines
    )
    doctor(web_config(tmp_path), today=ALL_FRESH)
    assert "✓ advice sheets: facts checked within 12 months" in capsys.readouterr().out


@pytest.fixture
async def console(aiohttp_client, sqlite_bot, tmp_path):
    config = web_config(tmp_path, staff_secure_cookies=False)
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    await StaffRepository(sqlite_bot.db).add_user("agent", PASSWORD)
    return client


async def test_the_model_page_names_the_sheets_to_check_again(console, monkeypatch) -> None:
    await log_in(console)
    monkeypatch.setattr(model_views, "paris_today", lambda: ALL_STALE)
    page = await (await console.get("/staff/model")).text()
    ids = {sheet.id for sheet in SHEETS}
    assert f"{len(ids)} fiche(s) conseils vérifiée(s) il y a plus de 12 mois" in page
    for sheet in SHEETS:
        if sheet.language == "fr":
            assert (
                f"<code>{sheet.id}</code>, fr, en) : vérifiée le {sheet.checked:%d/%m/%Y}" in page
            )
    monkeypatch.setattr(model_views, "paris_today", lambda: ALL_FRESH)
    page = await (await console.get("/staff/model")).text()
    assert "il y a plus de 12 mois" not in page
    assert (
        f"Toutes les fiches ont été vérifiées il y a moins de 12 mois (la plus ancienne "
        f"le {ALL_FRESH:%d/%m/%Y})"
    ) in page
