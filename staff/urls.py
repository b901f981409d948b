"""The staff workspace's URLs under /staff/, by feature."""

from django.urls import path

from staff import (
    appointments,
    auth,
    booking,
    diary,
    eligibility,
    history,
    hours,
    patients,
    repair,
    waitlist,
    worklist,
)

app_name = "staff"

urlpatterns = [
    # Signing in, and lifting a sign-in pause (managers)
    path("login/", auth.StaffLoginView.as_view(), name="login"),
    path("logout/", auth.StaffLogoutView.as_view(), name="logout"),
    path("sign-in-locks/", auth.signin_locks, name="signin_locks"),
    # The diary
    path("", diary.day_view, name="day"),
    path("week/", diary.week_view, name="week"),
    # One appointment
    path("appointments/<int:pk>/", appointments.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/move/", appointments.appointment_move, name="move"),
    path("appointments/<int:pk>/cancel/", appointments.appointment_cancel, name="cancel"),
    path("appointments/<int:pk>/<slug:action>/", appointments.appointment_action, name="action"),
    # The morning worklist and the clinic-wide history
    path("worklist/", worklist.worklist, name="worklist"),
    path("worklist/emails/<int:pk>/send-again/", worklist.message_resend, name="resend"),
    path("waitlist/<int:pk>/offer/", waitlist.offer_by_hand, name="waitlist_offer"),
    path("waitlist/offers/<int:pk>/release/", waitlist.offer_release, name="waitlist_release"),
    path("history/", history.history, name="history"),
    # Patients
    path("patients/", patients.patient_list, name="patients"),
    path("patients/new/", patients.patient_create, name="patient_new"),
    path("patients/<int:pk>/", patients.patient_detail, name="patient"),
    path("patients/<int:pk>/edit/", patients.patient_edit, name="patient_edit"),
    path("patients/<int:pk>/merge/", patients.patient_merge, name="patient_merge"),
    # Booking by phone, and repairing a series
    path("patients/<int:pk>/book/", booking.book_start, name="book"),
    path("patients/<int:pk>/book/<slug:slug>/", booking.book_plan, name="book_plan"),
    path("series/<int:pk>/sessions/<int:number>/book/", repair.session_rebook, name="rebook"),
    path("patients/<int:pk>/overrides/", eligibility.override_create, name="override_new"),
    path("patients/<int:pk>/overrides/<int:override_pk>/revoke/", eligibility.override_revoke, name="override_revoke"),
    # Practitioners' hours and time off (managers)
    path("practitioners/", hours.practitioner_list, name="practitioners"),
    path("practitioners/<int:pk>/hours/", hours.practitioner_hours, name="hours"),
]
