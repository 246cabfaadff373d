"""The taxonomy of alerts (nlu/taxonomy.yml): ids for sectors, categories, operators…"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import yaml

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yml")

# Technologies tell the sector on their own.
TECHNOLOGY_SECTOR = {
    "2g": "mobile", "3g": "mobile", "4g": "mobile", "5g": "mobile",
    "adsl": "fixed", "vdsl": "fixed", "fibre": "fixed", "cable": "fixed",
    "satellite": "fixed", "radio": "fixed",
}


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    group: str
    sectors: tuple[str, ...]
    brands: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    sectors: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    user_types: Mapping[str, str]
    sectors: Mapping[str, str]
    categories: Mapping[str, Category]
    operators: Mapping[str, Operator]
    technologies: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = TAXONOMY_PATH) -> "Taxonomy":
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            user_types=dict(raw["user_types"]),
            sectors=dict(raw["sectors"]),
            categories={
                cid: Category(cid, c["label"], tuple(c["sectors"]))
                for cid, c in raw["categories"].items()
            },
            operators={
                oid: Operator(oid, o["name"], o["group"], tuple(o["sectors"]), tuple(o["brands"]))
                for oid, o in raw["operators"].items()
            },
            technologies=tuple(raw["technologies"]),
        )
