"""What people read for review ratings and dashboard flags.

Stored values are short English identifiers; these maps give the marked
wording that templates pass to ``_()`` (terms as in ``docs/glossary.md``).
"""

from __future__ import annotations

from enum import StrEnum

from server.enums import ReviewStatus
from server.i18n import N_


class Flag(StrEnum):
    """Why a participant needs the officer's attention now."""

    NO_CONTACT = "no_contact"
    MISSED = "missed"
    SERIOUS = "serious"
    OVERDUE = "overdue"


STATUSES = {
    ReviewStatus.ON_TRACK: N_("On track"),
    ReviewStatus.SOME_CONCERNS: N_("Some concerns"),
    ReviewStatus.SERIOUS_CONCERNS: N_("Serious concerns"),
}

FLAGS = {
    Flag.NO_CONTACT: N_("No contact for %(days)s days or more"),
    Flag.MISSED: N_("Missed %(missed)s of the last %(recent)s sessions"),
    Flag.SERIOUS: N_("Serious concerns in the last progress review"),
    Flag.OVERDUE: N_("Progress review overdue"),
}

# Short wording for the table's cells, where the full sentence does not fit.
FLAG_SHORT = {
    Flag.NO_CONTACT: N_("No contact"),
    Flag.MISSED: N_("Missed sessions"),
    Flag.SERIOUS: N_("Serious concerns"),
    Flag.OVERDUE: N_("Review overdue"),
}
