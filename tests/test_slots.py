"""The slots' own readers, on sentences as people type them (no model needed)."""

from __future__ import annotations

import dataclasses

import pytest

from dialogues.engine import _confirms
from dialogues.slots import Utterance, Slots, contacted_answer, operator_named
from dialogues.state import Draft
from domain.fields import FIELD, QUESTION_ORDER
from domain.parse import empty_result
from domain.taxonomy import Taxonomy

TAXONOMY = Taxonomy.load()
SLOTS = Slots(TAXONOMY)


def said(text: str, **parse) -> Utterance:
    return Utterance(dataclasses.replace(empty_result(text), **parse), text)


@pytest.mark.parametrize(
    "text, value",
    [
        ("Mais oui justement, j'ai appelé au moins dix fois", "yes"),
        ("nn j'ai contacté personne", "no"),
        ("Monsieur le Maire a adressé un courrier à SFR en octobre, resté sans réponse", "yes"),
        ("mi sé pa si mon petit-fils la téléphoné", "unknown"),
        ("non, jamais réussi à les joindre", "no"),
        ("oui deux fois par téléphone", "yes"),
        ("Not yet, my French on the phone isn't good enough", "no"),
    ],
)
def test_customer_service_answers_in_sentences(text: str, value: str) -> None:
    draft = Draft()
    assert SLOTS["contacted_customer_service"].answer(draft, said(text))
    assert draft.contacted_customer_service == value


@pytest.mark.parametrize(
    "text",
    [
        "oui je les ai appelés deux fois, rien",  # typed while the technology was asked
        "on les a contactées trois fois",
        "ma mère les a appelés plusieurs fois",
        "I called them twice, nothing",
    ],
)
def test_a_contact_told_while_another_question_is_asked_is_kept(text: str) -> None:
    """Said as the answer to another question, the contact is not asked again (the
    participle agrees with « les »: the person called them)."""
    assert SLOTS["contacted_customer_service"].stated(said(text)) == "yes"


@pytest.mark.parametrize(
    "name, text, value",
    [
        ("technology", "la 4G", "4g"),  # typed at the next question, after a give-up
        ("contacted_customer_service", "ah si, je les ai appelés deux fois", "yes"),
    ],
)
def test_a_value_stated_after_a_dont_know_replaces_it(name: str, text: str, value: str) -> None:
    draft = Draft(sector="mobile", **{name: "unknown"})
    SLOTS[name].absorb(draft, said(text, technology="4g" if "4G" in text else None), False)
    assert getattr(draft, name) == value
    SLOTS[name].absorb(draft, said("je ne sais pas"), False)  # a value stays a value
    assert getattr(draft, name) == value


def test_the_first_words_decide_the_customer_service_answer() -> None:
    assert contacted_answer("non, mais j'ai ecrit au service client") == "no"


@pytest.mark.parametrize(
    "text, value",
    [
        ("4G mi croi, mé mi connais pa bien sa", "4g"),
        ("l adsl par le fil du telephone on a pas la fibre ici", "adsl"),
        ("It's ADSL on the old copper phone line.", "adsl"),
        ("Je ne saurais vous dire, nous ne captons rien", "unknown"),
        ("Par radio, une antenne sur le toit qui vise le relais.", "radio"),
    ],
)
def test_technologies_with_hedges(text: str, value: str) -> None:
    draft = Draft(sector="mobile" if value in ("4g", "unknown") else "fixed")
    assert SLOTS["technology"].answer(draft, said(text))
    assert draft.technology == value


def test_a_technology_button_of_another_sector_is_refused() -> None:
    draft = Draft(sector="mobile", category="coverage")
    assert SLOTS["technology"].choose(draft, "radio") is False
    assert draft.technology is None


@pytest.mark.parametrize(
    "text, name",
    [
        ("c'est Kiwi Télécom, un petit opérateur local", "Kiwi Télécom"),
        ("Nous passons par Alsatis, un petit fournisseur d'accès par radio", "Alsatis"),
        ("ca sert a quoi de vous ecrire vous allez venir le reparer vous", None),
        ("Ȝ", None),  # found by the property test: letters that fold to nothing
    ],
)
def test_operators_outside_the_list(text: str, name: str | None) -> None:
    assert operator_named(text) == name


