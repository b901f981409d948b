from django.contrib.admin.apps import AdminConfig


class ClinicAdminConfig(AdminConfig):
    """Django's admin, on the clinic's site (clinic/admin.py: managers only)."""

    default_site = "clinic.admin.ClinicAdminSite"
