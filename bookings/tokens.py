"""
The manage link a patient receives by e-mail: the series' public UUID signed with a salt.

Anyone holding the link can manage the series, as with a booking reference and surname at an
airline; the UUID makes it unguessable and the signature makes it unforgeable. The integer id
never appears in a public URL. The link stops working MANAGE_LINK_VALID_DAYS after the series is
over (its last booked session ended, or its last session was cancelled), so an old e-mail in a
forgotten inbox no longer opens the patient's details.
"""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from bookings.models import Series

SALT = "bookings.manage-link"


def manage_token(series: Series) -> str:
    return signing.Signer(salt=SALT).sign(series.public_id.hex)


def _named_series(token: str) -> Series | None:
    try:
        public_id = uuid.UUID(hex=signing.Signer(salt=SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return Series.objects.select_related("patient", "treatment").filter(public_id=public_id).first()


def link_expires_at(series: Series) -> datetime:
    """When the series' manage link stops working: MANAGE_LINK_VALID_DAYS after the series is over."""
    appointments = series.appointments.all()
    over = appointments.active().aggregate(end=Max("end"))["end"]
    if over is None:  # nothing booked any more: counted from the last cancellation (or the booking)
        over = appointments.aggregate(at=Max("cancelled_at"))["at"] or series.created_at
    return over + timedelta(days=settings.MANAGE_LINK_VALID_DAYS)


def series_for_token(token: str, *, now: datetime | None = None) -> Series | None:
    """The series a token names, or None when it is tampered with, malformed, unknown or expired."""
    series = _named_series(token)
    if series is None or link_expires_at(series) <= (now or timezone.now()):
        return None
    return series


def token_expired(token: str, *, now: datetime | None = None) -> bool:
    """Whether a genuine token's link has expired (for telling the patient why it does not work)."""
    series = _named_series(token)
    return series is not None and link_expires_at(series) <= (now or timezone.now())


def manage_path(series: Series) -> str:
    return reverse("bookings:manage", kwargs={"token": manage_token(series)})


def manage_url(series: Series) -> str:
    """The absolute manage link, for e-mails and the API (no request needed)."""
    return settings.SITE_URL + manage_path(series)
