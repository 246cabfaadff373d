"""Places as people type them, read against the official list of communes."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reading.places import Places, _km

PLACES = Places.load()


@pytest.mark.parametrize(
    "typed,answer,label",
    [
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
        ("Cilaos, a Palmiste Rouge", True, "Cilaos (97413)"),  # punctuation hides no name
        ("Naucelle, dans l'Aveyron. La ferme est à 4 km du bourg.", True, "Naucelle (12800)"),
        ("Baie-Mahault, vers Jarry", True, "Baie-Mahault (97122)"),
        ("Castelnau-le-Lez (34170), à côté de Montpellier", True, "Castelnau-le-Lez (34170)"),
        ("pas à Rennes mais à Cesson-Sévigné", False, "Cesson-Sévigné (35510)"),
        # A capital that only opens a sentence is weaker than one inside it (Ligné, 44).
        ("Ligne fixe coupée depuis l'orage. Gîte à Evisa.", False, "Évisa (20126)"),
        # A region that is also a commune (Bretagne, 90) comes after a commune; « le bureau
        # de poste de X » is in X.
        (
            "un colis envoyé de Bretagne, le bureau de poste de Felletin n'a rien",
            False,
            "Felletin (23500)",
        ),
        # « ne capte pas à Quimper » negates the verb, not the place.
        ("Orange ne capte pas à Quimper", False, "Quimper (29000)"),
        ("sent to my work address in Rezé, not Nantes", False, "Rezé (44400)"),
        ("à St Gilles (commune de St Paul), La Réunion", False, "Saint-Paul (974)"),
        ("un immeuble rue de Lannoy à Roubaix", False, "Roubaix (59100)"),
        ("near Sarlat", True, "Sarlat-la-Canéda (24200)"),
        ("au Lamentin", True, "Le Lamentin (97232)"),
        ("saint brieu, dan les cote d armor", True, "Saint-Brieuc (22000)"),  # one typo
        # The first two words of a smaller commune's name, when both are names.
        ("notre maison à Font-Romeu, le technicien", False, "Font-Romeu-Odeillo-Via (66120)"),
        ("aux saintes maries", True, "Saintes-Maries-de-la-Mer (13460)"),
        # « au », « aux » swallow the article of Le Mans, Les Vans.
        ("je suis au Mans depuis lundi", False, "Le Mans (72)"),
        ("vigneron aux Vans en Ardèche", False, "Les Vans (07140)"),
        # The last part of a name, as locals say it, capitalised after « à » or as an answer.
        ("on a un surf shop à Hossegor et depuis samedi", False, "Soorts-Hossegor (40150)"),
        ("Montalivet", True, "Vendays-Montalivet (33930)"),
        # A district named like a small commune elsewhere, then its city.
        ("livreur vers st cyprien a toulouse, plus de 4g", False, "Toulouse (31)"),
        ("un colis envoyé de Marseille à Paris", False, "Paris (75)"),  # as before
        ("à Saint-Cyprien à côté de Perpignan", False, "Saint-Cyprien (66750)"),
        # three words make a name even when the first is an everyday word (« le bourg »)
        ("jhabite a bourg st maurice, ds la vallée", False, "Bourg-Saint-Maurice (73700)"),
        ("port st louis du rhone", True, "Port-Saint-Louis-du-Rhône (13230)"),
        # The start of a name and a postcode that several communes share: the one it starts.
        ("port en bessin, 14520", True, "Port-en-Bessin-Huppain (14520)"),
        ("14520", True, "14520"),  # the postcode alone stays a postcode
    ],
)
def test_places_are_read_into_one_label(typed: str, answer: bool, label: str) -> None:
    assert PLACES.read(typed, answer=answer) == label


@pytest.mark.parametrize(
    "text",
    [
        "j'ai une orange",
        "vue sur mer",
        "dans le centre-ville",
        "chez moi",
        "pas de réseau",
        "au lieu dit les granges",
        "depuis le passage du cyclone",
        "merci, bon repos à vous",
        "le bas de la rue",
        "au port",
        "je vais au bureau",
        "à la même adresse",
        "le bourg est coupé du monde",
    ],
)
def test_ordinary_words_are_no_place(text: str) -> None:
    assert PLACES.read(text) is None


@pytest.mark.parametrize(
    "answer",
    [
        "dans mon village",
        "a la maison",
        "la campagne",
        "chez mes parents",
        "mon quartier",
        "partout en france",
    ],
)
def test_everyday_answers_to_where_are_no_commune(answer: str) -> None:
    assert PLACES.read(answer, answer=True) is None


def test_a_question_back_is_no_mistyped_commune() -> None:
    """« faut-il porter plainte ? » asked at « où ? »: not Plaintel with a typo."""
    assert (
        PLACES.read("est-ce qu'il faut porter plainte à la gendarmerie pour ça ?", answer=True)
        is None
    )
    assert PLACES.read("plaintell", answer=True) == "Plaintel (22940)"


@pytest.mark.parametrize(
    "latitude,longitude,label",
    [
        (47.9960, -4.1020, "Quimper (29000)"),  # central Quimper, by the cathedral
        (45.7640, 4.8357, "Lyon (69)"),  # Presqu'île: several postcodes, so the département
        (-20.8789, 55.4481, "Saint-Denis (974)"),  # Saint-Denis de La Réunion, not 93
        (48.8566, 2.3522, "Paris (75)"),
    ],
)
def test_a_shared_position_reads_as_its_commune(
    latitude: float, longitude: float, label: str
) -> None:
    assert PLACES.nearest(latitude, longitude) == label


@pytest.mark.parametrize(
    "latitude,longitude",
    [
        (40.0, -35.0),  # the middle of the Atlantic
        (47.5, -6.0),  # at sea, more than 15 km off Brittany
        (0.0, 0.0),
        (90.0, 180.0),
        (-90.0, -180.0),
    ],
)
def test_a_position_far_from_any_commune_is_none(latitude: float, longitude: float) -> None:
    assert PLACES.nearest(latitude, longitude) is None


@given(st.floats(min_value=-90, max_value=90), st.floats(min_value=-180, max_value=180))
@settings(max_examples=300, deadline=None)
def test_nearest_never_raises(latitude: float, longitude: float) -> None:
    label = PLACES.nearest(latitude, longitude)
    assert label is None or label.endswith(")")


def test_nearest_agrees_with_a_scan_of_every_commune() -> None:
    """The grid index finds what comparing with every commune finds."""
    communes = [c for found in PLACES._by_name.values() for c in found if c.latitude is not None]
    rng = random.Random(7)
    for _ in range(60):
        lat, lon = rng.uniform(41, 51.5), rng.uniform(-5.5, 9.8)
        near = min(communes, key=lambda c: _km(lat, lon, c.latitude, c.longitude))
        expected = near.label() if _km(lat, lon, near.latitude, near.longitude) <= 15 else None
        assert PLACES.nearest(lat, lon) == expected


@pytest.mark.parametrize(
    ("text", "answer", "expected"),
    [
        # People say « Clermont » for Clermont-Ferrand, « Charleville » for Charleville-Mézières.
        ("Clermont", True, "Clermont-Ferrand (63)"),
        ("en 5G à Clermont (vers la place de Jaude) ça rame", False, "Clermont-Ferrand (63)"),
        ("Charleville", True, "Charleville-Mézières (08000)"),
        # « Saint-Dié » for Saint-Dié-des-Vosges: its first two words, not Die (Drôme).
        (
            "internet est très lent chez moi à Saint-Dié depuis des semaines",
            False,
            "Saint-Dié-des-Vosges (88100)",
        ),
        ("St Dié", True, "Saint-Dié-des-Vosges (88100)"),
        ("Saint-Brevin", True, "Saint-Brevin-les-Pins (44250)"),
        ("à Die", False, "Die (26150)"),
        # …but a commune that bears the name alone and is not dwarfed keeps it.
        ("Bourg", True, "Bourg (33710)"),
    ],
)
def test_the_city_people_mean_by_a_short_name(text: str, answer: bool, expected: str) -> None:
    assert PLACES.read(text, answer=answer) == expected


def test_a_capitalised_commune_comes_before_a_lower_case_word() -> None:
    # « la ligne » is also Ligné (44): where lower-case names count, Riom still wins.
    text = (
        "Pardon je me suis mal expliqué : la ligne coupée c'est celle de ma mère, chez "
        "elle à Riom. Moi j'habite Clermont mais ma ligne marche très bien."
    )
    assert PLACES.read(text, answer=True) == "Riom (63200)"
