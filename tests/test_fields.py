"""The field registry (domain/fields.py) is the one list of the alert's fields: every
other list is derived from it and agrees with the code that fills and stores them."""

from __future__ import annotations

import dataclasses

from dialogues.messages import label
from dialogues.slots import Slots
from dialogues.state import EXPECTING, Draft
from domain.fields import (
    ALERT_FIELDS,
    CORRECTABLE,
    FIELD,
    FIELDS,
    NAMED_ORDER,
    QUESTIONS,
    SUMMARY_ORDER,
    asked_by,
    export_columns,
)
from domain.taxonomy import Taxonomy
from storage.exports import CSV_COLUMNS
from storage.models import Alert

TAXONOMY = Taxonomy.load()
SLOTS = Slots(TAXONOMY)


def test_every_field_the_dialogue_fills_has_its_slot_its_draft_attribute_and_its_texts():
    draft_fields = {f.name for f in dataclasses.fields(Draft)}
    for f in FIELDS:
        if f.question is None and f.summary is None:
            continue  # a field of the record only
        assert SLOTS.get(f.name) is not None, f.name
        assert f.name in draft_fields or f.name == "photo", f.name
        for language in ("fr", "en"):
            # A missing title would show its key: « photos », « user_type ».
            assert label("fields", f.label_key, language) != f.label_key, (f.name, language)
    assert {s.name for s in SLOTS} <= set(FIELD)


def test_every_stored_field_is_a_column_of_the_alert_and_an_export_column():
    columns = set(Alert.__table__.columns.keys())
    assert set(ALERT_FIELDS) <= columns
    for f in FIELDS:
        assert set(f.columns) <= set(CSV_COLUMNS), f.name
        assert f.staff, f.name
    assert CSV_COLUMNS[3:] == export_columns()


def test_the_orders_name_each_field_once_and_only_fields_that_may_be_there():
    for order in (QUESTIONS, SUMMARY_ORDER, NAMED_ORDER, CORRECTABLE, EXPECTING):
        assert len(order) == len(set(order))
    assert set(CORRECTABLE) <= set(NAMED_ORDER)
    assert "photo" not in CORRECTABLE and "photo" in SUMMARY_ORDER
    assert set(SLOTS.fixable) == set(CORRECTABLE)
    assert {"confirmation", "rating"} <= set(EXPECTING)


def test_the_problems_that_ask_a_field_are_problems_of_the_taxonomy():
    for f in FIELDS:
        assert set(f.categories or ()) <= set(TAXONOMY.categories), f.name
    assert asked_by("coverage")[:2] == ("technology", "location")
    assert asked_by("billing") == ()
    assert TAXONOMY.categories["parcel_delivery"].asks == asked_by("parcel_delivery")
