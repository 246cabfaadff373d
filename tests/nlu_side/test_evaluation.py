"""What only the NLU environment can check: the parser's re-reading and the evaluation."""

from __future__ import annotations

from nlu.evaluate import HELDOUT_SETS, evaluate_parser
from reading.interpret import CATEGORY_THRESHOLD


async def test_abstention_contract(nlu) -> None:
    """Below the threshold the category is null and the candidates say what is likely."""
    result = await nlu.parse("j'ai un gros problème avec mon opérateur, ça ne va pas du tout")
    record = result.to_json()
    candidates = record["category_candidates"]
    assert len(candidates) == 3
    assert [c["score"] for c in candidates] == sorted(
        (c["score"] for c in candidates), reverse=True
    )
    if record["category"] is None:
        assert all(c["score"] < CATEGORY_THRESHOLD for c in candidates[:1])
    # The same message read with a higher bar abstains, and keeps its candidates.
    strict = nlu.read(result.text, await nlu.raw_parse(result.text), category_threshold=1.01)
    assert strict.category is None and strict.is_report
    assert strict.category_candidates == result.category_candidates


async def test_both_heldout_sets_are_evaluated(nlu) -> None:
    """Floors well under the figures in the issue note, so that a regression shows."""
    reports = {r.name: r for r in await evaluate_parser(nlu)}
    assert set(reports) == set(HELDOUT_SETS)
    project, independent = reports["project"], reports["independent"]
    assert independent.total >= 350 and project.total >= 200
    for report in reports.values():
        text = report.to_text(show_errors=True)
        assert report.accuracy("category") >= 0.85, text
        assert report.accuracy("operator") >= 0.93, text
        assert report.confidently_wrong_category <= 0.08, text
        assert report.non_reports_left_alone >= 0.90, text
        assert [p.threshold for p in report.curve][0] == 0.0
