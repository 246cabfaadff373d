"""« Depuis quand ? »: the day a problem started, read from what people write, asked only
for outages, coverage, slow speed and deliveries, shown, saved, exported and counted.

The clock is the test's (time-machine): the expected days are written out by hand."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogues.events import ChoiceEvent
from reading.dates import started_on
from storage.exports import alerts_csv

C = ChoiceEvent
# Monday 7 December 2026, 10:00 in Paris (UTC+1).
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    "text, day",
    [
        ("Plus de réseau depuis 3 semaines", date(2026, 11, 16)),
        ("panne depuis hier soir", date(2026, 12, 6)),
        ("ça fait deux jours que j'ai plus internet", date(2026, 12, 5)),
        ("plus rien depuis lundi", date(2026, 11, 30)),  # said on a Monday: a week
        ("colis attendu depuis le 28/11, toujours rien", date(2026, 11, 28)),
        ("depuis le 12 novembre", date(2026, 11, 12)),
        ("depuis le 20 décembre", date(2025, 12, 20)),  # never a day to come
        ("depuis début novembre", date(2026, 11, 1)),
        ("depuis fin octobre", date(2026, 10, 25)),
        ("depuis plus d'un mois", date(2026, 11, 7)),
        ("depuis une quinzaine de jours", date(2026, 11, 22)),
        ("il y a 10 jours", date(2026, 11, 27)),
        ("depuis ce matin", date(2026, 12, 7)),
        ("depuis le week-end", date(2026, 12, 5)),
        ("ça a commencé le 1er décembre", date(2026, 12, 1)),
        ("no signal for a week now", date(2026, 11, 30)),
        ("it's been 3 days", date(2026, 12, 4)),
        ("3 days ago the fibre died", date(2026, 12, 4)),
        ("since November 12", date(2026, 11, 12)),
    ],
)
def test_a_start_said_with_its_anchor_is_read_from_any_message(text, day) -> None:
    assert started_on(text, TODAY) == day


@pytest.mark.parametrize(
    "text",
    [
        "j'ai appelé hier",
        "livraison prévue sous 3 jours",
        "depuis mon portable",
        "depuis chez moi ça marche pas",
        "depuis toujours",
        "Free me facture 3 mois de trop",
        "le 12 novembre j'ai payé",
        "I called them for Orange",
    ],
)
def test_a_time_that_does_not_say_when_the_problem_started_is_not_read(text) -> None:
    assert started_on(text, TODAY) is None


@pytest.mark.parametrize(
    "answer, day",
    [
        ("hier", date(2026, 12, 6)),
        ("lundi", date(2026, 11, 30)),
        ("3 semaines", date(2026, 11, 16)),
        ("le 3", date(2026, 12, 3)),
        ("c'est depuis vendredi", date(2026, 12, 4)),
        ("Friday", date(2026, 12, 4)),
        ("fin octobre", date(2026, 10, 25)),
        ("aujourd'hui", TODAY),
        # words around the time, as people answer
        ("reçu mardi", date(2026, 12, 1)),
        ("ben la semaine dernière je crois", date(2026, 11, 30)),
        # seasons and the school year: the most recent start past
        ("depuis l'hiver je dirais, avant c'etait moins pire", date(2026, 12, 1)),
        ("l'hiver dernier", date(2025, 12, 1)),
        ("depuis l'été", date(2026, 6, 1)),
        ("depuis la rentrée", date(2026, 9, 1)),
        ("depuis la rentrée de janvier", date(2026, 1, 1)),
        ("since the summer", date(2026, 6, 1)),
        # a vague time followed by a precise one: the precise one
        ("depuis longtemps, au moins 2 ans", date(2024, 12, 7)),
        ("ça a été coupé mardi soir", date(2026, 12, 1)),  # « été » here is no summer
        ("depuis l'hiver 2024", date(2024, 12, 1)),
    ],
)
def test_typed_as_the_answer_a_bare_time_is_enough(answer, day) -> None:
    assert started_on(answer, TODAY) in (None, day)
    assert started_on(answer, TODAY, answer=True) == day


@pytest.mark.parametrize(
    "answer",
    [
        "depuis toujours dans ce coin",
        "ça fait un bail",
        "depuis longtemps",
        "forever",
        # a time read around the words, never one that is no start
        "depuis la mise à jour du téléphone",
        "tous les soirs vers 20h",
        "depuis que je suis rentrée de vacances",
        "depuis toujours, ça coupe 2 jours par semaine",
    ],
)
def test_a_time_with_no_day_to_place_gives_no_day(answer) -> None:
    assert started_on(answer, TODAY, answer=True) is None


UNITS = {"jours": 1, "semaines": 7, "mois": 30, "days": 1, "weeks": 7, "months": 30}


@settings(max_examples=200, deadline=None)
@given(
    today=st.dates(date(2020, 1, 1), date(2035, 12, 31)),
    n=st.integers(2, 40),
    unit=st.sampled_from(sorted(UNITS)),
    lead=st.sampled_from(["depuis", "ça fait", "il y a", "for", "since"]),
)
def test_a_duration_goes_back_exactly_that_long_whatever_the_day(today, n, unit, lead) -> None:
    text = f"plus de réseau {lead} {n} {unit}"
    assert started_on(text, today) == today - timedelta(days=n * UNITS[unit])


@settings(max_examples=200, deadline=None)
@given(
    today=st.dates(date(2020, 1, 1), date(2035, 12, 31)),
    text=st.text(
        alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyz0123456789 /'-éû")), max_size=60
    ),
    answer=st.booleans(),
)
def test_the_start_is_never_a_day_to_come(today, text, answer) -> None:
    for said in (text, f"depuis {text}", f"il y a {text}"):
        day = started_on(said, today, answer=answer)
        assert day is None or day <= today


# -- in conversation (the real model) ---------------------------------------------------
async def _summary_of(bot, out) -> str:
    return "\n".join(r.plain_text() for r in out.replies)


# What a person answers to each question on the way (the buttons they would press).
ANSWERS = {
    "category": None,
    "technology": C("technology:4g"),
    "contacted_customer_service": "non",
    "location": "Rodez",
}


async def _on_to(bot, out, until: str = "confirmation", user: str = "alice", **answers):
    """Answers the bot's questions until it asks `until`; the questions asked."""
    asked = []
    while out.expecting not in (until, None):
        asked.append(out.expecting)
        assert len(asked) < 8, asked
        out = await bot.send({**ANSWERS, **answers}[out.expecting], user=user)
    return out, asked


