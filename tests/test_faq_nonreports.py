"""Questions that describe no problem get the catalogue's answer; the same words asking
about a problem do not (they start a report), issue 19, item 3."""
from __future__ import annotations

import pytest

from dialogues.faq import Faq

FAQ = Faq.load()


@pytest.mark.parametrize("text, answer", [
    ("A quelle heure ferme le bureau de poste de Vichy ?", "post_office"),
    ("le bureau de poste est ouvert le samedi ?", "post_office"),
    ("c'est combien un timbre ?", "post_office"),
    ("Bonjour, est-ce que mon forfait marche en Espagne cet été ?", "roaming_abroad"),
    ("does my plan work in Spain?", "roaming_abroad"),
    ("Pourquoi la 5G est dangereuse ?", "waves_health"),
    ("est-ce que les antennes relais sont dangereuses pour la santé ?", "waves_health"),
    ("ma banque peut me prendre des frais deux fois ?", "other_sectors"),
    ("comment contester une facture d'électricité trop élevée ?", "other_sectors"),
    ("à qui se plaindre d'une émission de télé ?", "other_sectors"),
])
def test_a_question_without_a_problem_is_answered(text: str, answer: str) -> None:
    found = FAQ.answer(text)
    assert found is not None and found.id == answer


@pytest.mark.parametrize("text", [
    "c'est normal que j'ai plus de réseau depuis 3 jours ?",
    "mon forfait marche pas en italie ?",
    "pourquoi internet ne marche pas au portugal ?",
    "my plan doesn't work in Spain?",
    "on m'a facturé 30 euros en Espagne, c'est normal ?",
    "pourquoi le bureau de poste est fermé depuis 3 semaines ?",
    "ma banque a prélevé deux fois mon forfait SFR, c'est normal ?",
    "pas de réseau mobile pendant la coupure d'électricité, c'est normal ?",
])
def test_a_question_that_describes_a_problem_is_no_faq(text: str) -> None:
    assert FAQ.answer(text) is None
