"""Exports for the staff console: pure functions, alert dicts in, bytes or text out.

The alerts are the dicts of `storage.repository.alert_to_json`. Nothing here reads
the database or the disk.

Staff exports (`alerts_csv`, `alerts_json`; `AlertsCsv`, `AlertsJson` in pieces)
    One record per alert, with every taxonomy id next to its French label (from
    domain/taxonomy.yml), the département derived from the location, and the number
    of photos. Photos appear in the JSON by sha256 only: never a server path.
    The conversation id is not exported.

    The CSV is UTF-8 with a BOM and ";" separators, so that a French Excel opens it
    in columns with its accents intact. Free text comes from the public, so every
    cell that starts with "=", "+", "-", "@", a tab or a carriage return (or the
    full-width "＝", "＋", "－", "＠" that some spreadsheets convert) gets a leading
    single quote, as OWASP recommends against formula (CSV) injection; quoting of
    ";", '"' and line breaks is left to the csv module. The JSON keeps the text as
    it is (it is data, not a spreadsheet).

    `AlertsCsv` and `AlertsJson` write the same bytes as `alerts_csv` and
    `alerts_json` a batch of alerts at a time (`head()`, `rows(batch)`…, `tail()`),
    so that the console can stream a million alerts without holding them.

Open data (`opendata_csv`; `OpenDataCounts` from grouped counts)
    An anonymised aggregate: the number of alerts per month (YYYY-MM of created_at,
    in Paris time), sector, category, operator and département. Only taxonomy ids and
    département codes can appear in it: an operator outside the taxonomy (or
    missing) becomes "autre", an unknown sector or category "inconnu", an unknown
    département "inconnu". No free text, photo, identifier or location finer than
    the département is ever written.

    Statistical secrecy (small-count suppression), with threshold k (default 5):

    1. every group (month, sector, category, operator, department) counting fewer
       than k alerts is removed from the file;
    2. so that totals stay honest, the removed counts of each (month, sector) are
       added up into one row with category "autre_secret", operator "secret" and
       department "secret" -- but only when that sum is itself at least k;
       otherwise it is removed too (and the file under-counts that month and
       sector by fewer than k alerts).

    A secret row therefore never equals one suppressed group (a single suppressed
    group counts fewer than k, so its sum alone would be dropped) and no other
    margin is published to subtract it from. Rows are sorted by month, sector,
    category, operator, département, each (month, sector) secret row last.

    `OpenDataCounts` takes counts already grouped by month, sector, category,
    operator and location (a SQL GROUP BY) and folds the locations into
    départements here, so that the database never sends one row per alert.

Rasa training data (`annotations_to_rasa_yaml`)
    Texts corrected by staff become Rasa 3.x NLU YAML: examples grouped by intent
    ("report_<category>" when a category is given), the operator named in the text
    annotated as an `operator` entity, and synonyms from what people wrote to the
    operator ids. See the function for how texts are made safe for Rasa's reader.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

import yaml

from domain.dates import as_json
from domain.fields import export_columns
from domain.taxonomy import Taxonomy
from storage.paris import month_of

__all__ = [
    "CSV_COLUMNS",
    "OPENDATA_COLUMNS",
    "AlertsCsv",
    "AlertsJson",
    "OpenDataCounts",
    "alerts_csv",
    "alerts_json",
    "annotations_to_rasa_yaml",
    "show_bidi_controls",
    "department_of",
    "opendata_csv",
]

# The record's columns come from the field registry (domain/fields.py), in its order.
CSV_COLUMNS: list[str] = ["id", "created_at", "channel", *export_columns()]

OPENDATA_COLUMNS: list[str] = ["month", "sector", "category", "operator", "department", "count"]

UNKNOWN = "inconnu"
OTHER_OPERATOR = "autre"
SECRET_CATEGORY = "autre_secret"
SECRET = "secret"

CSV_DELIMITER = ";"


# -- spreadsheet safety -------------------------------------------------------------
# OWASP "CSV Injection": =, +, -, @, tab, carriage return; plus the full-width
# forms, which some spreadsheets (and IMEs) turn into their ASCII counterparts.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


# Bidirectional controls (embeddings, overrides, isolates, marks) typed by people would
# reorder what a spreadsheet or a page shows (« \u202egpj.exe » reads « exe.jpg »): they
# are shown by their code point instead, so the reader sees that one was there.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def show_bidi_controls(text: str) -> str:
    """`text` with each bidirectional control written « [U+202E] »."""
    return BIDI_CONTROLS.sub(lambda control: f"[U+{ord(control.group()):04X}]", text)


def _cell(value: Any) -> str:
    """One CSV cell as text, neutralised against formula injection and bidirectional
    controls."""
    if value is None:
        return ""
    if isinstance(value, list):  # operators: ids joined by « | »
        value = "|".join(map(str, value))
    if isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = show_bidi_controls(str(value))
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def _csv_writer(buffer: io.StringIO) -> Any:
    return csv.writer(
        buffer, delimiter=CSV_DELIMITER, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = _csv_writer(buffer)
    writer.writerow([_cell(name) for name in header])
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")  # BOM first: Excel then reads UTF-8


# -- départements -------------------------------------------------------------------
# Five ASCII digits that are not part of a longer number or of a decimal number
# ("48.86123, 2.35012" holds no postal code).
_POSTAL_CODE = re.compile(r"(?<![0-9])(?<![0-9][.,])([0-9]{5})(?![0-9]|[.,][0-9])")
# Saint-Barthélemy and Saint-Martin have Guadeloupe postal codes but their own
# collectivity codes since 2007.
_OVERSEAS_POSTAL_CODES = {"97133": "977", "97150": "978"}


def _department_of_postal_code(code: str) -> str | None:
    head = code[:2]
    if head == "20":  # Corse: 200xx-201xx Corse-du-Sud, 202xx-206xx Haute-Corse
        if code[2] in "01":
            return "2A"
        if code[2] in "23456":
            return "2B"
        return None
    if head == "97":  # 971-974, 976 overseas départements; 975 Saint-Pierre-et-Miquelon
        if code in _OVERSEAS_POSTAL_CODES:
            return _OVERSEAS_POSTAL_CODES[code]
        return code[:3] if code[2] in "123456" else None
    if head == "98":  # Monaco (980xx) and the Pacific collectivities: no département
        return None
    return head if 1 <= int(head) <= 95 else None


_DEPARTMENT_LABEL = re.compile(r"\((0[1-9]|[1-8]\d|9[0-5]|2[ab]|97[1-46])\)\s*$", re.I)


def department_of(location: str | None) -> str | None:
    """The département code of the first postal code found in `location`, if any.

    "75011" -> "75", "06000 Nice" -> "06", "20000" -> "2A", "20200" -> "2B",
    "97200" -> "972"; "97133" (Saint-Barthélemy) -> "977", "97150" (Saint-Martin)
    -> "978". Monaco (980xx), the Pacific collectivities (98xxx), impossible codes
    ("00123", "96000"), commune names and coordinates give None; « Lyon (69) » gives "69".
    """
    if not location:
        return None
    for match in _POSTAL_CODE.finditer(location):
        department = _department_of_postal_code(match.group(1))
        if department is not None:
            return department
    # « Lyon (69) »: the dialogue's label for a commune with several postcodes.
    match = _DEPARTMENT_LABEL.search(location)
    return match.group(1).upper() if match else None


# -- staff exports ------------------------------------------------------------------
def _record(alert: Mapping[str, Any], taxonomy: Taxonomy) -> dict[str, Any]:
    """The exported form of one alert: ids with labels, no server path."""
    category = taxonomy.categories.get(alert.get("category") or "")
    operator = taxonomy.operators.get(alert.get("operator") or "")
    photos = alert.get("photos") or []
    # Every column as stored, then the ones derived from another.
    record = {column: as_json(alert.get(column)) for column in CSV_COLUMNS}
    record.update(
        {
            "user_type_label": taxonomy.user_types.get(alert.get("user_type") or ""),
            "sector_label": taxonomy.sectors.get(alert.get("sector") or ""),
            "category_label": category.label if category else None,
            "operator_label": operator.name if operator else None,
            "operator_group": operator.group if operator else None,
            # Every operator id of the alert (several for a dead zone), joined by « | » in CSV.
            "operators": _operators_cell(alert),
            "department": department_of(alert.get("location")),
            "shared": bool(alert.get("shared")),
            "photo_count": len(photos),
            "photos": [photo["sha256"] for photo in photos],
        }
    )
    return record


def _operators_cell(alert: Mapping[str, Any]) -> list[str]:
    operators = alert.get("operators")
    if operators is None:
        operators = [alert["operator"]] if alert.get("operator") else []
    return list(operators)


def alerts_csv(alerts: list[dict], taxonomy: Taxonomy) -> bytes:
    """The alerts for a spreadsheet: UTF-8 with BOM, ";", one row per alert, CSV_COLUMNS."""
    records = (_record(alert, taxonomy) for alert in alerts)
    return _csv_bytes(CSV_COLUMNS, ([r[name] for name in CSV_COLUMNS] for r in records))


def alerts_json(alerts: list[dict], taxonomy: Taxonomy) -> bytes:
    """The alerts as a UTF-8 JSON array: CSV_COLUMNS plus `photos` (sha256 list)."""
    records = [_record(alert, taxonomy) for alert in alerts]
    return (json.dumps(records, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


class AlertsCsv:
    """`alerts_csv` in pieces: head() + rows(batch) for each batch + tail() are the
    same bytes, whatever the batches."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy

    def head(self) -> bytes:
        return _csv_bytes(CSV_COLUMNS, ())  # the BOM and the header line

    def rows(self, alerts: Iterable[Mapping[str, Any]]) -> bytes:
        buffer = io.StringIO(newline="")
        writer = _csv_writer(buffer)
        for alert in alerts:
            record = _record(alert, self.taxonomy)
            writer.writerow([_cell(record[name]) for name in CSV_COLUMNS])
        return buffer.getvalue().encode("utf-8")

    def tail(self) -> bytes:
        return b""


