from django.apps import AppConfig


class StaffConfig(AppConfig):
    """The front desk's workspace over bookings' services and selectors (no models of its own)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "staff"
    verbose_name = "Staff workspace"
