"""The statistics from one SQL GROUP BY equal those counted alert by alert."""

from __future__ import annotations

from bot.console.stats import dashboard, groups_of, load_customer_base
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
    assert combos and all(
        not taxonomy.alert_problems(
            {"sector": s, "category": c, "operator": o, "user_type": u, "technology": None}
        )
        for s, c, o, u in combos
    )


async def test_every_saved_alert_is_counted_as_it_is_saved(bot) -> None:
    from tests.test_staff import make_alert

    for i, first in enumerate(
        (
            "Orange me facture deux fois ma box",
            "colis DPD perdu depuis 10 jours",
            "pas de réseau SFR dans mon village",
        )
    ):
        await make_alert(bot, f"p{i}", first)
    repo, bases = StaffRepository(bot.db), load_customer_base()
    alerts, total = await repo.alerts(AlertFilter(), page_size=None)
    assert total == 3
    assert dashboard(await repo.alert_groups(AlertFilter()), bases) == dashboard(
        groups_of(alerts), bases
    )


async def test_an_alert_about_several_operators_counts_once_in_all(bot, taxonomy) -> None:
    """« ni Orange ni SFR » : one alert, once in the total and per sector, problem,
    month…, once for Orange and once for SFR; the same from the kept counts, from the
    alerts grouped in SQL, from the alerts one by one, and after a rebuild."""
    from tests.test_staff import make_alert

    several = await make_alert(bot, "s1", "pas de réseau mobile ni Orange ni SFR à Murat 15300")
    assert several["operator"] is None and several["operators"] == ["orange", "sfr"]
    await make_alert(bot, "s2", "pas de réseau Orange à Quimper")
    await make_alert(bot, "s3", "Orange me facture deux fois ma box")
    repo, bases = StaffRepository(bot.db), load_customer_base()

    def check(board) -> None:
        assert board.total == 3
        assert board.by_operator_category["orange"]["coverage"] == 2
        assert board.by_operator_category["sfr"]["coverage"] == 1
        assert sum(board.by_sector.values()) == 3 and board.by_sector["mobile"] == 2
        assert board.by_category["coverage"] == 2
        assert sum(count for _, count in board.by_month) == 3
        assert sum(board.by_channel.values()) == sum(board.by_user_type.values()) == 3
        per_100k = {(r["operator"], r["sector"]): r["alerts"] for r in board.per_100k}
        assert per_100k.get(("orange", "mobile"), 2) == 2
        assert per_100k.get(("sfr", "mobile"), 1) == 1

    alerts, total = await repo.alerts(AlertFilter(), page_size=None)
    assert total == 3
    counted = dashboard(await repo.alert_groups(AlertFilter()), bases)  # alert_counts
    check(counted)
    check(dashboard(groups_of(alerts), bases))
    by_sql = dashboard(await repo.alert_groups(AlertFilter(photo=False)), bases)  # alerts
    check(by_sql)
    assert counted == dashboard(groups_of(alerts), bases)
    async with bot.db.session() as session, session.begin():
        await rebuild(session)
    check(dashboard(await repo.alert_groups(AlertFilter()), bases))
    # The exports read the operators of each alert.
    exported = [a async for batch in repo.alert_batches(AlertFilter()) for a in batch]
    assert {a["id"]: a["operators"] for a in exported}[several["id"]] == ["orange", "sfr"]
    opendata = [row async for batch in repo.opendata_groups(AlertFilter()) for row in batch]
    assert sum(row[-1] for row in opendata if row[3] == "sfr") == 1
    assert sum(row[-1] for row in opendata if row[3] == "orange") == 3
    # Filtered on an operator: the alert is found under each of its operators, once.
    for operator in ("orange", "sfr"):
        found, n = await repo.alerts(AlertFilter(operator=operator), page_size=None)
        assert several["id"] in [a["id"] for a in found]
        for flt in (AlertFilter(operator=operator), AlertFilter(operator=operator, photo=False)):
            board = dashboard(await repo.alert_groups(flt), bases)
            assert board.total == n and list(board.by_operator_category) == [operator]
