"""The refusals a booking can meet: a code for callers, a sentence for people (re-exported by services).

Callers branch on `BookingError.code` (the API's 400 or 409, which page a view shows); people read
`BookingError.message`. The codes:

=================  ==========================================================================  =====
code               meaning                                                                     API
=================  ==========================================================================  =====
``taken``          someone else holds (part of) the time (SlotTaken, with alternatives)         409
``no_free_time``   a later session of the series finds no free time in its spacing window      409
``busy``           someone else is changing this series (or diary) right now: try again        409
``changed``        the session changed since the page was shown (another tab, the front desk)  409
``not_offered``    not a time the clinic lists (length, slot grid, room, no longer offered)    400
``too_soon``       inside the minimum notice for patients (staff may book sooner)              400
``too_far``        the first session is beyond the booking horizon                             400
``outside_rules``  outside working hours, time off, spacing between sessions, too long         400
``too_late``       inside the cancellation cutoff: patients call the clinic                    400
``not_changeable`` the session is cancelled or has taken place                                 400
``wrong_status``   a status change that does not follow from the current one                   400
``not_yet``        too early for that (a no-show before the session started)                   400
``consent``        a consent is missing                                                        400
``invalid``        a request that cannot be right (wrong number of sessions, mixed series)     400
``patient_busy``   the patient has another appointment at that time                            409
``series_running`` the patient already has a series of this treatment running (SeriesRunning)  409
``patient_exists`` the front desk registered someone already on record (PatientExists)         409
``too_early``      a status change before its window opens (check-in, completed, no-show)      400
``review_needed``  check-in or completion needs the practitioner's review confirmed first      400
``not_markable``   not a status a session can be marked with                                   400
``not_marked``     an undo of a session that has no check-in, completion or no-show            400
``has_bookings``   a practitioner with future bookings cannot be deactivated                   400
``not_eligible_yet`` the safety answers set a later earliest first session (with the date)      400
``call_us``        the safety answers mean a practitioner decides: not booked online           400
``consultation_needed`` a consultation first, and no free time for it before the first session  400
``refused``        any other refusal (the default when a raise names no code)                  400
=================  ==========================================================================  =====

New codes are fine: a caller that does not know a code treats it as a plain refusal (400).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bookings.availability import Slot


class Code(StrEnum):
    """Why a booking was refused (compares equal to its plain string: `Code.TAKEN == "taken"`)."""

    TAKEN = "taken"
    NO_FREE_TIME = "no_free_time"
    BUSY = "busy"
    CHANGED = "changed"
    NOT_OFFERED = "not_offered"
    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"
    OUTSIDE_RULES = "outside_rules"
    TOO_LATE = "too_late"
    NOT_CHANGEABLE = "not_changeable"
    WRONG_STATUS = "wrong_status"
    NOT_YET = "not_yet"
    CONSENT = "consent"
    INVALID = "invalid"
    PATIENT_BUSY = "patient_busy"
    SERIES_RUNNING = "series_running"
    PATIENT_EXISTS = "patient_exists"
    TOO_EARLY = "too_early"
    REVIEW_NEEDED = "review_needed"
    NOT_MARKABLE = "not_markable"
    NOT_MARKED = "not_marked"
    HAS_BOOKINGS = "has_bookings"
    NOT_ELIGIBLE_YET = "not_eligible_yet"
    CALL_US = "call_us"
    CONSULTATION_NEEDED = "consultation_needed"
    REFUSED = "refused"


# Refusals that say "the world moved under you" rather than "this request breaks a rule".
CONFLICTS = frozenset(
    {Code.TAKEN, Code.NO_FREE_TIME, Code.BUSY, Code.CHANGED, Code.PATIENT_BUSY, Code.SERIES_RUNNING, Code.PATIENT_EXISTS}
)

BUSY = "Someone else is changing this booking right now, so nothing was saved. Please try again in a moment."
CHANGED = (
    "This changed meanwhile (in another tab or at the clinic), so nothing was saved. "
    "Here is how it stands now: please check it and choose again."
)


class Problem(str):
    """A sentence for people that also carries its `code`: what the pure engine and selectors
    return where a plain sentence used to go, so templates, f-strings and comparisons keep working.
    """

    code: str

    def __new__(cls, code: str, message: str) -> Problem:
        problem = super().__new__(cls, message)
        problem.code = code
        return problem

    def __getnewargs__(self) -> tuple[str, str]:  # pickling (the session, the cache)
        return (self.code, str(self))

    @property
    def message(self) -> str:
        return str(self)


class BookingError(Exception):
    """A refusal: `.code` (see the table above) for callers, `.message` for patients or staff.

    `BookingError("sentence")`, `BookingError(code=..., message=...)` and `BookingError(problem)`
    all work; without a code the refusal is `refused`, or the code a Problem carries.
    """

    def __init__(self, message: str = "", *, code: str | None = None):
        code = code or getattr(message, "code", None) or Code.REFUSED
        message = str(message)
        super().__init__(message)
        self.code, self.message = code, message

    @property
    def is_conflict(self) -> bool:
        """The world moved (409 in the API); otherwise the request broke a rule (400)."""
        return self.code in CONFLICTS


class SlotTaken(BookingError):
    """Someone else holds (part of) the time: `.alternatives` are fresh free slots nearby."""

    def __init__(self, message: str, alternatives: list[Slot] | None = None):
        super().__init__(message, code=Code.TAKEN)
        self.alternatives = alternatives or []


class SeriesRunning(BookingError):
    """The patient already has a series of this treatment running: `.existing` is that series."""

    def __init__(self, message: str, existing):
        super().__init__(message, code=Code.SERIES_RUNNING)
        self.existing = existing


class PatientExists(BookingError):
    """The front desk registered someone already on record: `.existing` is their record."""

    def __init__(self, message: str, existing):
        super().__init__(message, code=Code.PATIENT_EXISTS)
        self.existing = existing