class AlertsJson:
    """`alerts_json` in pieces (head() + rows(batch)… + tail()): each record is
    dumped alone and indented one level, which is how `json.dumps(..., indent=2)`
    lays out the elements of an array (JSON strings never hold a raw line break)."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self._written = False

    def head(self) -> bytes:
        return b"["

    def rows(self, alerts: Iterable[Mapping[str, Any]]) -> bytes:
        parts = []
        for alert in alerts:
            record = json.dumps(_record(alert, self.taxonomy), ensure_ascii=False, indent=2)
            parts.append((",\n  " if self._written else "\n  ") + record.replace("\n", "\n  "))
            self._written = True
        return "".join(parts).encode("utf-8")

    def tail(self) -> bytes:
        return b"\n]\n" if self._written else b"]\n"


# -- open data ----------------------------------------------------------------------
def _month(created_at: Any) -> str:
    if isinstance(created_at, datetime):
        moment = created_at
    else:
        text = str(created_at or "").strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"created_at is not an ISO 8601 date: {created_at!r}") from None
    return month_of(moment)


def _department_sort_key(department: str) -> tuple[int, str]:
    if department in (UNKNOWN, SECRET):
        return (1, department)
    return (0, {"2A": "20A", "2B": "20B"}.get(department, department))


def _check_threshold(threshold: int) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"threshold must be a positive integer, not {threshold!r}")


class OpenDataCounts:
    """Counts per (month, sector, category, operator, département), added a group at a
    time; `csv()` applies the suppression rule of the module docstring.

    The groups may be finer than the file's (one per location, as a SQL GROUP BY
    gives them): each location is read once for its département. Suppression never
    looks beyond one month, so a month can be settled -- its rows decided, its small
    groups forgotten -- once all its groups are in: `add_in_month_order` does that for
    groups that come sorted by month, and memory is then that of one month."""

    def __init__(self, taxonomy: Taxonomy, threshold: int = 5):
        _check_threshold(threshold)
        self.taxonomy = taxonomy
        self.threshold = threshold
        self.counts: Counter[tuple[str, str, str, str, str]] = Counter()  # not settled yet
        self._published: list[tuple[str, str, str, str, str, int]] = []
        self._departments: dict[str | None, str] = {}
        self._month: str | None = None

    def add(
        self,
        month: str,
        sector: str | None,
        category: str | None,
        operator: str | None,
        location: str | None,
        count: int = 1,
    ) -> None:
        """`count` alerts of that month (YYYY-MM, UTC), those ids and that location."""
        department = self._departments.get(location)
        if department is None:
            department = self._departments[location] = department_of(location) or UNKNOWN
        tax = self.taxonomy
        self.counts[
            (
                month,
                sector if sector in tax.sectors else UNKNOWN,
                category if category in tax.categories else UNKNOWN,
                operator if operator in tax.operators else OTHER_OPERATOR,
                department,
            )
        ] += count

    def add_in_month_order(
        self,
        month: str,
        sector: str | None,
        category: str | None,
        operator: str | None,
        location: str | None,
        count: int,
    ) -> None:
        """`add` for groups sorted by month: the previous month is settled when a new
        one begins."""
        if month != self._month:
            self._settle()
            self._month = month
        self.add(month, sector, category, operator, location, count)

    def _settle(self) -> None:
        suppressed: Counter[tuple[str, str]] = Counter()
        for key, count in self.counts.items():
            if count >= self.threshold:
                self._published.append((*key, count))
            else:
                suppressed[key[:2]] += count
        for (month, sector), total in suppressed.items():
            if total >= self.threshold:
                self._published.append((month, sector, SECRET_CATEGORY, SECRET, SECRET, total))
        self.counts.clear()

    def rows(self) -> list[tuple[str, str, str, str, str, int]]:
        self._settle()
        return sorted(
            self._published,
            key=lambda r: (
                r[0],
                r[1],
                r[2] == SECRET_CATEGORY,
                r[2],
                r[3],
                _department_sort_key(r[4]),
            ),
        )

    def csv(self) -> bytes:
        """UTF-8 with BOM, ";", OPENDATA_COLUMNS."""
        return _csv_bytes(OPENDATA_COLUMNS, self.rows())


def opendata_csv(alerts: list[dict], taxonomy: Taxonomy, threshold: int = 5) -> bytes:
    """Counts per month, sector, category, operator and département, small counts hidden.

    See the module docstring for the suppression rule. UTF-8 with BOM, ";".
    """
    counts = OpenDataCounts(taxonomy, threshold)
    for alert in alerts:
        # An alert about several operators counts once for each of them.
        for operator in _operators_cell(alert) or [alert.get("operator")]:
            counts.add(
                _month(alert.get("created_at")),
                alert.get("sector"),
                alert.get("category"),
                operator,
                alert.get("location"),
            )
    return counts.csv()


# -- Rasa training data -------------------------------------------------------------
_NAME = re.compile(r"^[A-Za-z0-9_]+$")
UNSPECIFIED_REPORT = "report_unspecified"  # the model's intent for a report of no category
# Brackets and braces would be read as entity markup (and "${...}" as an environment
# variable by Rasa's YAML loader); a backslash could start a "\uXXXX" escape, which
# Rasa decodes in files that are pure ASCII.
_MARKUP = frozenset("[](){}\\")
_NOT_TEXT = frozenset("\ufeff\ufffe\uffff")


def _plain(text: str) -> str:
    """One line of text: markup, control characters and line breaks become spaces."""
    chars = [
        " "
        if ch in _MARKUP or ch in _NOT_TEXT or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")
        else ch
        for ch in text
    ]
    return " ".join("".join(chars).split())


def _example_text(text: str) -> str:
    # A leading "/" would make Rasa read an intent name; "-" the list marker.
    return _plain(text).lstrip("/- ").strip()


def _find(needle: str, text: str) -> tuple[int, int] | None:
    """The first occurrence of `needle`: as a whole word first, then anywhere."""
    escaped = re.escape(needle)
    for pattern, flags in (
        (rf"(?<!\w){escaped}(?!\w)", 0),
        (rf"(?<!\w){escaped}(?!\w)", re.IGNORECASE),
        (escaped, 0),
        (escaped, re.IGNORECASE),
    ):
        found = re.search(pattern, text, flags)
        if found:
            return found.span()
    return None


def _name(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"invalid {what} name for Rasa: {value!r}")
    return value


class _Literal(str):
    """Dumped as a YAML block literal ("|") when the emitter can."""


class _Quoted(str):
    """Dumped double-quoted."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Literal,
    lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|"),
)
_Dumper.add_representer(
    _Quoted,
    lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style='"'),
)


