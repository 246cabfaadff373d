"""French communes and postcodes: a place as people type it, read into one label.

"st flour 15", "Saint-Flour (15100)", "15100", "je suis à saint flour dans le cantal"
all become « Saint-Flour (15100) ». The data is Etalab's official list of communes
(`nlu/communes.tsv.gz`, derived from @etalab/decoupage-administratif 6.0.0 on the npm
registry, Licence Ouverte 2.0); rebuild it with
`python -m nlu.places package/data/communes.json`.
"""
from __future__ import annotations

import gzip
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from nlu.text import fold

COMMUNES_PATH = Path(__file__).with_name("communes.tsv.gz")
SOURCE = "@etalab/decoupage-administratif 6.0.0 (Licence Ouverte 2.0)"
_POSTCODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")
_DEPARTMENT = re.compile(r"(?<![\d\w])(\d{2}|2a|2b|97\d)(?![\d\w])")
_LONGEST_NAME_WORDS = 7


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    department: str
    postcodes: tuple[str, ...]
    population: int

    def label(self, postcode: str | None = None) -> str:
        """« Saint-Flour (15100) »; « Lyon (69) » when the commune has several postcodes."""
        if postcode is None and len(self.postcodes) == 1:
            postcode = self.postcodes[0]
        return f"{self.name} ({postcode or self.department})"


def _key(text: str) -> str:
    """A name as people may type it: no accents, case, hyphens; "st" is "saint"."""
    words = re.sub(r"[-'’_.]", " ", fold(text)).split()
    expand = {"st": "saint", "ste": "sainte", "s": "saint"}
    return " ".join(expand.get(w, w) for w in words)


class Places:
    def __init__(self, communes: list[Commune]):
        self._by_name: dict[str, list[Commune]] = {}
        self._by_postcode: dict[str, list[Commune]] = {}
        for commune in communes:
            self._by_name.setdefault(_key(commune.name), []).append(commune)
            for postcode in commune.postcodes:
                self._by_postcode.setdefault(postcode, []).append(commune)
        for found in self._by_name.values():
            found.sort(key=lambda c: -c.population)

    @classmethod
    def load(cls, path: Path = COMMUNES_PATH) -> "Places":
        communes = []
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                if line.startswith("#") or not line.strip():
                    continue
                code, name, department, postcodes, population = line.rstrip("\n").split("\t")
                communes.append(Commune(code, name, department,
                                        tuple(p for p in postcodes.split(",") if p),
                                        int(population or 0)))
        return cls(communes)

    def read(self, text: str, answer: bool = False) -> str | None:
        """The place `text` names, as « Commune (postcode) », or None if it names none.

        `answer`: the text answers "where?", so a lone lower-case word ("lannion") may
        be a commune; in a sentence it must be capitalised or pinned by a département.
        """
        key = _key(text)
        postcodes = _POSTCODE.findall(key)
        departments = {d.upper() for d in _DEPARTMENT.findall(key)}
        for postcode in postcodes:
            departments.add(postcode[:3] if postcode.startswith("97") else postcode[:2])
        commune = self._named(text, key, postcodes, departments, answer)
        if commune:
            postcode = next((p for p in postcodes if p in commune.postcodes), None)
            return commune.label(postcode)
        for postcode in postcodes:
            found = self._by_postcode.get(postcode, [])
            if len(found) == 1:
                return found[0].label(postcode)
            if found:
                return postcode
        return None

    def _named(self, text: str, key: str, postcodes: list[str],
               departments: set[str], answer: bool) -> Commune | None:
        words = key.split()
        capitalised = {fold(w) for w in re.findall(r"\b[A-ZÀ-Ý][\w'’-]*", text)}
        for n in range(min(_LONGEST_NAME_WORDS, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                found = self._by_name.get(" ".join(words[i:i + n]))
                if not found:
                    continue
                located = [c for c in found if c.department in departments
                           or set(postcodes) & set(c.postcodes)]
                if located:
                    return located[0]
                # A one-word name that is also a word ("orange", "vue", "bar") counts only
                # when written with a capital letter or pinned by a département.
                single = (n == 1 and not answer
                          and not any(_key(c) == words[i] for c in capitalised))
                if not single and len(words[i]) > 2:
                    return found[0]
        return None


def build(communes_json: Path, out: Path = COMMUNES_PATH) -> int:
    """Writes the compact communes file from Etalab's communes.json; returns the count."""
    rows = []
    for c in json.loads(communes_json.read_text(encoding="utf-8")):
        if c.get("type") != "commune-actuelle":
            continue
        rows.append("\t".join([c["code"], c["nom"], c.get("departement") or "",
                               ",".join(c.get("codesPostaux") or []),
                               str(c.get("population") or 0)]))
    head = (f"# French communes (commune-actuelle) from {SOURCE}, npm registry.\n"
            "# Columns: INSEE code, name, département, postcodes, population.\n")
    with gzip.GzipFile(out, "wb", compresslevel=9, mtime=0) as f:
        f.write((head + "\n".join(rows) + "\n").encode("utf-8"))
    return len(rows)


if __name__ == "__main__":
    print(build(Path(sys.argv[1])), "communes written to", COMMUNES_PATH)
