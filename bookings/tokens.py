"""
The manage link a patient receives by e-mail: the series' public UUID signed with a salt.

Anyone holding the link can manage the series, as with a booking reference and surname at an
airline; the UUID makes it unguessable and the signature makes it unforgeable. The integer id
never appears in a public URL.
"""

import uuid

from django.conf import settings
from django.core import signing
from django.urls import reverse

from bookings.models import Series

SALT = "bookings.manage-link"


def manage_token(series: Series) -> str:
    return signing.Signer(salt=SALT).sign(series.public_id.hex)


def series_for_token(token: str) -> Series | None:
    """The series a token names, or None when it is tampered with, malformed or unknown."""
    try:
        public_id = uuid.UUID(hex=signing.Signer(salt=SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return Series.objects.select_related("patient", "treatment").filter(public_id=public_id).first()


def manage_path(series: Series) -> str:
    return reverse("bookings:manage", kwargs={"token": manage_token(series)})


def manage_url(series: Series) -> str:
    """The absolute manage link, for e-mails and the API (no request needed)."""
    return settings.SITE_URL + manage_path(series)
