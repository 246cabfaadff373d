"""Real-style text: the figures of issue 19 and the curve that sets the category threshold.

    .venv-nlu/bin/python bench/realstyle.py --model models/nlu.tar.gz FILE [FILE…]
        [--weights 0,0.3,0.5,0.7] [--errors]

For every held-out file (and all of them together) it prints, at the project's threshold
and sentence weight: category confident and right, confidently wrong, right in one press
(confident and right, or among the three offered), non-reports left alone, sector and
operator on reports (operator also on messages naming several operators), then the
abstention curve for each sentence weight (the share of the sentence-by-sentence reading,
reading/sentences.py). The model parses each message once; only the reading is repeated.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nlu.evaluate import CURVE_THRESHOLDS, FIELD_ANSWERS, load_cases  # noqa: E402
from domain.parse import CANDIDATES, ParseResult  # noqa: E402
from reading.interpret import CATEGORY_THRESHOLD  # noqa: E402

try:
    from reading.sentences import SENTENCE_WEIGHT  # noqa: E402
except ImportError:  # an older checkout, measured for the "before" figures
    SENTENCE_WEIGHT = 0.0


def figures(cases: Sequence[dict[str, Any]], results: Sequence[ParseResult]) -> dict:
    reports = [(c, r) for c, r in zip(cases, results) if c["is_report"]]
    non = [
        (c, r)
        for c, r in zip(cases, results)
        if not c["is_report"] and c["intent"] not in FIELD_ANSWERS
    ]
    n = len(reports) or 1
    right = sum(r.category is not None and r.category == c["category"] for c, r in reports)
    wrong = sum(r.category is not None and r.category != c["category"] for c, r in reports)
    one_press = sum(
        (r.category is not None and r.category == c["category"])
        or (r.category is None and c["category"] in r.category_choices(CANDIDATES))
        or (r.category is None and c["category"] is None)
        for c, r in reports
    )
    several = [(c, r) for c, r in reports if len(getattr(r, "operator_roles", ())) > 1]
    portability = [(c, r) for c, r in reports if c["category"] == "number_portability"]
    return {
        "messages": len(cases),
        "reports": len(reports),
        "non_reports": len(non),
        "category_right": right / n,
        "confidently_wrong": wrong / n,
        "one_press": one_press / n,
        "non_reports_left_alone": (
            sum(not r.is_report and not r.category and not r.operator for _, r in non) / len(non)
        )
        if non
        else 1.0,
        "sector": sum(r.sector == c["sector"] for c, r in reports) / n,
        "operator": sum(r.operator == c["operator"] for c, r in reports) / n,
        "operator_several": (sum(r.operator == c["operator"] for c, r in several) / len(several))
        if several
        else float("nan"),
        "several": len(several),
        "previous_operator": (
            sum(
                getattr(r, "previous_operator", None) == c.get("previous_operator")
                for c, r in portability
            )
            / len(portability)
        )
        if portability
        else float("nan"),
    }


def show(name: str, f: dict) -> str:
    return (
        f"{name}: {f['messages']} messages, {f['reports']} reports, "
        f"{f['non_reports']} non-reports\n"
        f"  category confident and right {f['category_right']:.3f}   confidently wrong "
        f"{f['confidently_wrong']:.1%}   right in one press {f['one_press']:.3f}\n"
        f"  non-reports left alone {f['non_reports_left_alone']:.1%}   sector "
        f"{f['sector']:.3f}   operator {f['operator']:.3f}   operator when several are "
        f"named {f['operator_several']:.3f} ({f['several']})   previous operator "
        f"(portability) {f['previous_operator']:.3f}"
    )


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--model", default="models/nlu.tar.gz")
    ap.add_argument("--weights", default=f"0,0.3,{SENTENCE_WEIGHT},0.7")
    ap.add_argument("--errors", action="store_true", help="list the category errors")
    args = ap.parse_args()
    from nlu.parser import NluParser

    parser = await NluParser.load(Path(args.model))
    sets = {Path(f).stem: load_cases(Path(f)) for f in args.files}
    if len(sets) > 1:
        sets["all"] = [c for cases in list(sets.values()) for c in cases]
    raws = {}
    for cases in sets.values():
        for case in cases:
            if case["text"] not in raws:
                raws[case["text"]] = await parser.raw_parse(case["text"])

    def read(cases, threshold, weight):
        def one(text):
            if raws[text] is None:
                return parser.read(text, None)
            try:
                return parser.interpreter.interpret(text, raws[text], threshold, weight)
            except TypeError:  # an older interpreter (no sentence reading): the "before"
                return parser.interpreter.interpret(text, raws[text], threshold)

        return [one(c["text"]) for c in cases]

    weights = [float(w) for w in args.weights.split(",")]
    for name, cases in sets.items():
        results = read(cases, CATEGORY_THRESHOLD, SENTENCE_WEIGHT)
        print(
            show(
                f"== {name} (threshold {CATEGORY_THRESHOLD}, sentence weight {SENTENCE_WEIGHT})",
                figures(cases, results),
            )
        )
        print(
            "  curve: threshold → confidently wrong / right in one press / confident and"
            " right, per sentence weight"
        )
        print("  " + " " * 9 + "".join(f"   weight {w:<17}" for w in weights))
        for t in CURVE_THRESHOLDS:
            row = []
            for w in weights:
                f = figures(cases, read(cases, t, w))
                row.append(
                    f"{f['confidently_wrong']:6.1%} {f['one_press']:.3f} {f['category_right']:.3f}"
                )
            print(f"  {t:7.2f}  " + "   ".join(row))
        if args.errors:
            for c, r in zip(cases, results):
                if c["is_report"] and r.category is not None and r.category != c["category"]:
                    print(
                        f"  WRONG {c['category']} → {r.category} "
                        f"({r.category_confidence:.2f}): {c['text'][:110]!r}"
                    )
                if c["is_report"] and r.operator != c["operator"]:
                    print(
                        f"  OPERATOR {c['operator']} → {r.operator} "
                        f"{list(r.operator_roles)}: {c['text'][:110]!r}"
                    )
                if not c["is_report"] and (r.category or r.operator):
                    print(f"  NON-REPORT touched ({c['intent']}): {c['text'][:110]!r}")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
