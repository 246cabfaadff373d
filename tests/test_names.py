"""Operators outside the list, as people name them (reading/names.py): one reader for
the answers, the corrections and the first message."""

from __future__ import annotations

import pytest

from reading.names import named_after_my_operator, named_in_sentence, operator_named

ORDINARY = frozenset({"only", "nova", "neuf", "orange"})
BRANDS = frozenset({"orange", "sfr", "free", "bouygues", "bouygues telecom"})


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("c'est Kiwi Télécom, un petit opérateur local", "Kiwi Télécom"),
        ("c'est la puce SRR, mon mari il a acheté", "SRR"),
        ("une carte SIM Lebara", "Lebara"),
        ("la box Vialis", "Vialis"),
        ("Only, l'ancien Outremer Telecom", "Only"),
        # « c » is SMS for « c'est » only as a word: the C of a name stays
        ("Crédit Mutuel Mobile, la banque quoi", "Crédit Mutuel Mobile"),
        ("c Kiwi", "Kiwi"),
        ("le forfait de mon fils", None),
        ("ma box ADSL", None),  # what the line is, not who provides it
        ("un forfait 5G", None),
        ("la box internet", None),
        ("ça sert à quoi de vous écrire", None),
    ],
)
def test_the_name_typed_as_the_answer(answer: str, name: str | None) -> None:
    assert operator_named(answer) == name


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("en fait je suis chez Vialis maintenant", "Vialis"),
        ("c'est Only mon opérateur maintenant", "Only"),
        ("mon fournisseur d'accès c'est FAImaison", "FAImaison"),
        ("I'm with Zen now", "Zen"),
        ("c'est only maintenant", None),  # a word without its capital
        ("je suis chez moi", None),
        ("je suis chez Orange maintenant", None),  # a brand of the list is read elsewhere
    ],
)
def test_a_name_inside_a_sentence(sentence: str, name: str | None) -> None:
    assert named_in_sentence(sentence, ORDINARY, BRANDS) == name


def test_a_name_set_aside_is_not_read_from_the_whole_message() -> None:
    # what is left of « plus chez Vialis, c'est Orange » once the name is set aside
    assert (
        named_in_sentence(
            "  , c'est Orange", ORDINARY, BRANDS, typed_in="plus chez Vialis, c'est Orange"
        )
        is None
    )


def test_a_name_right_after_my_operator_in_a_first_message() -> None:
    text = "mon opérateur Only a augmenté mon forfait de 3 euros sans me demander"
    assert named_after_my_operator(text, ORDINARY, BRANDS) == "Only"
    assert named_after_my_operator("mon opérateur a augmenté mon forfait", ORDINARY, BRANDS) is None
    # (« chez » alone is the dialogue's: a first message may be « je dors chez Paul »)
    assert named_after_my_operator("la 4G ne passe pas chez Paul", ORDINARY, BRANDS) is None