def test_a_known_brand_typed_in_small_talk_is_the_operator() -> None:
    draft = Draft(sector="mobile")
    assert SLOTS["operator"].answer(
        draft, said("Zeop, c'est mon petit-fils la pri sa pou moin", intent="chitchat")
    )
    assert draft.operator == "zeop"


@pytest.mark.parametrize(
    "text, parse, guess, taken",
    [
        ("Nova", {"intent": "deny"}, "Nova", None),  # read as « non » by the model: asked once
        ("Neuf", {"intent": "inform"}, "Neuf", None),  # an ordinary word: asked once
        ("La Banque Postale", {"intent": "inform"}, "La Banque Postale", None),
        ("Transatel", {"intent": "nlu_fallback"}, None, "Transatel"),  # no word: taken
        ("Kiwi Télécom", {"intent": "inform"}, None, "Kiwi Télécom"),
    ],
)
def test_a_name_we_do_not_list_is_taken_or_asked_once(text, parse, guess, taken) -> None:
    draft = Draft(sector="mobile")
    assert SLOTS["operator"].answer(draft, said(text, **parse))
    assert (draft.operator_guess, draft.operator_text, draft.operator) == (guess, taken, None)


def test_a_name_asked_once_is_taken_on_yes_or_typed_after_no() -> None:
    slot = SLOTS["operator"]
    draft = Draft(sector="mobile", operator_guess="Nova")
    assert [c.value for c in slot.question(draft, "fr").choices] == [
        "operator:typed",
        "operator:other",
    ]
    assert slot.answer(draft, said("oui", intent="affirm"))
    assert (draft.operator_text, draft.operator_guess) == ("Nova", None)
    draft = Draft(sector="mobile", operator_guess="Nova")
    assert slot.answer(draft, said("non", intent="deny"))
    assert draft.operator_guess == "" and slot.empty(draft)  # « Écrivez le nom »
    assert slot.answer(draft, said("Nova", intent="deny"))  # now taken as typed
    assert (draft.operator_text, draft.operator_guess) == ("Nova", None)


@pytest.mark.parametrize("guess", [None, ""])  # asked, or after « Autre opérateur »
def test_none_at_the_operator_question_skips_it(guess) -> None:
    draft = Draft(sector="mobile", operator_guess=guess)
    assert SLOTS["operator"].answer(draft, said("aucun", intent="deny"))
    assert "operator" in draft.skipped and draft.operator_text is None


@pytest.mark.parametrize(
    "text, parse",
    [
        ("oui", {"intent": "affirm"}),
        ("merci", {"intent": "thank"}),
        ("ok", {"intent": "affirm"}),
        ("plus rien ne marche", {"intent": "report", "is_report": True}),
    ],
)
def test_plain_words_are_no_operator_name(text, parse) -> None:
    draft = Draft(sector="mobile")
    assert not SLOTS["operator"].answer(draft, said(text, **parse))
    assert SLOTS["operator"].empty(draft) and draft.operator_guess is None


@pytest.mark.parametrize(
    "name, draft, text, value",
    [
        ("operator", Draft(sector="mobile"), "Zorg Telecom", (None, "Zorg Telecom", ())),
        ("operator", Draft(sector="mobile"), "oui", (None, None, ())),
        ("operator", Draft(sector="mobile", operator_guess="Nova"), "bof", (None, "Nova", ())),
        ("category", Draft(category_guesses=["outage", "billing"]), "bof", "outage"),
        ("category", Draft(sector="postal"), "bof", "other"),
        ("technology", Draft(sector="mobile", category="coverage"), "bof", "unknown"),
        ("contacted_customer_service", Draft(), "bof", "unknown"),
        ("sector", Draft(category="parcel_delivery"), "bof", "postal"),
        ("description", Draft(), "xyzzy", "xyzzy"),
    ],
)
def test_after_two_unread_answers_the_bot_takes_what_it_has(name, draft, text, value) -> None:
    slot = SLOTS[name]
    slot.give_up(draft, said(text, intent="nlu_fallback"))
    assert slot.value(draft) == value and not slot.needed(draft)


def test_a_skipped_description_is_not_asked_again() -> None:
    draft = Draft()
    SLOTS["description"].give_up(draft, said(""))
    assert not SLOTS["description"].needed(draft)


