"""Every problem of the taxonomy has its advice sheet, in French and in English, each with
the date its facts were checked and the sources read; a sheet checked too long ago is
stale on the date the caller gives (never the machine's calendar)."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import date

import pytest

from advice_content.library import (
    LANGUAGES,
    SHEETS_DIR,
    AdviceError,
    AdviceLibrary,
    Source,
    long_date,
    parse_sheet,
)


def test_every_sector_category_pair_has_a_sheet_in_each_language(taxonomy) -> None:
    library = AdviceLibrary.load(taxonomy)
    for language in LANGUAGES:
        for category, cat in taxonomy.categories.items():
            for sector in cat.sectors:
                sheet = library.sheet_for(sector, category, language)
                assert sheet.language == language
                assert category in sheet.categories and sector in sheet.sectors
                assert 100 < len(sheet.advice) < 1500  # a phone screen or two, not a leaflet
                assert len(sheet.plain_text()) < 2000
                assert "https://" in sheet.advice


def test_every_sheet_says_when_and_against_what_it_was_checked(taxonomy) -> None:
    library = AdviceLibrary.load(taxonomy)
    by_id: dict[str, dict[str, object]] = {}
    for sheet in library.sheets:
        by_id.setdefault(sheet.id, {})[sheet.language] = sheet
    for sheet_id, languages in by_id.items():
        assert set(languages) == set(LANGUAGES), sheet_id
        fr, en = languages["fr"], languages["en"]
        assert fr.checked == en.checked and isinstance(fr.checked, date)
        assert [(s.url, s.read) for s in fr.sources] == [(s.url, s.read) for s in en.sources]
        for sheet in (fr, en):
            assert sheet.sources and all(s.url.startswith("https://") for s in sheet.sources)
            assert all(s.read <= sheet.checked for s in sheet.sources)
            # What the person sees ends with the sources, their addresses and the check date.
            last = sheet.body.splitlines()[-1]
            assert last.startswith("Sources") and str(sheet.checked.year) in last
            assert all(f"({s.url})" in last for s in sheet.sources)
            assert long_date(sheet.checked, sheet.language) in sheet.plain_text()


def test_the_sources_line_dates_each_source_read_on_another_day(taxonomy) -> None:
    sheet = AdviceLibrary.load(taxonomy).sheet_for("fixed", "outage", "fr")
    sheet = replace(
        sheet,
        checked=date(2026, 3, 1),
        sources=(
            Source("https://example.org/a", date(2026, 3, 1), "a.org"),
            Source("https://example.org/b", date(2025, 12, 31), "b.org"),
        ),
    )
    assert sheet.body.endswith(
        "Sources\u00a0: [a.org](https://example.org/a) · [b.org](https://example.org/b) "
        "(lue le 31 décembre 2025) — informations vérifiées le 1er mars 2026."
    )
    assert sheet.plain_text().endswith(
        "Sources\u00a0: a.org · b.org (lue le 31 décembre 2025) — informations vérifiées le "
        "1er mars 2026."
    )
    english = replace(sheet, language="en")
    assert english.body.endswith(
        "(read on 31 December 2025) — information checked on 1 March 2026."
    )


@pytest.mark.parametrize(
    ("checked", "fresh", "stale"),
    [
        (date(2025, 11, 30), [date(2026, 11, 29), date(2026, 11, 30)], [date(2026, 12, 1)]),
        # 29 February has no anniversary: the check lasts until the end of February.
        (date(2024, 2, 29), [date(2025, 2, 28)], [date(2025, 3, 1)]),
        (date(2025, 1, 31), [date(2026, 1, 31)], [date(2026, 2, 1)]),
        (date(2025, 12, 31), [date(2026, 12, 31)], [date(2027, 1, 1)]),
        (date(2025, 3, 1), [date(2025, 3, 1), date(2026, 3, 1)], [date(2026, 3, 2)]),
    ],
)
def test_a_sheet_is_stale_when_checked_more_than_twelve_months_before_today(
    taxonomy, checked, fresh, stale
) -> None:
    sheet = replace(AdviceLibrary.load(taxonomy).sheets[0], checked=checked)
    assert [sheet.stale_on(day) for day in fresh] == [False] * len(fresh)
    assert [sheet.stale_on(day) for day in stale] == [True] * len(stale)


def _library_checked_on(tmp_path, dates: dict[str, date], default: date):
    """The real sheets, with their check (and read) dates set: the test owns the calendar."""
    for language in LANGUAGES:
        (tmp_path / language).mkdir()
        for path in sorted((SHEETS_DIR / language).glob("*.md")):
            day = dates.get(path.stem, default).isoformat()
            text = re.sub(r"^checked: .*$", f"checked: {day}", path.read_text(), flags=re.M)
            text = re.sub(r"^(\s+read: ).*$", rf"\g<1>{day}", text, flags=re.M)
            (tmp_path / language / path.name).write_text(text)
    return tmp_path


def test_the_library_lists_the_stale_sheets_for_the_date_given(taxonomy, tmp_path) -> None:
    root = _library_checked_on(
        tmp_path,
        {"coverage": date(2025, 11, 30), "contract": date(2025, 12, 15)},
        default=date(2026, 6, 15),
    )
    library = AdviceLibrary.load(taxonomy, root=root)
    assert library.stale(date(2026, 11, 29)) == []
    [coverage] = library.stale(date(2026, 12, 1))
    assert (coverage.id, coverage.checked, coverage.languages) == (
        "coverage",
        date(2025, 11, 30),
        ("fr", "en"),
    )
    assert coverage.title == "Pas de réseau mobile ou des appels qui coupent"
    assert [s.id for s in library.stale(date(2027, 6, 16))][:2] == ["coverage", "contract"]
    assert len(library.stale(date(2027, 6, 16))) == len({s.id for s in library.sheets})


def test_a_translation_checked_apart_stops_the_start(taxonomy, tmp_path) -> None:
    root = _library_checked_on(tmp_path, {}, default=date(2026, 6, 15))
    path = root / "en" / "contract.md"
    path.write_text(path.read_text().replace("checked: 2026-06-15", "checked: 2026-06-16"))
    with pytest.raises(AdviceError, match="contract: fr and en differ"):
        AdviceLibrary.load(taxonomy, root=root)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: re.sub(r"(?s)^sources:.*?(?=^---)", "", t, count=1, flags=re.M),
            "front matter keys",
        ),
        (
            lambda t: re.sub(r"(?s)^sources:.*?(?=^---)", "sources: []\n", t, count=1, flags=re.M),
            "at least one source",
        ),
        (lambda t: t.replace("url: https://", "url: http://", 1), "not an https:// address"),
        (lambda t: t.replace("checked: 2026-06-15", "checked: 15/06/2026"), "must be a date"),
        (lambda t: t.replace("checked: 2026-06-15", "checked: 2026-06-14"), "read after"),
        (lambda t: t + "\nSources : [x](https://example.org)\n", "written from the front matter"),
    ],
)
def test_a_sheet_without_a_proper_check_record_is_refused(tmp_path, change, message) -> None:
    root = _library_checked_on(tmp_path, {}, default=date(2026, 6, 15))
    path = root / "fr" / "outage.md"
    path.write_text(change(path.read_text()))
    with pytest.raises(AdviceError, match=message):
        parse_sheet(path)


def test_recourse_differs_by_sector(taxonomy) -> None:
    library = AdviceLibrary.load(taxonomy)
    telecom = library.sheet_for("mobile", "billing", "fr").plain_text()
    postal = library.sheet_for("postal", "billing", "fr").plain_text()
    assert "Médiateur des communications électroniques" in telecom
    assert "Médiateur du groupe La Poste" in postal
    assert "3179" in library.sheet_for("fixed", "number_portability", "fr").body
    assert "33700" in library.sheet_for("mobile", "unsolicited_sales", "fr").body
    assert "monreseaumobile.arcep.fr" in library.sheet_for("mobile", "coverage", "en").body
    # The La Poste group's mediator covers DPD France too, in every postal sheet.
    for sheet in library.sheets:
        if sheet.sectors == ("postal",):
            assert "DPD France" in sheet.advice, (sheet.id, sheet.language)


def test_a_missing_sheet_stops_the_start(taxonomy, tmp_path) -> None:
    shutil.copytree(SHEETS_DIR, tmp_path, dirs_exist_ok=True)
    for language in LANGUAGES:
        (tmp_path / language / "coverage.md").unlink()
    with pytest.raises(AdviceError, match="coverage"):
        AdviceLibrary.load(taxonomy, root=tmp_path)
