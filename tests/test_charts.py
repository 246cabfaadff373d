"""The staff dashboard's SVG charts and data tables: well-formed, escaped, accessible."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.console.charts import (
    bar_chart,
    data_table,
    format_number,
    line_chart,
    significant,
    stacked_bar_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = ["<script>alert(1)</script>", '" onload="x', "' onclick='y", "a & b ]]> <!--"]
MONTHS = [
    (f"2026-{m:02d}", float(v))
    for m, v in zip(range(1, 13), [3, 5, 8, 13, 21, 34, 40, 22, 11, 7, 0, 2])
]


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse(markup: str) -> ET.Element:
    """The chart parsed as XML, checked for the accessibility frame."""
    root = ET.fromstring(markup)
    assert local(root.tag) == "svg"
    assert root.get("role") == "img"
    ids = {el.get("id"): el for el in root.iter() if el.get("id")}
    title = ids[root.get("aria-labelledby")]
    desc = ids[root.get("aria-describedby")]
    assert local(title.tag) == "title" and title.text
    assert local(desc.tag) == "desc" and desc.text
    assert root[0] is title and root[1] is desc
    return root


def texts(root: ET.Element) -> str:
    """All the text a chart draws or tells, joined."""
    return " | ".join(t for el in root.iter() for t in [el.text, el.tail] if t and t.strip())


def drawn(root: ET.Element) -> list[str]:
    """The strings a chart draws (its <text> elements, without their tooltips)."""
    result = []
    for el in root.iter(SVG + "text"):
        tooltip = el.find(SVG + "title")
        result.append(tooltip.tail if tooltip is not None else el.text)
    return result


def assert_inert(root: ET.Element) -> None:
    for el in root.iter():
        assert local(el.tag).lower() != "script"
        assert not any(local(name).lower().startswith("on") for name in el.attrib)
        assert not any("javascript:" in value.lower() for value in el.attrib.values())


def all_charts(label: str = "Orange") -> dict[str, str]:
    return {
        "bar": bar_chart("Alertes", [(label, 40), ("SFR", 12.5), ("Free", 0)], unit="%"),
        "bar-empty": bar_chart("Alertes", []),
        "bar-zeros": bar_chart("Alertes", [("A", 0), ("B", 0)]),
        "stacked": stacked_bar_chart(
            "Op × problème", [label, "SFR"], [("Fibre", [3, 4]), ("Mobile", [0, 2])]
        ),
        "stacked-empty": stacked_bar_chart("Op × problème", [], []),
        "stacked-many": stacked_bar_chart(
            "Op × problème", ["A", "B"], [(f"S{i}", [i, 1]) for i in range(20)]
        ),
        "line": line_chart("Évolution", MONTHS),
        "line-single": line_chart("Évolution", [("2026-01", 5)]),
        "line-empty": line_chart("Évolution", []),
        "line-zeros": line_chart("Évolution", [("2026-01", 0), ("2026-02", 0)]),
    }


@pytest.mark.parametrize("kind", list(all_charts()))
def test_every_chart_is_valid_accessible_svg(kind):
    markup = all_charts()[kind]
    root = parse(markup)
    assert_inert(root)
    assert "http" not in markup.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert markup == all_charts()[kind]  # deterministic


@pytest.mark.parametrize("kind", ["bar-empty", "stacked-empty", "line-empty"])
def test_empty_charts_say_so(kind):
    root = parse(all_charts()[kind])
    assert "Aucune donnée" in texts(root)
    assert not [el for el in root.iter() if local(el.tag) in ("path", "circle")]


def test_single_point_has_a_dot_and_no_line():
    root = parse(line_chart("Évolution", [("2026-01", 5)]))
    assert len([el for el in root.iter(SVG + "circle")]) == 1
    assert not list(root.iter(SVG + "path"))
    assert "2026-01" in texts(root) and "5" in texts(root)
    assert root.find(SVG + "desc").text == "1 point 2026-01, maximum 5 (2026-01), dernier 5"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_is_only_text_in_charts(hostile):
    charts = [
        bar_chart(hostile, [(hostile, 3), ("x" * 80 + hostile, 2)], unit=hostile),
        stacked_bar_chart(hostile, [hostile, "B"], [(hostile, [1, 2]), ("b", [3, 4])]),
        line_chart(hostile, [(hostile, 1), ("2026-02", 2)]),
        *all_charts(hostile).values(),
    ]
    for markup in charts:
        assert "<script" not in markup
        root = parse(markup)
        assert_inert(root)
    # The hostile label is shown verbatim as text (title, tooltips or labels).
    for markup in charts[:3]:
        assert hostile in texts(ET.fromstring(markup))


def test_characters_xml_forbids_are_dropped():
    root = parse(bar_chart("a\x00b\x1b", [("c\x08d\ufffe", 1)]))
    assert "ab" in texts(root) and "cd" in texts(root)


def test_values_are_written_as_text():
    bar = drawn(
        parse(bar_chart("Alertes", [("Orange", 1234), ("SFR", 12.5), ("Free", 0)], unit="%"))
    )
    assert {"1\u202f234\u00a0%", "12,5\u00a0%", "0\u00a0%"} <= set(bar)
    stacked = drawn(
        parse(stacked_bar_chart("T", ["Orange", "SFR"], [("Fibre", [30, 4]), ("Mobile", [10, 2])]))
    )
    assert {"30", "10", "40", "6"} <= set(stacked)  # segments and totals
    line = drawn(parse(line_chart("T", MONTHS)))
    for _, value in MONTHS:
        assert format_number(value) in line


def test_descriptions_summarise():
    root = parse(bar_chart("Alertes", [("SFR", 12), ("Orange", 40), ("Free", 40)]))
    assert root.find(SVG + "desc").text == "3 valeurs, maximum 40 (Orange)"
    root = parse(stacked_bar_chart("T", ["Orange", "SFR"], [("Fibre", [3, 9]), ("Mobile", [1, 2])]))
    assert root.find(SVG + "desc").text == "2 catégories, 2 séries, total maximum 11 (SFR)"
    root = parse(line_chart("T", MONTHS))
    assert root.find(SVG + "desc").text == (
        "12 points de 2026-01 à 2026-12, maximum 40 (2026-07), dernier 2"
    )


def test_ids_differ_between_charts_with_the_same_title():
    for make in (
        lambda data: bar_chart("Alertes", [("Orange", data)]),
        lambda data: stacked_bar_chart("Alertes", ["A"], [(f"S{i}", [data]) for i in range(10)]),
        lambda data: line_chart("Alertes", [("2026-01", data)]),
    ):
        first, second = parse(make(1)), parse(make(2))
        ids = [{el.get("id") for el in root.iter() if el.get("id")} for root in (first, second)]
        assert ids[0] and not ids[0] & ids[1]
    kinds = [
        parse(bar_chart("T", [])),
        parse(line_chart("T", [])),
        parse(stacked_bar_chart("T", [], [])),
    ]
    assert len({root.get("id") for root in kinds}) == 3


def test_pattern_references_resolve_for_many_series():
    root = parse(stacked_bar_chart("T", ["A"], [(f"S{i}", [1]) for i in range(20)]))
    patterns = {el.get("id") for el in root.iter(SVG + "pattern")}
    assert len(patterns) == 12  # series 9 to 20 reuse the palette with hatching or dots
    segments = [el for el in root.iter(SVG + "rect") if el.find(SVG + "title") is not None]
    fills = [el.get("fill") for el in segments]
    assert len(set(fills)) == 20
    for fill in fills:
        if fill.startswith("url("):
            assert fill[5:-1] in patterns


def test_series_must_match_categories():
    with pytest.raises(ValueError):
        stacked_bar_chart("T", ["A", "B"], [("S", [1])])


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, "0"),
        (5, "5"),
        (1234, "1\u202f234"),
        (12.5, "12,5"),
        (3.0, "3"),
        (1234567.89, "1\u202f234\u202f567,9"),
        (-1234.56, "-1\u202f234,6"),
        (0.04, "0"),
        (-0.04, "0"),
        (2.25, "2,3"),
        (999.96, "1\u202f000"),
        (float("nan"), "—"),
    ],
)
def test_format_number(value, expected):
    assert format_number(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (1 * 100_000 / 7_000_000, "0,014"),
        (1 * 100_000 / 22_800_000, "0,0044"),
        (1.28, "1,3"),
        (27.4, "27"),
        (129.87, "130"),
        (134.2, "134"),
        (1234.5, "1\u202f235"),
        (0.1, "0,1"),
        (0, "0"),
        (5.0, "5"),
        (99.96, "100"),
        (-0.0123, "-0,012"),
    ],
)
def test_two_significant_digits_never_round_a_small_rate_to_zero(value, expected):
    assert format_number(significant(value)) == expected


def test_a_decimal_keeps_its_decimals_in_tables_and_bars():
    rate = significant(1 * 100_000 / 7_000_000)
    assert '<td class="num">0,014</td>' in data_table("T", ["A", "B"], [["x", rate]])
    assert ">0,014<" in bar_chart("T", [("x", rate), ("y", significant(2.5))])


def test_format_number_thousands_separator_is_a_no_break_space():
    assert format_number(1234).replace("\u00a0", "\u202f") == "1\u202f234"


def test_bar_widths_are_proportional():
    root = parse(bar_chart("T", [("A", 10), ("B", 40), ("C", 20), ("D", 0)]))
    widths = [float(g.find(SVG + "rect").get("width")) for g in root.findall(SVG + "g")]
    full = widths[1]
    assert full > 100
    assert widths == pytest.approx([full / 4, full, full / 2, 0], abs=0.1)
    # The largest bar runs up to its value, written before the right edge.
    largest = root.findall(SVG + "g")[1]
    bar, value = largest.find(SVG + "rect"), largest.findall(SVG + "text")[1]
    end = float(bar.get("x")) + full
    assert end < float(value.get("x")) < end + 10
    assert 0 < float(root.get("width")) - end < 60


def test_zero_values_have_no_bar():
    root = parse(bar_chart("T", [("A", 0), ("B", 0)]))
    assert [g.find(SVG + "rect").get("width") for g in root.findall(SVG + "g")] == ["0", "0"]


def test_stacked_widths_are_proportional_to_totals():
    root = parse(stacked_bar_chart("T", ["A", "B"], [("S", [30, 10]), ("R", [10, 10])]))
    rows = [g for g in root.findall(SVG + "g") if len(g.findall(SVG + "rect")) == 2]
    totals = [sum(float(r.get("width")) for r in g.findall(SVG + "rect")) for g in rows]
    assert totals[1] == pytest.approx(totals[0] / 2, abs=0.2)


def test_long_labels_are_truncated_with_the_full_text_in_a_tooltip():
    label = "La Poste — Colissimo, Chronopost et services de courrier " * 2
    root = parse(bar_chart("T", [(label, 1), ("Court", 2)]))
    labels = [g.find(SVG + "text") for g in root.findall(SVG + "g")]
    long, short = labels
    assert long.find(SVG + "title").text == label.strip()
    shown = long.find(SVG + "title").tail
    assert shown.endswith("…") and len(shown) < len(label)
    assert short.find(SVG + "title") is None and short.text == "Court"


def test_line_chart_y_axis_has_round_ticks_from_zero():
    root = parse(line_chart("T", MONTHS))
    ticks = [el.text for el in root.iter(SVG + "text") if el.get("text-anchor") == "end"]
    assert ticks == ["0", "10", "20", "30", "40"]
    root = parse(line_chart("T", [("2026-01", 1234), ("2026-02", 87)]))
    ticks = [el.text for el in root.iter(SVG + "text") if el.get("text-anchor") == "end"]
    assert ticks[0] == "0" and 4 <= len(ticks) <= 5
    assert ticks == ["0", "500", "1\u202f000", "1\u202f500"]


def test_line_chart_thins_out_crowded_labels_but_keeps_the_last():
    points = [(f"{2020 + m // 12}-{m % 12 + 1:02d}", float(m)) for m in range(60)]
    text = drawn(parse(line_chart("T", points)))
    shown = [label for label, _ in points if label in text]
    assert points[-1][0] in shown and 5 < len(shown) < 60


def table(markup: str) -> ET.Element:
    root = ET.fromstring(markup)  # html.escape output is also well-formed XML
    assert root.tag == "table"
    return root


def test_data_table_structure_and_number_format():
    root = table(
        data_table(
            "Alertes par opérateur",
            ["Opérateur", "Alertes", "Part"],
            [["Orange", 1234, 12.5], ["SFR", 3.0, None]],
        )
    )
    assert root.find("caption").text == "Alertes par opérateur"
    assert [(th.get("scope"), th.text) for th in root.iter("th")][:3] == [
        ("col", "Opérateur"),
        ("col", "Alertes"),
        ("col", "Part"),
    ]
    body = root.find("tbody").findall("tr")
    assert [tr[0].tag for tr in body] == ["th", "th"]
    assert [tr[0].get("scope") for tr in body] == ["row", "row"]
    assert [[c.text or "" for c in tr] for tr in body] == [
        ["Orange", "1\u202f234", "12,5"],
        ["SFR", "3", ""],
    ]


def test_data_table_without_rows():
    root = table(data_table("T", ["A", "B"], []))
    assert root.find("tbody/tr/td").text == "Aucune donnée"
    assert root.find("tbody/tr/td").get("colspan") == "2"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_is_only_text_in_tables(hostile):
    markup = data_table(hostile, [hostile, "N"], [[hostile, 1], ["x", hostile]])
    assert "<script" not in markup
    root = table(markup)
    assert_inert(root)
    assert root.find("caption").text == hostile
    assert [el.text for el in root.iter() if el.text == hostile] == [hostile] * 4
