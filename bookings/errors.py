"""The refusals a booking can meet, each carrying a sentence for people (re-exported by services)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bookings.availability import Slot


class BookingError(Exception):
    """A refusal: `.code` for callers to branch on, a sentence for patients or staff in `.message`."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


class SeriesRunning(BookingError):
    """The patient already has a series of this treatment running: `.existing` is that series."""

    def __init__(self, message: str, existing):
        super().__init__(message, code="series_running")
        self.existing = existing


class PatientExists(BookingError):
    """The front desk registered someone already on record: `.existing` is their record."""

    def __init__(self, message: str, existing):
        super().__init__(message, code="patient_exists")
        self.existing = existing


class SlotTaken(BookingError):
    """Someone else holds (part of) the time: `.alternatives` are fresh free slots nearby."""

    def __init__(self, message: str, alternatives: list[Slot] | None = None):
        super().__init__(message, code="taken")
        self.alternatives = alternatives or []
