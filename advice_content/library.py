"""Loads the advice sheets (Markdown + front matter), checks coverage, renders them."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from nlu.taxonomy import Taxonomy

SHEETS_DIR = Path(__file__).with_name("sheets")
LANGUAGES = ("fr", "en")
FRONT_MATTER_KEYS = {"id", "title", "language", "sectors", "categories"}
_LINK = re.compile(r"\[([^\]]+)\]\((https://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


class AdviceError(ValueError):
    """The advice content is incomplete or malformed (raised at start, never later)."""


@dataclass(frozen=True)
class AdviceSheet:
    id: str
    title: str
    language: str
    sectors: tuple[str, ...]
    categories: tuple[str, ...]
    body: str  # Markdown: paragraphs, numbered steps, **bold**, [links](https://…)

    def plain_text(self) -> str:
        """The sheet for channels without formatting: links written out in full."""
        body = _LINK.sub(lambda m: f"{m.group(1)} : {m.group(2)}" if self.language == "fr"
                         else f"{m.group(1)}: {m.group(2)}", self.body)
        body = _BOLD.sub(lambda m: m.group(1), body)
        return f"{self.title}\n\n{body}".strip()


def parse_sheet(path: Path) -> AdviceSheet:
    raw = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n(.*)\Z", raw, re.S)
    if not match:
        raise AdviceError(f"{path}: no front matter")
    meta = yaml.safe_load(match.group(1)) or {}
    if set(meta) != FRONT_MATTER_KEYS:
        raise AdviceError(f"{path}: front matter keys must be {sorted(FRONT_MATTER_KEYS)}")
    return AdviceSheet(
        id=str(meta["id"]), title=str(meta["title"]), language=str(meta["language"]),
        sectors=tuple(meta["sectors"]), categories=tuple(meta["categories"]),
        body=match.group(2).strip(),
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
                        raise AdviceError(f"two sheets for {key}: {self._index[key].id}, {sheet.id}")
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
                set(sheet.categories) - set(taxonomy.categories))
            if unknown:
                raise AdviceError(f"{sheet.id} ({sheet.language}): unknown ids {sorted(unknown)}")

    def sheet_for(self, sector: str | None, category: str, language: str) -> AdviceSheet:
        """The sheet for this problem; without a sector, the category's first sector."""
        language = language if language in LANGUAGES else "fr"
        if sector is None or (language, sector, category) not in self._index:
            sector = next(s for (lang, s, c) in self._index if lang == language and c == category)
        return self._index[(language, sector, category)]
