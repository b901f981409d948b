from django.urls import path

from bookings import staff_views

urlpatterns = [
    path("login/", staff_views.StaffLoginView.as_view(), name="login"),
    path("logout/", staff_views.StaffLogoutView.as_view(), name="logout"),
    path("", staff_views.day_view, name="day"),
    path("week/", staff_views.week_view, name="week"),
    path("appointments/<int:pk>/", staff_views.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/move/", staff_views.appointment_move, name="move"),
    path("appointments/<int:pk>/cancel/", staff_views.appointment_cancel, name="cancel"),
    path("appointments/<int:pk>/<slug:action>/", staff_views.appointment_action, name="action"),
    path("patients/<int:pk>/", staff_views.patient_detail, name="patient"),
    path("patients/<int:pk>/book/", staff_views.book_start, name="book"),
    path("patients/<int:pk>/book/<slug:slug>/", staff_views.book_plan, name="book_plan"),
    path("practitioners/", staff_views.practitioner_list, name="practitioners"),
    path("practitioners/<int:pk>/hours/", staff_views.practitioner_hours, name="hours"),
    path("sign-in-locks/", staff_views.signin_locks, name="signin_locks"),
]
