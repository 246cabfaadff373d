"""Places as people type them, read against the official list of communes."""
from __future__ import annotations

import pytest

from nlu.places import Places

PLACES = Places.load()


@pytest.mark.parametrize("typed,answer,label", [
    ("st flour 15", True, "Saint-Flour (15100)"),
    ("Saint-Flour (15100)", False, "Saint-Flour (15100)"),
    ("je suis à saint flour dans le cantal", False, "Saint-Flour (15100)"),
    ("75011", True, "Paris (75011)"),  # a postcode alone: its commune, postcode kept
    ("Rodez 12000", True, "Rodez (12000)"),
    ("lannion", True, "Lannion (22300)"),  # a bare lower-case answer to "where?"
    ("mairie de Vic sur Cère", False, "Vic-sur-Cère (15800)"),
    ("97110", True, "Pointe-à-Pitre (97110)"),
    ("Lyon", True, "Lyon (69)"),  # several postcodes: the département
    ("15100", True, "15100"),  # several communes share it: the postcode alone
])
def test_places_are_read_into_one_label(typed: str, answer: bool, label: str) -> None:
    assert PLACES.read(typed, answer=answer) == label


@pytest.mark.parametrize("text", ["j'ai une orange", "vue sur mer", "dans le centre-ville",
                                  "chez moi", "pas de réseau"])
def test_ordinary_words_are_no_place(text: str) -> None:
    assert PLACES.read(text) is None
