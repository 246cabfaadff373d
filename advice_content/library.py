"""Loads the advice sheets (Markdown + front matter), checks coverage, renders them.

Each sheet's front matter says when its facts were last checked (`checked`) and which
sources were read, and when (`sources`: url, read, label). The sources line at the end of
the sheet is written from them, and a sheet whose check is more than STALE_AFTER_MONTHS
old is stale: `AdviceLibrary.stale(today)` lists them for `jalerte doctor` and the staff
console. The rule takes `today` from its caller and never reads the clock itself.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from domain.taxonomy import Taxonomy

SHEETS_DIR = Path(__file__).with_name("sheets")
LANGUAGES = ("fr", "en")
FRONT_MATTER_KEYS = {"id", "title", "language", "sectors", "categories", "checked", "sources"}
SOURCE_KEYS = {"url", "read", "label"}
STALE_AFTER_MONTHS = 12
_LINK = re.compile(r"\[([^\]]+)\]\((https://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
MONTHS = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


class AdviceError(ValueError):
    """The advice content is incomplete or malformed (raised at start, never later)."""


def months_later(day: date, months: int) -> date:
    """The same day `months` months later; the month's last day when it has no such day
    (29 February 2024 + 12 months = 28 February 2025)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def long_date(day: date, language: str) -> str:
    """« 6 décembre 2026 », « 1er mars 2027 »; "6 December 2026"."""
    month = MONTHS[language][day.month - 1]
    number = "1er" if language == "fr" and day.day == 1 else str(day.day)
    return f"{number} {month} {day.year}"


@dataclass(frozen=True)
class Source:
    url: str
    read: date  # the day its text was read
    label: str  # what the sources line shows (the site's name by default)


@dataclass(frozen=True)
class AdviceSheet:
    id: str
    title: str
    language: str
    sectors: tuple[str, ...]
    categories: tuple[str, ...]
    advice: str  # Markdown: paragraphs, numbered steps, **bold**, [links](https://…)
    checked: date  # the day its facts were last checked against its sources
    sources: tuple[Source, ...]

    @property
    def body(self) -> str:
        """The sheet as channels that format show it: the advice, then its sources."""
        links = [f"[{s.label}]({s.url})" + self._read_on(s) for s in self.sources]
        return f"{self.advice}\n\n{self._sources_line(links)}"

    def plain_text(self) -> str:
        """The sheet for channels without formatting: links written out in full, the
        sources by name only (a phone screen, not a bibliography)."""
        body = _LINK.sub(
            lambda m: (
                f"{m.group(1)} : {m.group(2)}"
                if self.language == "fr"
                else f"{m.group(1)}: {m.group(2)}"
            ),
            self.advice,
        )
        body = _BOLD.sub(lambda m: m.group(1), body)
        sources = self._sources_line([s.label + self._read_on(s) for s in self.sources])
        return f"{self.title}\n\n{body}\n\n{sources}".strip()

    def _sources_line(self, items: list[str]) -> str:
        checked = long_date(self.checked, self.language)
        if self.language == "fr":
            return f"Sources\u00a0: {' · '.join(items)} — informations vérifiées le {checked}."
        return f"Sources: {' · '.join(items)} — information checked on {checked}."

    def _read_on(self, source: Source) -> str:
        if source.read == self.checked:
            return ""
        read = long_date(source.read, self.language)
        return f" (lue le {read})" if self.language == "fr" else f" (read on {read})"

    def recheck_by(self) -> date:
        """The last day its check is recent enough."""
        return months_later(self.checked, STALE_AFTER_MONTHS)

    def stale_on(self, today: date) -> bool:
        """Checked more than STALE_AFTER_MONTHS months before `today`."""
        return today > self.recheck_by()


@dataclass(frozen=True)
class StaleSheet:
    """A sheet to check again, its languages together."""

    id: str
    title: str  # in the first language
    checked: date
    languages: tuple[str, ...]


def _day(value: object, where: str) -> date:
    if type(value) is not date:  # YAML reads 2026-12-06 as a date; a datetime is not one
        raise AdviceError(f"{where} must be a date written YYYY-MM-DD, not {value!r}")
    return value


def _sources(raw: object, path: Path) -> tuple[Source, ...]:
    if not isinstance(raw, list) or not raw:
        raise AdviceError(f"{path}: sources must list at least one source")
    sources = []
    for item in raw:
        if not isinstance(item, dict) or not {"url", "read"} <= set(item) <= SOURCE_KEYS:
            raise AdviceError(f"{path}: each source needs url and read (and may have label)")
        url = str(item["url"])
        if not _LINK.fullmatch(f"[x]({url})"):
            raise AdviceError(f"{path}: source {url!r} is not an https:// address")
        label = str(item.get("label") or urlsplit(url).hostname.removeprefix("www."))
        if "[" in label or "]" in label:
            raise AdviceError(f"{path}: source label {label!r} cannot hold brackets")
        sources.append(Source(url, _day(item["read"], f"{path}: read of {url}"), label))
    return tuple(sources)


