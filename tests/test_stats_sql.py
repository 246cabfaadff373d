"""The statistics from one SQL GROUP BY equal those counted alert by alert."""
from __future__ import annotations

from bot.staff.stats import dashboard, groups_of, load_customer_base
from storage.counts import rebuild
from storage.models import Alert
from storage.seed import seed_alerts, valid_combinations
from storage.staff import AlertFilter, StaffRepository


async def test_grouped_statistics_equal_the_alert_by_alert_count(bot, taxonomy) -> None:
    await seed_alerts(bot.db, taxonomy, 400, seed=3)
    async with bot.db.session() as session, session.begin():  # typed operators too
        for n, text in enumerate(("tous les 4", "Coriolis", "tous les 4")):
            alert = await session.get(Alert, f"SEED-{n:011d}")
            alert.operator, alert.operator_text = None, text
        await rebuild(session)  # edited behind the repository's back: counted again
    repo = StaffRepository(bot.db)
    bases = load_customer_base()
    for flt in (AlertFilter(), AlertFilter(sector="mobile"), AlertFilter(category="billing")):
        alerts, total = await repo.alerts(flt, page_size=None)
        grouped = dashboard(await repo.alert_groups(flt), bases)
        counted = dashboard(groups_of(alerts), bases)
        assert grouped == counted and grouped.total == total
    # Typed operators are never operators in the statistics, and their text is not kept.
    board = dashboard(await repo.alert_groups(AlertFilter()), bases)
    assert board.by_operator_category["autre (texte libre)"].total() == 3
    assert not any("tous les 4" in key for key in board.by_operator_category)
    # A filter the counts cannot answer (words of the description) reads the alerts.
    assert dashboard(await repo.alert_groups(AlertFilter(text="zzz")), bases).total == 0


def test_seeded_alerts_are_consistent(taxonomy) -> None:
    combos = valid_combinations(taxonomy)
    assert combos and all(not taxonomy.alert_problems(
        {"sector": s, "category": c, "operator": o, "user_type": u, "technology": None})
        for s, c, o, u in combos)


async def test_every_saved_alert_is_counted_as_it_is_saved(bot) -> None:
    from tests.test_staff import make_alert

    for i, first in enumerate(("Orange me facture deux fois ma box",
                               "colis DPD perdu depuis 10 jours",
                               "pas de réseau SFR dans mon village")):
        await make_alert(bot, f"p{i}", first)
    repo, bases = StaffRepository(bot.db), load_customer_base()
    alerts, total = await repo.alerts(AlertFilter(), page_size=None)
    assert total == 3
    assert dashboard(await repo.alert_groups(AlertFilter()), bases) == dashboard(
        groups_of(alerts), bases)
