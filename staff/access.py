"""
Who reaches what in the staff workspace.

Every page needs a login; every action a permission (bookings/migrations/0005 gives them to the
Front desk, Practitioner and Manager groups). A user with `bookings.view_all_diaries` (front desk,
managers) sees every practitioner and patient; anyone else (a practitioner) only their own diary and
the patients booked with them: other rows answer 404, as if they did not exist.
"""

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from bookings.models import Appointment, Patient, Practitioner


def staff_only(permission: str):
    """Login first (anonymous people go to the login page), then the permission (else 403)."""

    def decorate(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return decorate



def sees_all(user) -> bool:
    return user.has_perm("bookings.view_all_diaries")


def visible_practitioners(user) -> QuerySet[Practitioner]:
    practitioners = Practitioner.objects.active()
    return practitioners if sees_all(user) else practitioners.filter(user=user)


def visible_appointments(user) -> QuerySet[Appointment]:
    return (
        Appointment.objects.all() if sees_all(user) else Appointment.objects.filter(practitioner__user=user)
    )


def visible_patients(user) -> QuerySet[Patient]:
    if sees_all(user):
        return Patient.objects.all()
    booked_with_me = Appointment.objects.filter(practitioner__user=user).values("series__patient_id")
    return Patient.objects.filter(pk__in=booked_with_me)


def patient_or_404(request, pk: int) -> Patient:
    """The patient `pk` if this user may see them (a practitioner: only their own patients), else 404."""
    return get_object_or_404(visible_patients(request.user), pk=pk)
