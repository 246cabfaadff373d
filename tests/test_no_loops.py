"""A disagreement between two fields is settled, never asked forever: when the person
answers the question about one field with the same value again, the other field (the
area) is what was wrong, and it is asked instead."""

from __future__ import annotations

from dialogues.events import ChoiceEvent
from tests.conftest import to_the_summary


async def test_an_operator_chosen_again_for_another_area_asks_the_area(sqlite_bot) -> None:
    bot = sqlite_bot
    await to_the_summary(bot)  # a DPD parcel, at the summary
    out = await bot.send("non c'est pas DPD, c'est Orange, la ligne fixe de la boutique")
    asked = [out.expecting]
    for _ in range(3):  # the person insists on Orange, by its button
        if out.expecting != "operator":
            break
        out = await bot.send(ChoiceEvent("operator:orange"))
        asked.append(out.expecting)
    assert asked.count("operator") <= 2, asked
    state = await bot.service.state_of("cli", "alice")
    assert state.draft.operator == "orange"
    # The area is asked (or settled) with Orange's own: never « courrier » again.
    assert state.draft.sector in (None, "fixed", "mobile")
    assert state.draft.category not in ("parcel_delivery", "mail_delivery")


async def test_a_summary_never_comes_without_its_problem(sqlite_bot) -> None:
    """The area settled by a button while the problem was asked (an older keyboard):
    the problem is asked, no summary shows without it."""
    bot = sqlite_bot
    await to_the_summary(bot)
    await bot.send("non c'est pas DPD, c'est Orange, la ligne fixe de la boutique")
    await bot.send(ChoiceEvent("operator:orange"))
    out = await bot.send(ChoiceEvent("sector:fixed"))
    state = await bot.service.state_of("cli", "alice")
    assert state.draft.category is None
    assert out.expecting == "category"
