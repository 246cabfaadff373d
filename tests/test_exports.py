"""Staff exports: CSV/JSON of alerts, open-data aggregate, Rasa training data."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.taxonomy import Taxonomy
from storage.exports import (
    CSV_COLUMNS,
    AlertsCsv,
    AlertsJson,
    OpenDataCounts,
    alerts_csv,
    alerts_json,
    annotations_to_rasa_yaml,
    department_of,
    opendata_csv,
)

BOM = b"\xef\xbb\xbf"
MARKER = "Zorglubiflex"  # a word only free text contains


def make_alert(n: int = 1, **fields: Any) -> dict[str, Any]:
    """An alert as `alert_to_json` gives it."""
    alert: dict[str, Any] = {
        "id": f"JA-REF{n:05d}",
        "created_at": "2024-03-15T10:20:30.123456+00:00",
        "channel": "telegram",
        "language": "fr",
        "user_type": "individual",
        "sector": "mobile",
        "operator": "orange",
        "operator_text": "Orange",
        "category": "coverage",
        "technology": "4g",
        "location": "Paris 75011",
        "description": f"pas de réseau {MARKER} depuis hier",
        "contacted_customer_service": "no",
        "advice_sheet": "mobile_coverage_fr",
        "advice_rating": None,
        "shared": False,
        "conversation_id": 1000 + n,
        "photos": [],
    }
    alert.update(fields)
    return alert


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(BOM)
    text = data[len(BOM) :].decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def header(data: bytes) -> list[str]:
    return data[len(BOM) :].decode("utf-8").split("\r\n", 1)[0].split(";")


# -- alerts CSV / JSON --------------------------------------------------------------
def test_csv_is_utf8_with_bom_semicolons_and_the_documented_columns(taxonomy: Taxonomy) -> None:
    data = alerts_csv([make_alert(1), make_alert(2, description="éàç œ 😀")], taxonomy)
    assert data.startswith(BOM)
    assert not data[len(BOM) :].startswith(BOM)
    assert header(data) == CSV_COLUMNS
    rows = read_csv(data)
    assert [r["id"] for r in rows] == ["JA-REF00001", "JA-REF00002"]
    assert rows[1]["description"] == "éàç œ 😀"
    assert alerts_csv([], taxonomy) == BOM + (";".join(CSV_COLUMNS) + "\r\n").encode()


@pytest.mark.parametrize(
    "dangerous",
    [
        '=HYPERLINK("http://evil")',
        "+1",
        "-2",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "=cmd|' /C calc'!A0",
        "\uff1d1+1",  # full-width "="
    ],
)
def test_csv_neutralises_formulas_in_every_text_cell(taxonomy: Taxonomy, dangerous: str) -> None:
    alert = make_alert(
        description=dangerous, operator=None, operator_text=dangerous, location=dangerous
    )
    (row,) = read_csv(alerts_csv([alert], taxonomy))
    assert row["description"] == "'" + dangerous
    assert row["operator_text"] == "'" + dangerous
    assert row["location"] == "'" + dangerous


def test_no_csv_cell_can_start_a_formula(taxonomy: Taxonomy) -> None:
    starts = ["=", "+", "-", "@", "\t", "\r"]
    alerts = [
        make_alert(
            i,
            description=f"{s}x",
            operator_text=f"{s}op",
            location=f"{s}loc",
            advice_sheet=f"{s}sheet",
            id=f"{s}id",
        )
        for i, s in enumerate(starts)
    ]
    rows = read_csv(alerts_csv(alerts, taxonomy))
    assert len(rows) == len(starts)
    for row in rows:
        for value in row.values():
            assert not value.startswith(tuple(starts)), value


def test_harmless_text_is_left_alone(taxonomy: Taxonomy) -> None:
    text = 'Bonjour; prix = 2 € "pas cher"\nsur deux lignes -> ok @ 18h'
    (row,) = read_csv(alerts_csv([make_alert(description=text)], taxonomy))
    assert row["description"] == text


@pytest.mark.parametrize(
    "control",
    [
        "\u202e",
        "\u202d",
        "\u202a",
        "\u202b",
        "\u202c",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
    ],
)
def test_bidi_controls_are_shown_by_their_code_not_obeyed(taxonomy: Taxonomy, control: str) -> None:
    """« \u202egpj.exe » would read « exe.jpg » in a spreadsheet."""
    code = f"[U+{ord(control):04X}]"
    alert = make_alert(
        description=f"facture{control}fdp.exe",
        operator=None,
        operator_text=f"{control}=Kiwi",
        location=f"Lyon {control}",
    )
    data = alerts_csv([alert], taxonomy)
    assert control.encode() not in data
    (row,) = read_csv(data)
    assert row["description"] == f"facture{code}fdp.exe"
    assert row["operator_text"] == f"{code}=Kiwi" and row["location"] == f"Lyon {code}"


def test_script_tags_are_just_text(taxonomy: Taxonomy) -> None:
    script = "<script>alert('x')</script>"
    alert = make_alert(description=script, operator_text=script)
    (row,) = read_csv(alerts_csv([alert], taxonomy))
    assert row["description"] == script
    (record,) = json.loads(alerts_json([alert], taxonomy))
    assert record["description"] == script
    assert record["operator_text"] == script


def test_labels_come_from_the_taxonomy(taxonomy: Taxonomy) -> None:
    alerts = [
        make_alert(
            1,
            user_type="business",
            sector="mobile",
            category="billing",
            operator="la_poste_mobile",
            operator_text="la poste mobile",
        ),
        make_alert(
            2,
            user_type="local_authority",
            sector="postal",
            category="parcel_delivery",
            operator="chronopost",
            operator_text="Chronopost",
            technology=None,
        ),
        make_alert(
            3,
            sector="fixed",
            category="fibre_connection",
            operator=None,
            operator_text="Transatel",
            technology="fibre",
        ),
    ]
    rows = read_csv(alerts_csv(alerts, taxonomy))
    assert rows[0]["user_type_label"] == "Entreprise / professionnel"
    assert rows[0]["sector_label"] == "Mobile (téléphone et internet mobile)"
    assert rows[0]["category_label"] == (
        "Facturation (montant erroné, prélèvement après résiliation, frais inconnus)"
    )
    assert (rows[0]["operator"], rows[0]["operator_label"], rows[0]["operator_group"]) == (
        "la_poste_mobile",
        "La Poste Mobile",
        "bouygues",
    )
    assert rows[1]["user_type_label"] == "Collectivité territoriale"
    assert rows[1]["sector_label"] == "Courrier et colis"
    assert rows[1]["category_label"] == (
        "Colis perdu, en retard, endommagé ou avis de passage sans passage"
    )
    assert (rows[1]["operator_label"], rows[1]["operator_group"]) == ("Chronopost", "la_poste")
    assert rows[1]["technology"] == ""
    # An operator outside the taxonomy: no id, no label, the words as written.
    assert rows[2]["sector_label"] == "Internet et téléphone fixe (ADSL, fibre, câble, box)"
    assert (rows[2]["operator"], rows[2]["operator_label"], rows[2]["operator_group"]) == (
        "",
        "",
        "",
    )
    assert rows[2]["operator_text"] == "Transatel"

    records = json.loads(alerts_json(alerts, taxonomy))
    assert records[0]["operator_label"] == "La Poste Mobile"
    assert records[0]["operator_group"] == "bouygues"
    assert records[2]["operator"] is None and records[2]["operator_label"] is None


def test_csv_values_department_and_photo_count(taxonomy: Taxonomy) -> None:
    photos = [
        {
            "sha256": c * 64,
            "path": f"/var/lib/jalerte/photos/{c}.jpg",
            "content_type": "image/jpeg",
            "size": 1000,
            "width": 10,
            "height": 10,
        }
        for c in "ab"
    ]
    alerts = [
        make_alert(
            1,
            location="13001 Marseille",
            photos=photos,
            shared=True,
            advice_rating="useful",
            contacted_customer_service="yes",
        ),
        make_alert(2, location="48.86, 2.35"),
    ]
    rows = read_csv(alerts_csv(alerts, taxonomy))
    assert (rows[0]["department"], rows[0]["photo_count"], rows[0]["shared"]) == ("13", "2", "yes")
    assert (rows[0]["advice_rating"], rows[0]["contacted_customer_service"]) == ("useful", "yes")
    assert (rows[1]["department"], rows[1]["photo_count"], rows[1]["shared"]) == ("", "0", "no")
    assert rows[1]["location"] == "48.86, 2.35"
    assert rows[0]["created_at"] == "2024-03-15T10:20:30.123456+00:00"


def test_json_has_the_same_information_and_no_server_path(taxonomy: Taxonomy) -> None:
    photos = [
        {
            "sha256": "f" * 64,
            "path": "/var/lib/jalerte/photos/ff/secret.jpg",
            "content_type": "image/png",
            "size": 5,
            "width": 1,
            "height": 1,
        }
    ]
    alerts = [
        make_alert(
            1,
            photos=photos,
            shared=True,
            location="20200 Bastia",
            description="multi\nligne «ok» 😀",
        )
    ]
    data = alerts_json(alerts, taxonomy)
    assert not data.startswith(BOM)
    assert "😀".encode() in data  # UTF-8, not \u escapes
    assert b"/var/lib" not in data and b"secret.jpg" not in data and b"path" not in data
    (record,) = json.loads(data.decode("utf-8"))
    assert set(record) == set(CSV_COLUMNS) | {"photos"}
    assert record["photos"] == ["f" * 64]
    assert record["photo_count"] == 1
    assert record["department"] == "2B"
    assert record["shared"] is True
    assert record["description"] == "multi\nligne «ok» 😀"
    assert record["category_label"] == taxonomy.categories["coverage"].label
    assert "conversation_id" not in record
    assert json.loads(alerts_json([], taxonomy)) == []


def test_an_alert_about_several_operators_lists_them(taxonomy: Taxonomy) -> None:
    """CSV: ids joined by « | »; JSON: a list; one operator: itself; none: empty."""
    alerts = [
        make_alert(1, operator=None, operator_text=None, operators=["orange", "sfr"]),
        make_alert(2, operators=["orange"]),
        make_alert(3, operator=None, operator_text="Kiwi", operators=[]),
        make_alert(4),
    ]  # a record of before: its operator
    rows = read_csv(alerts_csv(alerts, taxonomy))
    assert [r["operators"] for r in rows] == ["orange|sfr", "orange", "", "orange"]
    assert rows[0]["operator"] == "" and rows[0]["operator_label"] == ""
    records = json.loads(alerts_json(alerts, taxonomy).decode("utf-8"))
    assert [r["operators"] for r in records] == [["orange", "sfr"], ["orange"], [], ["orange"]]


def test_opendata_counts_an_alert_about_several_operators_for_each(taxonomy: Taxonomy) -> None:
    several = [
        make_alert(n, operator=None, operator_text=None, operators=["orange", "sfr"])
        for n in range(5)
    ]
    rows = read_csv(opendata_csv(several + [make_alert(9)], taxonomy, threshold=1))
    counts = {r["operator"]: int(r["count"]) for r in rows}
    assert counts == {"orange": 6, "sfr": 5}


def test_writers_in_pieces_give_the_same_bytes_whatever_the_batches(taxonomy: Taxonomy) -> None:
    texts = ["=1+1", "multi\nligne", "sép\u2028aré\u0085 😀", 'a;b "c"', "", "\uff0b1"]
    photo = {
        "sha256": "e" * 64,
        "path": "/p",
        "content_type": "image/jpeg",
        "size": 1,
        "width": 1,
        "height": 1,
    }
    alerts = [
        make_alert(
            i,
            description=texts[i % len(texts)],
            photos=[photo] * (i % 3),
            location=texts[(i + 1) % len(texts)],
            shared=i % 2 == 0,
        )
        for i in range(23)
    ]
    rng = random.Random(3)
    for whole, make in ((alerts_csv, AlertsCsv), (alerts_json, AlertsJson)):
        for _ in range(5):
            cuts = sorted(rng.sample(range(len(alerts) + 1), 4))
            batches = [alerts[a:b] for a, b in zip([0, *cuts], [*cuts, len(alerts)])]
            writer = make(taxonomy)
            pieces = writer.head() + b"".join(writer.rows(b) for b in batches) + writer.tail()
            assert pieces == whole(alerts, taxonomy), make
        for batches in ([], [[]], [[], []]):
            writer = make(taxonomy)
            assert writer.head() + b"".join(
                writer.rows(b) for b in batches
            ) + writer.tail() == whole([], taxonomy)


def test_opendata_from_grouped_counts_equals_the_alert_by_alert_file(taxonomy: Taxonomy) -> None:
    alerts = opendata_alerts()
    # What the database's GROUP BY gives: one row per month (UTC), ids and location.
    months = {"2024-05-01T01:00:00+04:00": "2024-04"}
    groups = Counter(
        (
            months.get(a["created_at"], a["created_at"][:7]),
            a["sector"],
            a["category"],
            a["operator"],
            a["location"],
        )
        for a in alerts
    )
    in_month_order = sorted(groups.items(), key=lambda item: item[0][0])
    for threshold in (1, 5, 10):
        expected = opendata_csv(alerts, taxonomy, threshold=threshold)
        counts = OpenDataCounts(taxonomy, threshold)
        for key, count in reversed(groups.items()):
            counts.add(*key, count=count)
        assert counts.csv() == expected
        # Settled a month at a time (each month's small groups dropped as the next begins).
        counts = OpenDataCounts(taxonomy, threshold)
        for key, count in in_month_order:
            counts.add_in_month_order(*key, count=count)
        assert counts.csv() == expected
    with pytest.raises(ValueError):
        OpenDataCounts(taxonomy, 0)


# -- départements -------------------------------------------------------------------
@pytest.mark.parametrize(
    "location, department",
    [
        ("75011", "75"),
        ("Paris 75011", "75"),
        ("75011 Paris", "75"),
        ("Paris,75011", "75"),
        ("06000", "06"),
        ("Nice (06000)", "06"),
        ("01000 Bourg-en-Bresse", "01"),
        ("95000", "95"),
        ("20000", "2A"),
        ("20090 Ajaccio Cedex", "2A"),
        ("20100", "2A"),
        ("20137 Porto-Vecchio", "2A"),
        ("20200", "2B"),
        ("20600 Bastia", "2B"),
        ("20700", None),
        ("97100 Basse-Terre", "971"),
        ("97200", "972"),
        ("97300 Cayenne", "973"),
        ("97400", "974"),
        ("97500", "975"),
        ("97600", "976"),
        ("97133", "977"),  # Saint-Barthélemy
        ("97150", "978"),  # Saint-Martin
        ("97000", None),
        ("97700", None),
        ("98000", None),  # Monaco
        ("98000 Monaco", None),
        ("98800 Nouméa", None),
        ("00100", None),
        ("96000", None),
        ("Paris", None),
        ("Lannion", None),
        ("48.86, 2.35", None),
        ("48.86123, 2.35012", None),
        ("-21.11542, 55.53612", None),
        ("750111", None),
        ("7501", None),
        ("0612345678", None),
        ("", None),
        (None, None),
        ("rue 12, 69003 Lyon", "69"),
        ("98000 puis 13001", "13"),
    ],
)
def test_department_of(location: str | None, department: str | None) -> None:
    assert department_of(location) == department


# -- open data ----------------------------------------------------------------------
def opendata_alerts() -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = []

    def add(count: int, **fields: Any) -> None:
        for _ in range(count):
            n = len(alerts) + 1
            values: dict[str, Any] = {
                "description": f"{MARKER} texte libre numéro {n} =1+1",
                "operator_text": f"{MARKER}Op",
                "photos": [
                    {
                        "sha256": f"{n:064x}",
                        "path": "/p",
                        "content_type": "image/jpeg",
                        "size": 1,
                        "width": 1,
                        "height": 1,
                    }
                ],
            }
            values.update(fields)
            alerts.append(make_alert(n, **values))

    march = "2024-03-{:02d}T12:00:00+00:00"
    # (2024-03, mobile): one big group, one small group alone.
    add(12, created_at=march.format(3), location=f"{MARKER} 75011")
    add(3, created_at=march.format(4), operator="sfr", location="13001")
    # (2024-03, fixed): two small groups whose sum reaches the threshold.
    add(
        4,
        created_at=march.format(5),
        sector="fixed",
        category="outage",
        operator="free",
        location="69003 Lyon",
    )
    add(
        3,
        created_at=march.format(6),
        sector="fixed",
        category="slow_speed",
        operator="free",
        location="69003 Lyon",
    )
    add(
        6,
        created_at=march.format(7),
        sector="fixed",
        category="outage",
        operator="free",
        location=f"{MARKER}ville",
    )  # department unknown
    # (2024-04, postal): two small groups whose sum stays under the threshold.
    april = "2024-04-02T08:00:00+02:00"
    add(
        2,
        created_at=april,
        sector="postal",
        category="parcel_delivery",
        operator="la_poste",
        location="20000",
    )
    add(
        2,
        created_at=april,
        sector="postal",
        category="mail_delivery",
        operator="la_poste",
        location="20200",
    )
    # (2024-04, mobile): operators outside the taxonomy are grouped as "autre".
    add(
        3,
        created_at="2024-04-10T10:00:00+00:00",
        operator=None,
        operator_text="Transatel",
        location="97200",
    )
    add(
        2,
        created_at="2024-04-11T10:00:00+00:00",
        operator="transatel_unknown_id",
        location="Fort-de-France 97200",
    )
    # A late evening in Réunion is already the next month in UTC.
    add(
        5,
        created_at="2024-05-01T01:00:00+04:00",
        sector="mobile",
        category="coverage",
        operator="orange",
        location="97400",
    )
    return alerts


def expected_opendata(
    alerts: list[dict[str, Any]], taxonomy: Taxonomy, threshold: int
) -> set[tuple[str, ...]]:
    """The rule written out again, independently of the module."""

    def department(location: str) -> str:
        known = {
            "75011": "75",
            "13001": "13",
            "69003": "69",
            "20000": "2A",
            "20200": "2B",
            "97200": "972",
            "97400": "974",
        }
        return next((d for code, d in known.items() if code in location), "inconnu")

    def month(created_at: str) -> str:
        return "2024-04" if created_at.startswith("2024-05-01T01:00:00+04:00") else created_at[:7]

    groups = Counter(
        (
            month(a["created_at"]),
            a["sector"],
            a["category"],
            a["operator"] if a["operator"] in taxonomy.operators else "autre",
            department(a["location"]),
        )
        for a in alerts
    )
    rows = {(*key, str(n)) for key, n in groups.items() if n >= threshold}
    hidden: Counter[tuple[str, str]] = Counter()
    for key, n in groups.items():
        if n < threshold:
            hidden[key[:2]] += n
    rows |= {
        (m, s, "autre_secret", "secret", "secret", str(n))
        for (m, s), n in hidden.items()
        if n >= threshold
    }
    return rows


def test_opendata_counts_and_secrecy(taxonomy: Taxonomy) -> None:
    alerts = opendata_alerts()
    data = opendata_csv(alerts, taxonomy)
    assert data.startswith(BOM)
    assert header(data) == ["month", "sector", "category", "operator", "department", "count"]
    rows = [tuple(r.values()) for r in read_csv(data)]
    assert len(rows) == len(set(rows))
    assert set(rows) == expected_opendata(alerts, taxonomy, threshold=5)

    assert ("2024-03", "mobile", "coverage", "orange", "75", "12") in rows
    # The group of 3 (sfr, 13) is alone under the threshold in (2024-03, mobile): gone.
    assert not [r for r in rows if r[3] == "sfr" or r[4] == "13"]
    assert not [r for r in rows if r[:2] == ("2024-03", "mobile") and r[3] == "secret"]
    # (2024-03, fixed): 4 + 3 hidden, published together as 7.
    assert ("2024-03", "fixed", "outage", "free", "inconnu", "6") in rows
    assert ("2024-03", "fixed", "autre_secret", "secret", "secret", "7") in rows
    assert not [r for r in rows if r[4] == "69"]
    # (2024-04, postal): 2 + 2 < 5, nothing at all.
    assert not [r for r in rows if r[1] == "postal"]
    # Unknown operators together: 3 (None) + 2 (id outside the taxonomy) = 5.
    assert ("2024-04", "mobile", "coverage", "autre", "972", "5") in rows
    assert ("2024-04", "mobile", "coverage", "orange", "974", "5") in rows
    # Totals: everything but the groups that could not be published.
    assert sum(int(r[5]) for r in rows) == len(alerts) - 3 - 4
    # Deterministic order: month, sector, then the secret row last.
    assert rows == sorted(rows, key=lambda r: (r[0], r[1], r[2] == "autre_secret", r[2:5]))


def test_opendata_writes_no_free_text_identifier_or_location(taxonomy: Taxonomy) -> None:
    alerts = opendata_alerts()
    data = opendata_csv(alerts, taxonomy, threshold=1)
    text = data.decode("utf-8-sig")
    assert MARKER.lower() not in text.lower()
    for column in ("description", "location", "id", "operator_text", "photos", "created_at"):
        assert column not in header(data)
    for alert in alerts:
        assert alert["id"] not in text
        assert alert["photos"][0]["sha256"] not in text
    for forbidden in (
        "75011",
        "13001",
        "69003",
        "Lyon",
        "Fort-de-France",
        "Transatel",
        "transatel_unknown_id",
        "texte libre",
        "=1+1",
        "T12:00",
    ):
        assert forbidden not in text
    rows = read_csv(data)
    allowed_categories = set(taxonomy.categories) | {"inconnu", "autre_secret"}
    allowed_operators = set(taxonomy.operators) | {"autre", "secret"}
    for row in rows:
        assert row["sector"] in set(taxonomy.sectors) | {"inconnu"}
        assert row["category"] in allowed_categories
        assert row["operator"] in allowed_operators
    # With threshold 1 nothing is hidden.
    assert sum(int(r["count"]) for r in rows) == len(alerts)


def test_opendata_is_deterministic_and_checks_its_threshold(taxonomy: Taxonomy) -> None:
    alerts = opendata_alerts()
    shuffled = alerts[:]
    random.Random(7).shuffle(shuffled)
    assert opendata_csv(shuffled, taxonomy) == opendata_csv(alerts, taxonomy)
    assert read_csv(opendata_csv([], taxonomy)) == []
    assert read_csv(opendata_csv(alerts[:4], taxonomy)) == []  # 4 alerts, nothing to publish
    strict = {tuple(r.values()) for r in read_csv(opendata_csv(alerts, taxonomy, threshold=10))}
    assert strict == expected_opendata(alerts, taxonomy, threshold=10)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError):
            opendata_csv(alerts, taxonomy, threshold=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        opendata_csv([make_alert(created_at="hier")], taxonomy)


def test_opendata_unknown_sector_category_and_department(taxonomy: Taxonomy) -> None:
    alerts = [make_alert(i, sector=None, category=f"{MARKER}cat", location=None) for i in range(5)]
    rows = [tuple(r.values()) for r in read_csv(opendata_csv(alerts, taxonomy))]
    assert rows == [("2024-03", "inconnu", "inconnu", "orange", "inconnu", "5")]


# -- Rasa training data -------------------------------------------------------------
ANNOTATIONS: list[dict[str, Any]] = [
    {
        "text": "Ma Free Mobile ne capte plus\ndepuis lundi",
        "intent": "report_other",
        "category": "coverage",
        "operator": "free",
        "operator_text": "Free Mobile",
        "sector": "mobile",
    },
    {
        "text": "MA FREE MOBILE NE CAPTE PLUS DEPUIS LUNDI",
        "intent": None,
        "category": "coverage",
        "operator": None,
        "operator_text": None,
        "sector": "mobile",
    },
    {
        "text": "- orange [me] (prélève) {encore} après résiliation",
        "intent": None,
        "category": "billing",
        "operator": "orange",
        "operator_text": "orange",
        "sector": "fixed",
    },
    {
        "text": "/greet",
        "intent": "greet",
        "category": None,
        "operator": None,
        "operator_text": None,
        "sector": None,
    },
    {
        "text": "  bonjour 😀 ${HOME} C:\\users\\u12 ",
        "intent": "greet",
        "category": None,
        "operator": None,
        "operator_text": None,
        "sector": None,
    },
    {
        "text": "BONJOUR 😀 ${HOME} C:\\users\\u12",
        "intent": "greet",
        "category": None,
        "operator": None,
        "operator_text": None,
        "sector": None,
    },
    {
        "text": "sans rien",
        "intent": None,
        "category": None,
        "operator": "sfr",
        "operator_text": "sans",
        "sector": None,
    },
    {
        "text": "   ",
        "intent": "greet",
        "category": None,
        "operator": None,
        "operator_text": None,
        "sector": None,
    },
    {
        "text": "j'ai un souci à signaler",
        "intent": "report",
        "category": None,
        "operator": None,
        "operator_text": None,
        "sector": None,
    },
    {
        "text": "mon colis Transatel n'arrive pas",
        "intent": None,
        "category": "parcel_delivery",
        "operator": None,
        "operator_text": "Transatel",
        "sector": "postal",
    },
    {
        "text": "la freebox de FREE MOBILE plante",
        "intent": None,
        "category": "outage",
        "operator": "free",
        "operator_text": "free mobile",
        "sector": "fixed",
    },
    {
        "text": "Le Sosh (Orange) facture trop",
        "intent": None,
        "category": "billing",
        "operator": "orange",
        "operator_text": "Sosh",
        "sector": "mobile",
    },
]


def test_annotations_yaml(nlu_python: str, tmp_path: Path) -> None:
    text = annotations_to_rasa_yaml(ANNOTATIONS)
    data = yaml.safe_load(text)
    assert data["version"] == "3.1"
    assert 'version: "3.1"' in text
    intents = {
        entry["intent"]: entry["examples"].splitlines()
        for entry in data["nlu"]
        if "intent" in entry
    }
    synonyms = {
        entry["synonym"]: entry["examples"].splitlines()
        for entry in data["nlu"]
        if "synonym" in entry
    }
    assert list(intents) == [
        "greet",
        "report_billing",
        "report_coverage",
        "report_outage",
        "report_parcel_delivery",
        "report_unspecified",
    ]
    # A report with no category is the model's "report_unspecified".
    assert intents["report_unspecified"] == ["- j'ai un souci à signaler"]
    # Annotated (and preferred to the plain duplicate), one line, case-insensitive dedup.
    assert intents["report_coverage"] == ["- Ma [Free Mobile](operator) ne capte plus depuis lundi"]
    # Brackets outside the annotation and the leading "-" are gone.
    assert intents["report_billing"] == [
        "- Le [Sosh](operator) Orange facture trop",
        "- [orange](operator) me prélève encore après résiliation",
    ]
    # The whole word is annotated, in the case of the text.
    assert intents["report_outage"] == ["- la freebox de [FREE MOBILE](operator) plante"]
    # An operator outside the taxonomy is still an operator entity, with no synonym.
    assert intents["report_parcel_delivery"] == ["- mon colis [Transatel](operator) n'arrive pas"]
    assert intents["greet"] == ["- BONJOUR 😀 $ HOME C: users u12", "- greet"]
    assert synonyms == {"free": ["- free mobile"], "orange": ["- sosh"]}
    assert "sans rien" not in text
    assert annotations_to_rasa_yaml(list(reversed(ANNOTATIONS))) == text
    assert yaml.safe_load(annotations_to_rasa_yaml([])) == {"version": "3.1", "nlu": []}
    with pytest.raises(ValueError):
        annotations_to_rasa_yaml([{"text": "x", "intent": "bad intent", "category": None}])
    with pytest.raises(ValueError):
        annotations_to_rasa_yaml([{"text": "x", "category": "billing", "operator": "a/b"}])

    # Rasa's own reader, in the NLU environment (Rasa is never imported by the bot).
    path = tmp_path / "annotations.yml"
    path.write_text(text, encoding="utf-8")
    training = rasa_reads(nlu_python, path)
    examples = {(m["intent"], m["text"]): m["entities"] for m in training["examples"]}
    assert len(examples) == sum(len(lines) for lines in intents.values())
    entities = examples[("report_coverage", "Ma Free Mobile ne capte plus depuis lundi")]
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in entities] == [
        ("operator", "Free Mobile", 3, 14)
    ]
    assert examples[("greet", "BONJOUR 😀 $ HOME C: users u12")] == []
    assert training["synonyms"] == {"free mobile": "free", "sosh": "orange"}

    # A file that is pure ASCII goes through Rasa's "\uXXXX" decoding: still fine.
    ascii_text = annotations_to_rasa_yaml(
        [
            {
                "text": "C:\\users\\u12 ${PATH} plus de reseau chez SFR",
                "category": "coverage",
                "operator": "sfr",
                "operator_text": "SFR",
            }
        ]
    )
    assert ascii_text.isascii()
    ascii_path = tmp_path / "ascii.yml"
    ascii_path.write_text(ascii_text, encoding="utf-8")
    (message,) = rasa_reads(nlu_python, ascii_path)["examples"]
    assert message["text"] == "C: users u12 $ PATH plus de reseau chez SFR"
    assert message["entities"][0]["value"] == "SFR"


RASA_READER = """
import json, sys
from rasa.shared.nlu.training_data.loading import load_data
data = load_data(sys.argv[1])
print(json.dumps({
    "examples": [{"intent": m.get("intent"), "text": m.get("text"),
                  "entities": m.get("entities") or []} for m in data.training_examples],
    "synonyms": data.entity_synonyms}))
"""


def rasa_reads(nlu_python: str, path) -> dict:
    """What Rasa 3.6's own training-data reader makes of a file."""
    done = subprocess.run(
        [nlu_python, "-W", "ignore", "-c", RASA_READER, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_department_of_a_commune_label() -> None:
    from storage.exports import department_of

    assert department_of("Saint-Flour (15100)") == "15"
    assert department_of("Lyon (69)") == "69"
    assert department_of("Ajaccio (2A)") == "2A"
    assert department_of("dans le centre (à côté)") is None
