"""Revisions of a stored organisation: the JSON document a store keeps, and what it came from.

Pure: a store (``liucheng.store``) keeps the documents, the engine decides when to read them;
this module only converts between :class:`Organisation` and the JSON-ready document (the same
mapping :func:`organisation_to_dict` writes and an organisation YAML file holds) and names the
edits the engine offers as persistent commands.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._io import organisation_from_dict, organisation_to_dict
from ._model import Organisation

__all__ = [
    "ORG_EDITS",
    "OrgRevision",
    "edit_function",
    "organisation_document",
    "organisation_from_document",
]

#: The :class:`Organisation` edits that ``Engine.org_admin()`` offers as stored commands
#: (each returns a new validated organisation; a failed edit raises ``OrgValidationError``).
ORG_EDITS: tuple[str, ...] = (
    "add_person",
    "update_person",
    "remove_person",
    "set_absences",
    "add_absence",
    "add_department",
    "update_department",
    "remove_department",
    "add_role",
    "remove_role",
    "add_group",
    "set_process",
    "set_calendar",
)


@dataclass(frozen=True, slots=True)
class OrgRevision:
    """One stored revision of the organisation.

    Attributes:
        revision: 1, 2, ... (each import or edit makes the next one).
        organisation: The organisation of that revision.
        created_at: When it was stored (UTC).
        author: Who imported or edited it, if known.
        comment: What changed (``"import org.yaml"``, ``"add_person zoe"``), if known.
    """

    revision: int
    organisation: Organisation
    created_at: datetime
    author: str | None = None
    comment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The revision's metadata (without the organisation) as JSON-ready values."""
        return {
            "revision": self.revision,
            "created_at": self.created_at.isoformat(),
            "author": self.author,
            "comment": self.comment,
        }


def organisation_document(org: Organisation) -> dict[str, Any]:
    """The organisation as a JSON-ready document (what a store keeps per revision).

    It is :func:`organisation_to_dict`, checked to survive JSON (dates are ISO strings), so
    :func:`organisation_from_document` of it gives an organisation with the same document.
    """
    doc = organisation_to_dict(org)
    # a value JSON cannot carry would otherwise fail later, inside the store's write
    result: dict[str, Any] = json.loads(json.dumps(doc, ensure_ascii=False))
    return result


def organisation_from_document(
    doc: Mapping[str, Any], *, source: str = "stored organisation"
) -> Organisation:
    """The organisation of a stored document (validated; ``OrgValidationError`` if broken).

    Args:
        doc: A document made by :func:`organisation_document` (or an organisation mapping).
        source: Named as the file in validation problems.
    """
    return organisation_from_dict(dict(doc), file=source)


def edit_function(
    edit: str, /, *args: Any, **kwargs: Any
) -> Callable[[Organisation], Organisation]:
    """The edit ``edit`` (one of :data:`ORG_EDITS`) with its arguments, as a function.

    Positional-only, because the edits' own keyword arguments include ``name``.

    Raises:
        ValueError: ``edit`` is not an edit.
    """
    if edit not in ORG_EDITS:
        raise ValueError(f"unknown organisation edit {edit!r}")

    def change(org: Organisation) -> Organisation:
        result: Organisation = getattr(org, edit)(*args, **kwargs)
        return result

    return change