async def test_said_in_the_first_message_it_is_not_asked_and_is_shown_and_saved(bot) -> None:
    with time_machine.travel(MONDAY, tick=False):
        out = await bot.send("Plus aucun réseau SFR depuis 3 semaines à Rodez, en 4G")
        out, asked = await _on_to(bot, out, category=C("category:coverage"))
        assert "started_on" not in asked
        assert "Depuis\u00a0: le 16 novembre (3 semaines)" in await _summary_of(bot, out)
        out = await bot.send(C("confirm:send"))
    assert out.alert["started_on"] == "2026-11-16"
    assert (await bot.repository.alert(out.alert_id))["started_on"] == "2026-11-16"


async def test_a_delivery_asks_since_when_and_the_buttons_and_words_answer(bot) -> None:
    with time_machine.travel(MONDAY, tick=False):
        out = await bot.send("Mon colis Chronopost n'est jamais arrivé, j'habite à Brest")
        out, _ = await _on_to(bot, out, "started_on", category=C("category:parcel_delivery"))
        assert "Depuis quand" in await _summary_of(bot, out)
        assert {c.value for r in out.replies for c in r.choices} >= {
            "started_on:yesterday",
            "started_on:week",
            "started_on:skip",
        }
        out = await bot.send("euh bof")  # asked again, with what it expects
        assert out.expecting == "started_on"
        assert "le 12 novembre" in await _summary_of(bot, out)
        out = await bot.send("depuis jeudi dernier")
        out, asked = await _on_to(bot, out)
        assert "started_on" not in asked
        assert "Depuis\u00a0: le 3 décembre (4 jours)" in await _summary_of(bot, out)


async def test_a_button_sets_a_lower_bound_and_i_dont_know_skips(bot) -> None:
    with time_machine.travel(MONDAY, tick=False):
        out = await bot.send("Plus de réseau Orange à Quimper, ça ne capte plus du tout")
        out, _ = await _on_to(bot, out, "started_on", category=C("category:coverage"))
        out = await bot.send(C("started_on:month"))
        out, _ = await _on_to(bot, out)
        assert "Depuis\u00a0: le 7 novembre (1 mois)" in await _summary_of(bot, out)
        out = await bot.send(C("confirm:send"))
        assert out.alert["started_on"] == "2026-11-07"
        out = await bot.send("Ma box Bouygues est en panne à Lille, plus d'internet", user="bob")
        out, _ = await _on_to(
            bot,
            out,
            "started_on",
            user="bob",
            category=C("category:outage"),
            technology=C("technology:fibre"),
        )
        out = await bot.send("je ne sais pas", user="bob")
        out, asked = await _on_to(bot, out, user="bob")
        assert "started_on" not in asked
        assert "Depuis\u00a0:" not in await _summary_of(bot, out)
        out = await bot.send(C("confirm:send"), user="bob")
        assert out.alert["started_on"] is None


