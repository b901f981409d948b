"""The refusals a booking can meet, each carrying a sentence for people (re-exported by services)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bookings.availability import Slot


class BookingError(Exception):
    """A refusal with a sentence for patients or staff in `.message`."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SlotTaken(BookingError):
    """Someone else holds (part of) the time: `.alternatives` are fresh free slots nearby."""

    def __init__(self, message: str, alternatives: list[Slot] | None = None):
        super().__init__(message)
        self.alternatives = alternatives or []
