"""Statistics over a list of alerts (pure): the dashboard's numbers."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

CUSTOMER_BASE = Path(__file__).with_name("customer_base.yml")


@dataclass(frozen=True)
class CustomerBase:
    operator: str
    sector: str
    customers: int
    source: str
    date: str


def load_customer_base(path: Path = CUSTOMER_BASE) -> list[CustomerBase]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [CustomerBase(e["operator"], e["sector"], int(e["customers"]), str(e["source"]),
                         str(e["date"])) for e in raw.get("entries", [])]


@dataclass
class Dashboard:
    total: int
    by_operator_category: dict[str, Counter]  # operator key -> category -> count
    by_sector: Counter
    by_user_type: Counter
    by_channel: Counter
    by_category: Counter
    by_month: list[tuple[str, int]]
    per_100k: list[dict[str, Any]]


def operator_key(alert: dict) -> str:
    """The operator id, or the name as written for operators outside the taxonomy."""
    return alert.get("operator") or (f"« {alert['operator_text']} »" if alert.get("operator_text")
                                     else "inconnu")


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` ("YYYY-MM"), so empty months show as 0."""
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def dashboard(alerts: Iterable[dict], bases: list[CustomerBase]) -> Dashboard:
    alerts = list(alerts)
    matrix: dict[str, Counter] = {}
    for alert in alerts:
        matrix.setdefault(operator_key(alert), Counter())[alert.get("category") or "other"] += 1
    months = Counter(a["created_at"][:7] for a in alerts)
    trend = ([(m, months.get(m, 0)) for m in months_between(min(months), max(months))]
             if months else [])
    per_100k = []
    for base in bases:
        count = sum(1 for a in alerts if a.get("operator") == base.operator
                    and a.get("sector") == base.sector)
        per_100k.append({"operator": base.operator, "sector": base.sector, "alerts": count,
                         "customers": base.customers,
                         "per_100k": count * 100_000 / base.customers if base.customers else 0.0,
                         "source": base.source, "date": base.date})
    per_100k.sort(key=lambda row: row["per_100k"], reverse=True)
    return Dashboard(
        total=len(alerts),
        by_operator_category=dict(sorted(matrix.items(), key=lambda kv: -sum(kv[1].values()))),
        by_sector=Counter(a.get("sector") or "inconnu" for a in alerts),
        by_user_type=Counter(a.get("user_type") or "inconnu" for a in alerts),
        by_channel=Counter(a.get("channel") for a in alerts),
        by_category=Counter(a.get("category") or "other" for a in alerts),
        by_month=trend,
        per_100k=per_100k,
    )
