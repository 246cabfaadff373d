"""Statistics over grouped alerts (pure): the dashboard's numbers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

import yaml

from storage.paris import month_of

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
    return [
        CustomerBase(
            e["operator"], e["sector"], int(e["customers"]), str(e["source"]), str(e["date"])
        )
        for e in raw.get("entries", [])
    ]


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


FREE_TEXT = "autre (texte libre)"


def operator_key(alert: dict) -> str:
    """The operator id; an operator typed by hand is never an operator in the statistics:
    they are all « autre (texte libre) »."""
    return alert.get("operator") or (FREE_TEXT if alert.get("operator_text") else "inconnu")


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` ("YYYY-MM"), so empty months show as 0."""
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def dashboard(groups: Iterable[tuple[dict, int]], bases: list[CustomerBase]) -> Dashboard:
    """The numbers from alerts grouped by their statistics fields (`StaffRepository.
    alert_groups`: one SQL GROUP BY, whatever the number of alerts) with their counts."""
    groups = list(groups)
    matrix: dict[str, Counter] = {}
    months: Counter = Counter()
    fields = {name: Counter() for name in ("sector", "user_type", "channel", "category")}
    pairs: Counter = Counter()  # (operator, sector) -> alerts, for per 100,000
    total = 0
    for alert, count in groups:
        # An alert about several operators is in one group per operator (`count`), and
        # counts once in the totals (`alerts`: its count in its first operator's group).
        once = alert.get("alerts", count)
        total += once
        matrix.setdefault(operator_key(alert), Counter())[alert.get("category") or "other"] += count
        months[alert["month"]] += once
        fields["sector"][alert.get("sector") or "inconnu"] += once
        fields["user_type"][alert.get("user_type") or "inconnu"] += once
        fields["channel"][alert.get("channel")] += once
        fields["category"][alert.get("category") or "other"] += once
        pairs[(alert.get("operator"), alert.get("sector"))] += count
    trend = (
        [(m, months.get(m, 0)) for m in months_between(min(months), max(months))] if months else []
    )
    per_100k = []
    for base in bases:
        count = pairs.get((base.operator, base.sector), 0)
        per_100k.append(
            {
                "operator": base.operator,
                "sector": base.sector,
                "alerts": count,
                "customers": base.customers,
                "per_100k": count * 100_000 / base.customers if base.customers else 0.0,
                "source": base.source,
                "date": base.date,
            }
        )
    per_100k.sort(key=lambda row: row["per_100k"], reverse=True)
    return Dashboard(
        total=total,
        by_operator_category=dict(sorted(matrix.items(), key=lambda kv: -sum(kv[1].values()))),
        by_sector=fields["sector"],
        by_user_type=fields["user_type"],
        by_channel=fields["channel"],
        by_category=fields["category"],
        by_month=trend,
        per_100k=per_100k,
    )


def groups_of(alerts: Iterable[dict]) -> list[tuple[dict, int]]:
    """Alerts as they are (one group each, one per operator of an alert about several,
    counted once in all), for callers holding alert records."""
    groups = []
    for a in alerts:
        month = month_of(datetime.fromisoformat(a["created_at"]))  # Paris, as the SQL counts
        several = a.get("operators") or []
        if len(several) > 1:
            groups += [
                (
                    {
                        **a,
                        "operator": o,
                        "operator_text": None,
                        "month": month,
                        "alerts": 1 if n == 0 else 0,
                    },
                    1,
                )
                for n, o in enumerate(several)
            ]
        else:
            groups.append(({**a, "month": month}, 1))
    return groups