async def test_an_answer_about_time_with_no_day_is_taken_and_not_asked_again(bot) -> None:
    with time_machine.travel(MONDAY, tick=False):
        out = await bot.send("Zéro réseau Bouygues dans les vignes à Verzenay, ni appel ni data")
        out, _ = await _on_to(bot, out, "started_on", category=C("category:coverage"))
        out = await bot.send("depuis toujours dans ce coin, on s'en rend compte aux vendanges")
        assert out.expecting != "started_on"
        out, asked = await _on_to(bot, out)
        assert "started_on" not in asked
        assert "Depuis\u00a0:" not in await _summary_of(bot, out)


async def test_a_bill_never_asks_since_when(bot) -> None:
    out = await bot.send("Free me facture deux fois mon forfait mobile")
    out, asked = await _on_to(bot, out, category=C("category:billing"))
    assert "started_on" not in asked
    assert "Depuis" not in await _summary_of(bot, out)


async def test_a_sentence_at_the_summary_changes_the_start_and_nothing_else(bot) -> None:
    with time_machine.travel(MONDAY, tick=False):
        out = await bot.send("Plus aucun réseau SFR depuis 3 semaines à Rodez, en 4G")
        out, _ = await _on_to(bot, out, category=C("category:coverage"))
        before = await bot.service.state_of("cli", "alice")
        out = await bot.send("en fait ça a commencé le 12 novembre")
        said = await _summary_of(bot, out)
        assert out.expecting == "confirmation", said
        assert "le 16 novembre (3 semaines) → le 12 novembre (3 semaines)" in said
        after = await bot.service.state_of("cli", "alice")
        changed = {k for k, v in vars(after.draft).items() if vars(before.draft)[k] != v}
        assert changed <= {"started_on", "description"}, changed
        out = await bot.send(C("confirm:send"))
    assert out.alert["started_on"] == "2026-11-12"
    assert (out.alert["operator"], out.alert["location"]) == ("sfr", "Rodez (12000)")


async def test_the_exports_and_the_statistics_carry_it(bot) -> None:
    with time_machine.travel(MONDAY, tick=False):
        out = await bot.send("Plus aucun réseau SFR depuis 3 semaines à Rodez, en 4G")
        out, _ = await _on_to(bot, out, category=C("category:coverage"))
        out = await bot.send(C("confirm:send"))
    stored = await bot.repository.alert(out.alert_id)
    from domain.taxonomy import Taxonomy

    rows = list(
        csv.DictReader(
            io.StringIO(alerts_csv([stored], Taxonomy.load()).decode("utf-8-sig")), delimiter=";"
        )
    )
    assert rows[0]["started_on"] == "2026-11-16"
    from storage.staff import AlertFilter, StaffRepository

    durations = await StaffRepository(bot.db).started_durations(AlertFilter())
    assert durations == {7: 1}  # three weeks: the « 1 à 4 semaines » bar


@pytest.mark.parametrize(
    "text",
    [
        "non je me suis trompée pour Bouygues, on a Free depuis mars",
        "je suis client chez Orange depuis 10 ans",
        "j'habite ici depuis 2 ans",
        "on a la fibre depuis l'été dernier",
        "abonné SFR depuis 2019",
    ],
)
def test_since_when_something_is_held_is_not_since_when_it_fails(text) -> None:
    assert started_on(text, TODAY) is None


@pytest.mark.parametrize(
    "text, day",
    [
        ("chez Free, plus d'internet depuis lundi", date(2026, 11, 30)),
        ("ma box est en panne depuis 3 jours", date(2026, 12, 4)),
        ("la fibre coupe depuis le 1er décembre", date(2026, 12, 1)),
        ("Bonjour, plus d'internet sur ma box SFR depuis samedi à Albi", date(2026, 12, 5)),
    ],
)
def test_what_fails_since_a_day_is_still_read_next_to_what_is_held(text, day) -> None:
    assert started_on(text, TODAY) == day
