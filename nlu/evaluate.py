"""Held-out evaluation: per-field accuracy and the confusion between categories."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from nlu.interpret import ParseResult
from nlu.text import fold

HELDOUT_PATH = Path(__file__).parent / "heldout" / "heldout.yml"
FIELDS = ("intent", "is_report", "category", "sector", "operator", "operator_text",
          "user_type", "technology", "location")
# Messages that must never come back with a category or an operator.
SMALL_TALK = frozenset({"greet", "thank", "goodbye", "chitchat", "out_of_scope"})


def load_cases(path: Path = HELDOUT_PATH) -> list[dict[str, Any]]:
    """Held-out messages with their expected fields (absent field = null)."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    for case in cases:
        case.setdefault("intent", "report")
        case["is_report"] = case["intent"] == "report"
        for name in FIELDS:
            case.setdefault(name, None)
    return cases


def _same(name: str, expected: Any, got: Any) -> bool:
    if name in ("operator_text", "location") and expected is not None and got is not None:
        return fold(str(expected)).strip() == fold(str(got)).strip()
    return expected == got


@dataclass
class EvalReport:
    total: int = 0
    correct: Counter = field(default_factory=Counter)
    reports: int = 0
    category_correct_on_reports: int = 0
    confusion: Counter = field(default_factory=Counter)  # (expected, predicted) -> count
    small_talk: int = 0
    small_talk_leaks: list[str] = field(default_factory=list)
    errors: list[tuple[str, str, Any, Any]] = field(default_factory=list)

    def accuracy(self, name: str) -> float:
        return self.correct[name] / self.total if self.total else 0.0

    @property
    def category_accuracy_on_reports(self) -> float:
        return self.category_correct_on_reports / self.reports if self.reports else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.total,
            "reports": self.reports,
            "accuracy": {name: round(self.accuracy(name), 4) for name in FIELDS},
            "category_accuracy_on_reports": round(self.category_accuracy_on_reports, 4),
            "small_talk_messages": self.small_talk,
            "small_talk_with_category_or_operator": len(self.small_talk_leaks),
        }

    def to_text(self, show_errors: bool = False) -> str:
        lines = [f"Held-out messages: {self.total} ({self.reports} reports)", "",
                 "Per-field accuracy (null must match null):"]
        lines += [f"  {name:<14} {self.accuracy(name):6.3f}" for name in FIELDS]
        lines += [
            f"  {'category|report':<14} {self.category_accuracy_on_reports:6.3f}"
            "  (reports only)",
            "",
            f"Small talk with a category or operator: {len(self.small_talk_leaks)}"
            f" of {self.small_talk}",
            "",
            "Confusion between categories (rows: expected, columns: predicted):",
        ]
        labels = sorted({e for e, _ in self.confusion} | {p for _, p in self.confusion})
        short = {lab: lab[:6] for lab in labels}
        lines.append(" " * 18 + " ".join(f"{short[lab]:>6}" for lab in labels))
        for exp in labels:
            row = " ".join(f"{self.confusion[(exp, got)] or '.':>6}" for got in labels)
            lines.append(f"  {exp:<16}{row}")
        if show_errors and self.errors:
            lines += ["", "Errors (field: text → expected / got):"]
            lines += [f"  {n}: {t[:70]!r} → {e!r} / {g!r}" for t, n, e, g in self.errors]
        return "\n".join(lines)


def evaluate(cases: Iterable[dict[str, Any]], results: Iterable[ParseResult]) -> EvalReport:
    """Compares parse results with the expected fields, case by case."""
    report = EvalReport()
    for case, result in zip(cases, results, strict=True):
        report.total += 1
        got = result.to_json()
        for name in FIELDS:
            if _same(name, case[name], got[name]):
                report.correct[name] += 1
            else:
                report.errors.append((case["text"], name, case[name], got[name]))
        if case["is_report"]:
            report.reports += 1
            report.category_correct_on_reports += case["category"] == result.category
        if case["is_report"] or result.is_report:
            expected = case["category"] or ("(unspecified)" if case["is_report"] else "(none)")
            predicted = result.category or ("(unspecified)" if result.is_report else "(none)")
            report.confusion[(expected, predicted)] += 1
        if case["intent"] in SMALL_TALK:
            report.small_talk += 1
            if result.category or result.operator:
                report.small_talk_leaks.append(case["text"])
    return report
