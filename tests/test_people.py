"""People as they are, played against the real model and a real SQLite file.

tests/people/*.yml were written by three independent writers (helper sessions given
docs/people-brief.md and one population each: elderly and rural people; SMS, angry and
English speakers; small businesses, town halls, tech-savvy and overseas people), who
never saw the training data nor the held-out sets. Each person answers in sentences, hedges, asks a question
mid-way or corrects one field at the summary (see tests/people_driver.py). Each must
reach a saved alert with every field they gave right, with no question asked twice.
`bench/people.py` prints the same figures for the whole table.
"""

from __future__ import annotations

import pytest

from tests.people_driver import PEOPLE_DIR, load_people, play

# tests/people_fresh/ came later from a fourth writer and was measured before any fix
# it prompted (see the issue notes); both are now part of the table.
# tests/people_corrections/ (a fifth writer: each person corrects one field in a sentence
# at the summary) was measured at 10/24 before the fixes of issue 19, item 5.
# tests/people_corrections/writer_i.yml (a seventh writer, 30 corrections in sentences and
# 6 long messages naming several operators) was written as a held-out set for issue 19 and
# measured once, unseen: 25/36 before the session's changes, 25/36 with roles alone; its
# failures then guided the fixes, so it joined this table (tests/people_heldout_j/ took
# its place as the measure).
# tests/people_corrections_heldout/ (a sixth writer, the same brief, other people) was
# never shown to whoever changed the dialogue: `bench/people.py --dir` measures it
# (8/24 before item 5, 13/24 after); it is kept out of this table so that it stays a
# measure, not a target.
PEOPLE = (
    load_people()
    + load_people(PEOPLE_DIR.with_name("people_fresh"))
    + load_people(PEOPLE_DIR.with_name("people_corrections"))
)
# People the bot still fails, with why: each one is a known gap, checked to still fail
# (strict), so that fixing it shows up here.
KNOWN_GAPS: dict[str, str] = {
    "d_dyslexique_livebox": "« ah non en fé sa coupe pa vrément, c plutau tré tré lan tou le tan »: a category "
    "correction in phonetic spelling is not read (outage stays instead of slow speed)",
    "f_peter-issigeac": "a category correction in a sentence (« it isn't weak signal any longer, there is "
    "no service ») and a second town named as a landmark change the place instead",
}


def _case(person):
    marks = (
        [pytest.mark.xfail(reason=KNOWN_GAPS[person.name], strict=True)]
        if person.name in KNOWN_GAPS
        else []
    )
    return pytest.param(person, id=f"{person.writer}-{person.name}", marks=marks)


def test_the_table_is_large_and_varied() -> None:
    assert len(PEOPLE) >= 40
    assert len({p.writer for p in PEOPLE}) >= 3
    assert sum(bool(p.correction) for p in PEOPLE) >= 10
    assert sum(bool(p.question) for p in PEOPLE) >= 10
    assert sum(p.expect.get("user_type") != "individual" for p in PEOPLE) >= 8
    assert sum(p.expect.get("sector") == "postal" for p in PEOPLE) >= 6


@pytest.mark.parametrize("person", [_case(p) for p in PEOPLE])
async def test_person(sqlite_bot, person) -> None:
    async def send(event):
        return await sqlite_bot.send(event, user=person.name)

    outcome = await play(send, person)
    assert outcome.problem is None, outcome.story()
    assert outcome.saved is not None, outcome.story()
    assert outcome.wrong == {}, outcome.story()
    assert outcome.repeated == [], outcome.story()
    stored = await sqlite_bot.repository.alert(outcome.saved["id"])
    assert stored == outcome.saved  # what the person was told is what is stored