@pytest.mark.parametrize(
    "text, lang, value",
    [
        ("An outage, no connection at all.", "en", "category:outage"),
        ("it's down", "en", "category:outage"),
        ("no network at all", "en", "category:coverage"),
        ("not an outage", "en", None),  # set aside
        ("pas de réseau", "fr", "category:coverage"),
        ("pas une panne", "fr", None),
        ("débit lent le soir", "fr", "category:slow_speed"),
        ("le service ne marche plus", "fr", None),  # outage or customer service: no clear best
        ("xyzzy plop", "fr", None),
    ],
)
def test_the_words_of_a_button_offered_press_it(text: str, lang: str, value) -> None:
    from dialogues.engine import _named_choice
    from dialogues.messages import label

    offered = [[label("category", c, lang), f"category:{c}"] for c in TAXONOMY.categories]
    assert _named_choice(text, offered) == value


def test_a_question_is_no_operator_name() -> None:
    draft = Draft(sector="mobile")
    assert not SLOTS["operator"].answer(
        draft, said("Pourriez-vous m'indiquer ce que la mairie peut faire ?", intent="help")
    )
    assert draft.operator_text is None


@pytest.mark.parametrize(
    "text, sector",
    [
        ("Internet de la maison, pas le portable.", "fixed"),
        ("mon tel portable", "mobile"),
        ("c'est pour des lettres", "postal"),
    ],
)
def test_sectors_in_words(text: str, sector: str) -> None:
    draft = Draft()
    assert SLOTS["sector"].answer(draft, said(text))
    assert draft.sector == sector


@pytest.mark.parametrize(
    "text, sends",
    [
        ("Oui, c'est parfait Madame, vous pouvez l'envoyer.", True),
        ("C'est exact. Vous pouvez transmettre, avec nos remerciements.", True),
        ("Validé, envoyez.", True),
        ("Yes that's all correct, please send it.", True),
        ("ok go, send", True),
        ("non ne l'envoyez pas", False),
        ("attendez", False),
    ],
)
def test_sending_from_the_summary_in_words(text: str, sends: bool) -> None:
    assert _confirms(said(text)) is sends


def test_the_questions_a_problem_needs_come_from_the_taxonomy() -> None:
    follow_ups = tuple(n for n in QUESTION_ORDER if FIELD[n].categories is not None)
    asked = {
        c: tuple(
            n
            for n in follow_ups
            if SLOTS[n].needed(Draft(category=c, sector=TAXONOMY.categories[c].sectors[0]))
        )
        for c in TAXONOMY.categories
    }
    assert asked == {
        c: TAXONOMY.categories[c].asks
        if TAXONOMY.categories[c].sectors[0] != "postal"
        else tuple(a for a in TAXONOMY.categories[c].asks if a != "technology")
        for c in TAXONOMY.categories
    }
    assert asked["billing"] == () and asked["parcel_delivery"] == ("location", "started_on")


def test_every_slot_has_one_name_everywhere() -> None:
    from dialogues.messages import label, text

    for slot in SLOTS:
        text(f"hint_{slot.name}", "fr")  # a hint for when its answer cannot be read
        if slot.fixable:
            assert label("fields", slot.name, "fr") != slot.name
    for name in ("sector", "category", "user_type", "technology", "contacted_customer_service"):
        draft = Draft(sector="fixed", category="outage")
        question = SLOTS[name].question(draft, "fr")
        assert all(c.value.startswith(f"{name}:") for c in question.choices)


@pytest.mark.parametrize(
    "text, networks",
    [
        (
            "moi c'est orange... et mon fils c'est sfr je crois... les deux ça marche pas",
            ["orange", "sfr"],
        ),
        (
            "J'ai testé :\n- Orange (forfait pro)\n- SFR (prépayée)\n- Free Mobile\nAucun ne passe",
            ["orange", "sfr", "free"],
        ),
        ("On a eu Orange, puis SFR, et là on est chez Bouygues", ["orange", "sfr", "bouygues"]),
        ("c'est SFR pas Orange", ["sfr"]),  # set aside
        ("RED by SFR", ["sfr"]),  # one name inside a longer one
        ("Sosh et Orange", ["orange"]),  # one company
        ("tous les réseaux sauf Free : Orange, SFR, Bouygues", ["orange", "sfr", "bouygues"]),
    ],
)
def test_the_networks_an_answer_lists_however_it_is_written(text: str, networks) -> None:
    from dialogues.slots import OperatorSlot

    assert OperatorSlot(TAXONOMY)._networks_named(text, "mobile") == networks
