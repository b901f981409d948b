"""The staff workspace's URLs under /staff/: this app's pages, then bookings' staff pages (which move
here with their views)."""

from django.urls import path

from bookings import staff_urls
from staff import eligibility, history, patients, repair, worklist

app_name = "staff"

pages = [
    path("worklist/", worklist.worklist, name="worklist"),
    path("worklist/emails/<int:pk>/send-again/", worklist.message_resend, name="resend"),
    path("history/", history.history, name="history"),
    path("patients/", patients.patient_list, name="patients"),
    path("patients/new/", patients.patient_create, name="patient_new"),
    path("patients/<int:pk>/edit/", patients.patient_edit, name="patient_edit"),
    path("patients/<int:pk>/merge/", patients.patient_merge, name="patient_merge"),
    path("series/<int:pk>/sessions/<int:number>/book/", repair.session_rebook, name="rebook"),
    path("patients/<int:pk>/overrides/", eligibility.override_create, name="override_new"),
    path("patients/<int:pk>/overrides/<int:override_pk>/revoke/", eligibility.override_revoke, name="override_revoke"),
]
urlpatterns = pages + staff_urls.urlpatterns
