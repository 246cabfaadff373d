"""The taxonomy of alerts (nlu/taxonomy.yml): ids for sectors, categories, operators…"""
from __future__ import annotations

from dataclasses import dataclass, field
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
    # The follow-up questions the dialogue asks for this problem ("technology", "location").
    asks: tuple[str, ...] = ()
    # Fields the problem settles on its own: a fibre connection is over fibre.
    implies: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Taxonomy:
    user_types: Mapping[str, str]
    sectors: Mapping[str, str]
    categories: Mapping[str, Category]
    operators: Mapping[str, Operator]
    technologies: tuple[str, ...]

    def alert_problems(self, alert: Mapping[str, object]) -> list[str]:
        """Why an alert record breaks the taxonomy's rules (empty when it is consistent):
        known ids, a category valid for the sector, an operator serving the sector (or
        free text), a technology only for fixed or mobile and of the same sector."""
        problems = []
        sector, category = alert.get("sector"), alert.get("category")
        operator, technology = alert.get("operator"), alert.get("technology")
        if sector not in self.sectors:
            problems.append(f"unknown sector {sector!r}")
        if category not in self.categories:
            problems.append(f"unknown category {category!r}")
        elif sector not in self.categories[category].sectors:
            problems.append(f"category {category} does not apply to sector {sector}")
        if operator is not None:
            if operator not in self.operators:
                problems.append(f"unknown operator {operator!r}")
            elif sector not in self.operators[operator].sectors:
                problems.append(f"operator {operator} does not serve sector {sector}")
        if technology is not None:
            if technology not in self.technologies:
                problems.append(f"unknown technology {technology!r}")
            elif sector == "postal" or (technology in TECHNOLOGY_SECTOR
                                        and TECHNOLOGY_SECTOR[technology] != sector):
                problems.append(f"technology {technology} does not apply to sector {sector}")
        if alert.get("user_type") not in self.user_types:
            problems.append(f"unknown user type {alert.get('user_type')!r}")
        return problems

    @classmethod
    def load(cls, path: Path = TAXONOMY_PATH) -> "Taxonomy":
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            user_types=dict(raw["user_types"]),
            sectors=dict(raw["sectors"]),
            categories={
                cid: Category(cid, c["label"], tuple(c["sectors"]), tuple(c.get("asks") or ()),
                              dict(c.get("implies") or {}))
                for cid, c in raw["categories"].items()
            },
            operators={
                oid: Operator(oid, o["name"], o["group"], tuple(o["sectors"]), tuple(o["brands"]))
                for oid, o in raw["operators"].items()
            },
            technologies=tuple(raw["technologies"]),
        )