def _examples(lines: Iterable[str]) -> _Literal:
    return _Literal("".join(f"- {line}\n" for line in lines))


def annotations_to_rasa_yaml(items: list[dict]) -> str:
    """Staff-corrected texts as Rasa 3.x NLU training data (YAML, version "3.1").

    Each item: text, intent, category, operator, operator_text, sector (the sector
    is not needed by the NLU data). The intent is "report_<category>" when a
    category is set, else `intent` -- the bare "report" becoming the model's
    "report_unspecified"; items with neither (or with no text left) are skipped.
    Intent, category and operator must be plain ids ([A-Za-z0-9_]+): anything else
    raises ValueError rather than writing broken training data.

    Texts are made safe for Rasa: line breaks, control characters, backslashes and
    [ ] ( ) { } become spaces, runs of spaces one space, and leading "/" and "-" are
    removed. When `operator_text` is found in the text (as a whole word if it can,
    the case of the text kept), its first occurrence is annotated
    "[...](operator)" -- also for operators outside the taxonomy, as the project's
    own data does -- and, when `operator` is set and differs from the lowercased
    text, a synonym maps that text to the operator id (a text claimed by several
    ids goes to the most frequent one, then the first id in order).

    Within an intent, examples are deduplicated ignoring case (an annotated one is
    preferred) and sorted; intents and synonyms are sorted by name.
    """
    by_intent: dict[str, dict[str, tuple[bool, str]]] = defaultdict(dict)
    synonym_votes: dict[str, Counter[str]] = defaultdict(Counter)

    for item in items:
        category = _name(item.get("category"), "category")
        intent = f"report_{category}" if category else _name(item.get("intent"), "intent")
        if intent == "report":  # a report whose category staff left open
            intent = UNSPECIFIED_REPORT
        operator = _name(item.get("operator"), "operator")
        if intent is None:
            continue
        text = _example_text(item.get("text") or "")
        if not text:
            continue
        example = text
        operator_text = _plain(item.get("operator_text") or "")
        span = _find(operator_text, text) if operator_text else None
        if span is not None:
            start, end = span
            written = text[start:end]
            example = f"{text[:start]}[{written}](operator){text[end:]}"
            if operator is not None and written.lower() != operator:
                synonym_votes[written.lower()][operator] += 1

        # One example per text, whatever the case: annotated first, then the
        # smallest string, so that the result does not depend on the items' order.
        rank = (span is None, example)
        key = text.casefold()
        best = by_intent[intent].get(key)
        if best is None or rank < best:
            by_intent[intent][key] = rank

    synonyms: dict[str, list[str]] = defaultdict(list)
    for written, votes in synonym_votes.items():
        operator = min(votes, key=lambda op: (-votes[op], op))
        synonyms[operator].append(written)

    nlu: list[dict[str, Any]] = []
    for intent in sorted(by_intent):
        chosen = by_intent[intent]
        nlu.append(
            {"intent": intent, "examples": _examples(chosen[key][1] for key in sorted(chosen))}
        )
    for operator in sorted(synonyms):
        nlu.append({"synonym": operator, "examples": _examples(sorted(synonyms[operator]))})

    return yaml.dump(
        {"version": _Quoted("3.1"), "nlu": nlu},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=1_000_000,
    )
