"""Stored-organisation documents (pure): JSON-ready, lossless, and the named edits."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from liucheng.org import (
    ORG_EDITS,
    Absence,
    Organisation,
    OrgRevision,
    OrgValidationError,
    edit_function,
    load_organisation,
    organisation_document,
    organisation_from_document,
)
from tests.conftest import ROOT

EXAMPLE = ROOT / "processes" / "service_desk" / "org.yaml"


def test_document_survives_json_and_rebuilds_the_same_organisation() -> None:
    org = load_organisation(EXAMPLE).add_absence(
        "carla",
        Absence(
            dt.datetime(2025, 3, 3, 13, tzinfo=dt.UTC), dt.datetime(2025, 3, 3, 18, tzinfo=dt.UTC)
        ),
    )
    doc = organisation_document(org)
    back = organisation_from_document(json.loads(json.dumps(doc)))
    assert organisation_document(back) == doc
    assert back.superior_chain("carla") == org.superior_chain("carla")
    at = dt.datetime(2025, 3, 3, 14, tzinfo=dt.UTC)
    assert back.availability("carla", at) == org.availability("carla", at) is not None


def test_a_broken_document_names_its_revision() -> None:
    with pytest.raises(OrgValidationError) as info:
        organisation_from_document(
            {"people": [{"id": "a", "superior": "ghost"}]}, source="organisation revision 7"
        )
    assert info.value.file == "organisation revision 7"


def test_edit_functions_apply_the_organisation_methods() -> None:
    org = load_organisation(EXAMPLE)
    assert set(ORG_EDITS) <= {n for n in dir(Organisation) if not n.startswith("_")}
    moved = edit_function("update_person", "anna", superior="hanna")(org)
    assert moved.superior("anna") == "hanna" and org.superior("anna") != "hanna"
    with pytest.raises(ValueError, match="unknown organisation edit"):
        edit_function("__class__")
    rev = OrgRevision(3, org, dt.datetime(2025, 1, 1, tzinfo=dt.UTC), "hanna", "edit")
    assert rev.to_dict() == {
        "revision": 3,
        "created_at": "2025-01-01T00:00:00+00:00",
        "author": "hanna",
        "comment": "edit",
    }
