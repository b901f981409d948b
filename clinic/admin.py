"""The admin site: a managers' tool.

It lists every patient, their health answers and the whole audit trail, so `is_staff` is not
enough to enter: the user also needs `bookings.use_admin` (the Manager group has it; superusers
have every permission). Practitioners and the front desk work in /staff/, which shows each role
what it may see (a practitioner: their own patients; health answers: never the front desk).
"""

from django.contrib.admin import AdminSite

USE_ADMIN = "bookings.use_admin"


class ClinicAdminSite(AdminSite):
    site_header = "Clinic administration"

    def has_permission(self, request):
        return super().has_permission(request) and request.user.has_perm(USE_ADMIN)
