"""What a patient needs to decide before booking: price, session, cancellation policy, preparation."""

from django import template
from django.conf import settings

from bookings.models import ClinicRules

register = template.Library()


def hours_in_words(hours: int) -> str:
    """48 -> "48 hours (2 days)"; 36 -> "36 hours"; 1 -> "1 hour"."""
    words = f"{hours} hour{'s' if hours != 1 else ''}"
    if hours >= 48 and hours % 24 == 0:
        words += f" ({hours // 24} days)"
    return words


def cancellation_policy(cutoff_hours: int) -> str:
    """The clinic's cancellation rule (ClinicRules.cancellation_cutoff_hours) in plain words."""
    if cutoff_hours == 0:
        return (
            "You can move or cancel any session yourself, from the link in your confirmation e-mail, until "
            "it starts. Please tell us as early as you can: we note missed sessions."
        )
    return (
        f"You can move or cancel any session yourself, from the link in your confirmation e-mail, until "
        f"{hours_in_words(cutoff_hours)} before it starts. Closer to the time, please call us on "
        f"{settings.CLINIC_PHONE}. We note late cancellations and missed sessions."
    )


@register.inclusion_tag("bookings/_before_you_book.html", takes_context=True)
def before_you_book(context, treatment, compact: bool = False):
    """The decision block shown on every booking step before "Book my N sessions"."""
    return {
        "clinic": context.get("clinic"),
        "treatment": treatment,
        "compact": compact,
        "policy": cancellation_policy(ClinicRules.load().cancellation_cutoff_hours),
    }
