"""Every problem of the taxonomy has its advice sheet, in French and in English."""
from __future__ import annotations

import pytest

from advice_content.library import LANGUAGES, AdviceError, AdviceLibrary


def test_every_sector_category_pair_has_a_sheet_in_each_language(taxonomy) -> None:
    library = AdviceLibrary.load(taxonomy)
    for language in LANGUAGES:
        for category, cat in taxonomy.categories.items():
            for sector in cat.sectors:
                sheet = library.sheet_for(sector, category, language)
                assert sheet.language == language
                assert category in sheet.categories and sector in sheet.sectors
                assert 100 < len(sheet.body) < 1500  # a phone screen or two, not a leaflet
                assert "https://" in sheet.body


def test_recourse_differs_by_sector(taxonomy) -> None:
    library = AdviceLibrary.load(taxonomy)
    telecom = library.sheet_for("mobile", "billing", "fr").plain_text()
    postal = library.sheet_for("postal", "billing", "fr").plain_text()
    assert "Médiateur des communications électroniques" in telecom
    assert "Médiateur du groupe La Poste" in postal
    assert "3179" in library.sheet_for("fixed", "number_portability", "fr").body
    assert "33700" in library.sheet_for("mobile", "unsolicited_sales", "fr").body
    assert "monreseaumobile.arcep.fr" in library.sheet_for("mobile", "coverage", "en").body


def test_a_missing_sheet_stops_the_start(taxonomy, tmp_path) -> None:
    library = AdviceLibrary.load(taxonomy)
    for language in LANGUAGES:
        (tmp_path / language).mkdir()
        for sheet in library.sheets:
            if sheet.language == language and sheet.id != "coverage":
                source = f"---\nid: {sheet.id}\ntitle: t\nlanguage: {language}\n" \
                         f"sectors: {list(sheet.sectors)}\ncategories: {list(sheet.categories)}\n---\nbody"
                (tmp_path / language / f"{sheet.id}.md").write_text(source)
    with pytest.raises(AdviceError, match="coverage"):
        AdviceLibrary.load(taxonomy, root=tmp_path)