def parse_sheet(path: Path) -> AdviceSheet:
    raw = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n(.*)\Z", raw, re.S)
    if not match:
        raise AdviceError(f"{path}: no front matter")
    meta = yaml.safe_load(match.group(1)) or {}
    if set(meta) != FRONT_MATTER_KEYS:
        raise AdviceError(f"{path}: front matter keys must be {sorted(FRONT_MATTER_KEYS)}")
    advice = match.group(2).strip()
    if re.search(r"^Sources\s?:", advice, re.M):
        raise AdviceError(f"{path}: the sources line is written from the front matter")
    checked = _day(meta["checked"], f"{path}: checked")
    sources = _sources(meta["sources"], path)
    late = [s.url for s in sources if s.read > checked]
    if late:
        raise AdviceError(f"{path}: sources read after the check date {checked}: {late}")
    return AdviceSheet(
        id=str(meta["id"]),
        title=str(meta["title"]),
        language=str(meta["language"]),
        sectors=tuple(meta["sectors"]),
        categories=tuple(meta["categories"]),
        advice=advice,
        checked=checked,
        sources=sources,
    )


class AdviceLibrary:
    """Every sheet, indexed by (language, sector, category)."""

    def __init__(self, sheets: list[AdviceSheet], taxonomy: Taxonomy):
        self.sheets = sheets
        self._index: dict[tuple[str, str, str], AdviceSheet] = {}
        for sheet in sheets:
            for sector in sheet.sectors:
                for category in sheet.categories:
                    key = (sheet.language, sector, category)
                    if key in self._index:
                        raise AdviceError(
                            f"two sheets for {key}: {self._index[key].id}, {sheet.id}"
                        )
                    self._index[key] = sheet
        self.validate(taxonomy)

    @classmethod
    def load(cls, taxonomy: Taxonomy, root: Path = SHEETS_DIR) -> "AdviceLibrary":
        sheets = []
        for language in LANGUAGES:
            for path in sorted((root / language).glob("*.md")):
                sheet = parse_sheet(path)
                if sheet.id != path.stem or sheet.language != language:
                    raise AdviceError(f"{path}: id/language do not match the file's place")
                sheets.append(sheet)
        return cls(sheets, taxonomy)

    def validate(self, taxonomy: Taxonomy) -> None:
        """Every (sector, category) pair of the taxonomy has a sheet in every language."""
        missing = [
            (language, sector, category)
            for language in LANGUAGES
            for category, cat in taxonomy.categories.items()
            for sector in cat.sectors
            if (language, sector, category) not in self._index
        ]
        if missing:
            raise AdviceError(f"advice sheets missing for {missing}")
        for sheet in self.sheets:
            unknown = (set(sheet.sectors) - set(taxonomy.sectors)) | (
                set(sheet.categories) - set(taxonomy.categories)
            )
            if unknown:
                raise AdviceError(f"{sheet.id} ({sheet.language}): unknown ids {sorted(unknown)}")
        # A translation states the same facts: checked the same day against the same reads.
        first: dict[str, AdviceSheet] = {}
        for sheet in self.sheets:
            other = first.setdefault(sheet.id, sheet)
            if (sheet.checked, {(s.url, s.read) for s in sheet.sources}) != (
                other.checked,
                {(s.url, s.read) for s in other.sources},
            ):
                raise AdviceError(
                    f"{sheet.id}: {other.language} and {sheet.language} differ "
                    "in their check date or sources"
                )

    def sheet_for(self, sector: str | None, category: str, language: str) -> AdviceSheet:
        """The sheet for this problem; without a sector, the category's first sector."""
        language = language if language in LANGUAGES else "fr"
        if sector is None or (language, sector, category) not in self._index:
            sector = next(s for (lang, s, c) in self._index if lang == language and c == category)
        return self._index[(language, sector, category)]

    def stale(self, today: date) -> list[StaleSheet]:
        """The sheets checked more than STALE_AFTER_MONTHS months before `today`, oldest
        check first."""
        found: dict[str, StaleSheet] = {}
        for sheet in self.sheets:
            if sheet.stale_on(today):
                seen = found.get(sheet.id)
                found[sheet.id] = StaleSheet(
                    sheet.id,
                    seen.title if seen else sheet.title,
                    min(sheet.checked, seen.checked) if seen else sheet.checked,
                    (*seen.languages, sheet.language) if seen else (sheet.language,),
                )
        return sorted(found.values(), key=lambda s: (s.checked, s.id))
