"""The taxonomy of alerts (domain/taxonomy.yml): ids for sectors, categories, operators…"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from domain.fields import asked_by

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yml")

# Technologies tell the sector on their own…
TECHNOLOGY_SECTOR = {
    "2g": "mobile",
    "3g": "mobile",
    "4g": "mobile",
    "5g": "mobile",
    "adsl": "fixed",
    "vdsl": "fixed",
    "fibre": "fixed",
    "cable": "fixed",
    "satellite": "fixed",
    "radio": "fixed",
}
# …except that a home line may also run over 4G or 5G (« la box 4G », « 4G fixe »).
TECHNOLOGY_SECTORS: dict[str, tuple[str, ...]] = {
    technology: (sector,) for technology, sector in TECHNOLOGY_SECTOR.items()
}
TECHNOLOGY_SECTORS.update({"4g": ("mobile", "fixed"), "5g": ("mobile", "fixed")})


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
    # The follow-up questions the dialogue asks for this problem ("technology", "location"),
    # from the field registry.
    asks: tuple[str, ...] = ()
    # Fields the problem settles on its own: a fibre connection is over fibre.
    implies: Mapping[str, str] = field(default_factory=dict)
    # The sectors where one alert of this problem may name several operators.
    several_operators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    user_types: Mapping[str, str]
    sectors: Mapping[str, str]
    categories: Mapping[str, Category]
    operators: Mapping[str, Operator]
    technologies: tuple[str, ...]

    # What « aucun opérateur ne capte » / « tous les opérateurs » names: the networks.
    ALL_NETWORKS = ("orange", "sfr", "bouygues", "free")

    def allows_several(self, sector: object, category: object) -> bool:
        """Whether an alert of this problem in this sector may name several operators."""
        found = self.categories.get(category) if isinstance(category, str) else None
        return found is not None and sector in found.several_operators

    def alert_problems(self, alert: Mapping[str, Any]) -> list[str]:
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
        elif sector not in self.categories[str(category)].sectors:
            problems.append(f"category {category} does not apply to sector {sector}")
        if operator is not None:
            if operator not in self.operators:
                problems.append(f"unknown operator {operator!r}")
            elif sector not in self.operators[operator].sectors:
                problems.append(f"operator {operator} does not serve sector {sector}")
        if technology is not None:
            if technology not in self.technologies:
                problems.append(f"unknown technology {technology!r}")
            elif sector == "postal" or (
                technology in TECHNOLOGY_SECTORS and sector not in TECHNOLOGY_SECTORS[technology]
            ):
                problems.append(f"technology {technology} does not apply to sector {sector}")
        if alert.get("user_type") not in self.user_types:
            problems.append(f"unknown user type {alert.get('user_type')!r}")
        previous = alert.get("previous_operator")
        if previous is not None:
            if category != "number_portability":
                problems.append("a previous operator is kept only for number portability")
            elif previous not in self.operators or previous == operator:
                problems.append(f"previous operator {previous!r} is unknown or the same")
        problems += self._operators_problems(alert)
        return problems

    def _operators_problems(self, alert: Mapping[str, object]) -> list[str]:
        """`operators` (when the record has it): known ids serving the sector, no
        duplicate, several only where the problem allows it, `operator` the single id or
        null when there are several."""
        if "operators" not in alert:
            return []
        operators, operator = alert.get("operators"), alert.get("operator")
        sector = alert.get("sector")
        if not isinstance(operators, (list, tuple)):
            return [f"operators must be a list, not {operators!r}"]
        problems = []
        for oid in operators:
            if oid not in self.operators:
                problems.append(f"unknown operator {oid!r} in operators")
            elif sector not in self.operators[oid].sectors:
                problems.append(f"operator {oid} does not serve sector {sector}")
        if len(set(operators)) != len(operators):
            problems.append(f"duplicate operators {list(operators)!r}")
        if len(operators) > 1:
            if not self.allows_several(sector, alert.get("category")):
                problems.append(f"several operators for {alert.get('category')} in {sector}")
            if operator is not None:
                problems.append("operator must be null when there are several operators")
            if alert.get("operator_text") is not None:
                problems.append("no operator_text when there are several operators")
        elif list(operators) != ([operator] if operator is not None else []):
            problems.append(f"operators {list(operators)!r} disagree with operator {operator!r}")
        return problems

    @classmethod
    def load(cls, path: Path = TAXONOMY_PATH) -> "Taxonomy":
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            user_types=dict(raw["user_types"]),
            sectors=dict(raw["sectors"]),
            categories={
                cid: Category(
                    cid,
                    c["label"],
                    tuple(c["sectors"]),
                    asked_by(cid),
                    dict(c.get("implies") or {}),
                    tuple(c.get("several_operators") or ()),
                )
                for cid, c in raw["categories"].items()
            },
            operators={
                oid: Operator(oid, o["name"], o["group"], tuple(o["sectors"]), tuple(o["brands"]))
                for oid, o in raw["operators"].items()
            },
            technologies=tuple(raw["technologies"]),
        )
