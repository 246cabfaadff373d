"""Held-out evaluation: per-field accuracy, confidently wrong answers, the confusion
between categories and the abstention curve that sets the category threshold."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import yaml

from domain.parse import EVALUATED, ParseResult
from reading.interpret import CATEGORY_THRESHOLD
from domain.text import fold

if TYPE_CHECKING:
    from nlu.parser import NluParser

HELDOUT_DIR = Path(__file__).parent / "heldout"
# Each set: a name and its files. The first was written beside the training data in the
# first release; the second by writers who never saw the training data nor the first set.
HELDOUT_SETS = {
    "project": (HELDOUT_DIR / "heldout.yml",),
    "independent": tuple(sorted((HELDOUT_DIR / "independent").glob("*.yml"))),
}
HELDOUT_PATH = HELDOUT_SETS["project"][0]
FIELDS = EVALUATED
# Short answers that rightly carry fields ("chez Free"): not counted as non-reports.
FIELD_ANSWERS = frozenset({"inform"})
CURVE_THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def load_cases(*paths: Path) -> list[dict[str, Any]]:
    """Held-out messages with their expected fields (absent field = null)."""
    cases: list[dict[str, Any]] = []
    for path in paths:
        cases += yaml.safe_load(path.read_text(encoding="utf-8"))
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
class CurvePoint:
    threshold: float
    coverage: float  # reports that get a category
    precision: float  # of those, right
    accuracy: float  # category right over all messages (null must match null)
    confidently_wrong: float  # reports with a wrong category, over reports


@dataclass
class EvalReport:
    name: str = "held-out"
    total: int = 0
    correct: Counter = field(default_factory=Counter)
    reports: int = 0
    category_correct_on_reports: int = 0
    category_wrong_on_reports: int = 0
    category_abstained_on_reports: int = 0
    abstained_answer_in_candidates: int = 0
    sector_wrong_on_reports: int = 0
    confusion: Counter = field(default_factory=Counter)  # (expected, predicted) -> count
    non_reports: int = 0
    non_reports_touched: list[str] = field(default_factory=list)
    errors: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    curve: list[CurvePoint] = field(default_factory=list)

    def accuracy(self, name: str) -> float:
        return self.correct[name] / self.total if self.total else 0.0

    def _rate(self, count: int) -> float:
        return count / self.reports if self.reports else 0.0

    @property
    def category_accuracy_on_reports(self) -> float:
        return self._rate(self.category_correct_on_reports)

    @property
    def confidently_wrong_category(self) -> float:
        return self._rate(self.category_wrong_on_reports)

    @property
    def confidently_wrong_sector(self) -> float:
        return self._rate(self.sector_wrong_on_reports)

    @property
    def non_reports_left_alone(self) -> float:
        if not self.non_reports:
            return 1.0
        return 1 - len(self.non_reports_touched) / self.non_reports

    def as_dict(self) -> dict[str, Any]:
        return {
            "set": self.name,
            "messages": self.total,
            "reports": self.reports,
            "accuracy": {name: round(self.accuracy(name), 4) for name in FIELDS},
            "category_accuracy_on_reports": round(self.category_accuracy_on_reports, 4),
            "category_abstained_on_reports": round(
                self._rate(self.category_abstained_on_reports), 4
            ),
            "abstained_answer_in_candidates": self.abstained_answer_in_candidates,
            "confidently_wrong_category": round(self.confidently_wrong_category, 4),
            "confidently_wrong_sector": round(self.confidently_wrong_sector, 4),
            "non_reports": self.non_reports,
            "non_reports_left_alone": round(self.non_reports_left_alone, 4),
            "abstention_curve": [{k: round(v, 4) for k, v in vars(p).items()} for p in self.curve],
        }

    def to_text(self, show_errors: bool = False) -> str:
        lines = [
            f"== {self.name}: {self.total} messages ({self.reports} reports)",
            "",
            "Per-field accuracy (null must match null):",
        ]
        lines += [f"  {name:<14} {self.accuracy(name):6.3f}" for name in FIELDS]
        lines += [
            f"  {'category|report':<14} {self.category_accuracy_on_reports:6.3f}  (reports only)",
            "",
            f"Confidently wrong category: {self.confidently_wrong_category:6.1%} of reports"
            f" (no category, offered as choices: "
            f"{self._rate(self.category_abstained_on_reports):.1%}, the right one among the"
            f" choices {self.abstained_answer_in_candidates} of"
            f" {self.category_abstained_on_reports})",
            f"Confidently wrong sector:   {self.confidently_wrong_sector:6.1%} of reports",
            f"Non-reports left without category or operator: "
            f"{self.non_reports - len(self.non_reports_touched)} of {self.non_reports}"
            f" ({self.non_reports_left_alone:.1%})",
            "",
            "Abstention curve (category given only from this probability on):",
            "  threshold  coverage  precision  accuracy  confidently-wrong",
        ]
        lines += [
            f"  {p.threshold:9.2f}  {p.coverage:8.1%}  {p.precision:9.1%}  {p.accuracy:8.3f}"
            f"  {p.confidently_wrong:17.1%}"
            for p in self.curve
        ]
        lines += ["", "Confusion between categories (rows: expected, columns: predicted):"]
        labels = sorted({e for e, _ in self.confusion} | {p for _, p in self.confusion})
        lines.append(" " * 20 + " ".join(f"{lab[:6]:>6}" for lab in labels))
        for exp in labels:
            row = " ".join(f"{self.confusion[(exp, got)] or '.':>6}" for got in labels)
            lines.append(f"  {exp[:18]:<18}{row}")
        if show_errors and self.errors:
            lines += ["", "Errors (field: text → expected / got):"]
            lines += [f"  {n}: {t[:90]!r} → {e!r} / {g!r}" for t, n, e, g in self.errors]
        return "\n".join(lines)


def evaluate(
    cases: Sequence[dict[str, Any]],
    results: Sequence[ParseResult],
    name: str = "held-out",
    curve: list[CurvePoint] | None = None,
) -> EvalReport:
    """Compares parse results with the expected fields, case by case."""
    report = EvalReport(name=name, curve=curve or [])
    for case, result in zip(cases, results, strict=True):
        report.total += 1
        got = result.to_json()
        for fname in FIELDS:
            if _same(fname, case[fname], got[fname]):
                report.correct[fname] += 1
            else:
                report.errors.append((case["text"], fname, case[fname], got[fname]))
        if case["is_report"]:
            report.reports += 1
            report.category_correct_on_reports += case["category"] == result.category
            if result.category is None and case["category"] is not None:
                report.category_abstained_on_reports += 1
                report.abstained_answer_in_candidates += (
                    case["category"] in result.category_choices()
                )
            elif result.category != case["category"]:
                report.category_wrong_on_reports += 1
            if result.sector is not None and result.sector != case["sector"]:
                report.sector_wrong_on_reports += 1
        elif case["intent"] not in FIELD_ANSWERS:
            report.non_reports += 1
            if result.category or result.operator:
                report.non_reports_touched.append(case["text"])
        if case["is_report"] or result.is_report:
            expected = case["category"] or ("(unspecified)" if case["is_report"] else "(none)")
            predicted = result.category or ("(no category)" if result.is_report else "(none)")
            report.confusion[(expected, predicted)] += 1
    return report


def curve_point(
    cases: Sequence[dict[str, Any]], results: Sequence[ParseResult], threshold: float
) -> CurvePoint:
    """Coverage and errors of the category when `results` were read with `threshold`."""
    reports = given = right = wrong = correct_all = 0
    for case, result in zip(cases, results, strict=True):
        correct_all += result.category == case["category"]
        if not case["is_report"]:
            continue
        reports += 1
        if result.category is not None:
            given += 1
            right += result.category == case["category"]
            wrong += result.category != case["category"]
    return CurvePoint(
        threshold=threshold,
        coverage=given / reports if reports else 0.0,
        precision=right / given if given else 0.0,
        accuracy=correct_all / len(cases) if cases else 0.0,
        confidently_wrong=wrong / reports if reports else 0.0,
    )


async def evaluate_parser(
    parser: "NluParser", sets: Mapping[str, Iterable[Path]] | None = None
) -> list[EvalReport]:
    """Every held-out set through `parser`, at the parser's own category threshold."""
    sets = {name: tuple(paths) for name, paths in (sets or HELDOUT_SETS).items()}
    raws = {}
    for paths in sets.values():
        for case in load_cases(*paths):
            raws[case["text"]] = await parser.raw_parse(case["text"])
    return evaluate_sets(
        lambda texts: [raws[t] for t in texts], parser.read, CATEGORY_THRESHOLD, sets
    )


def evaluate_sets(
    raw_all: Callable[[list[str]], list[Mapping[str, Any]]],
    interpret: Callable[[str, Mapping[str, Any], float], ParseResult],
    threshold: float,
    sets: Mapping[str, Iterable[Path]] | None = None,
) -> list[EvalReport]:
    """Evaluates every held-out set: the model runs once per message, the post-processing
    once per threshold of the curve, and the report is that of `threshold`."""
    reports = []
    for set_name, paths in (sets or HELDOUT_SETS).items():
        paths = tuple(paths)
        if not paths:
            continue
        cases = load_cases(*paths)
        texts = [c["text"] for c in cases]
        raws = raw_all(texts)

        def read(t: float) -> list[ParseResult]:
            return [interpret(text, raw, t) for text, raw in zip(texts, raws)]

        curve = [curve_point(cases, read(t), t) for t in CURVE_THRESHOLDS]
        reports.append(evaluate(cases, read(threshold), name=set_name, curve=curve))
    return reports
