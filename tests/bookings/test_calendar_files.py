"""Calendar files read the same in every client: each file the site produces (the confirmation,
reschedule and cancellation e-mails' attachments, the manage-link download) is parsed by ical.js
(Thunderbird's parser) and by icalendar, and both must agree with zoneinfo on every instant,
on both sides of both daylight-saving changes."""

from datetime import timedelta

import pytest
from django.core import mail
import time_machine

from bookings import outbox, services
from bookings.ics import appointment_uid
from bookings.models import OutboxMessage
from bookings.questionnaire import QUESTIONS
from bookings.tokens import manage_path
from tests.bookings.calendars import assert_matches_database, read_everywhere, read_with_icaljs, utc
from tests.bookings.factories import PractitionerFactory, TreatmentFactory, clinic_rules, local, slot

Kind = OutboxMessage.Kind
NOW = local(2027, 11, 1, 8)
# One session on each side of each change: GMT in winter, BST from Sunday 26 March 2028 to
# Sunday 29 October 2028, so 24 March and 31 October are GMT, 28 March and 27 October BST.
STARTS = [
    local(2027, 12, 14, 9),  # winter
    local(2028, 3, 24, 9),  # the Friday before the spring change
    local(2028, 3, 28, 9),  # the Tuesday after it
    local(2028, 7, 4, 9),  # summer
    local(2028, 10, 27, 9),  # the Friday before the autumn change
    local(2028, 10, 31, 9),  # the Tuesday after it
]
EXPECTED_UTC = [
    "2027-12-14T09:00:00Z",
    "2028-03-24T09:00:00Z",
    "2028-03-28T08:00:00Z",
    "2028-07-04T08:00:00Z",
    "2028-10-27T08:00:00Z",
    "2028-10-31T09:00:00Z",
]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def practitioner(db, frozen):
    clinic_rules(buffer_minutes=0, min_notice_hours=24, cancellation_cutoff_hours=48, horizon_days=90)
    treatment = TreatmentFactory(
        name="Microneedling", sessions_in_series=6, min_days_between=3, max_days_between=120
    )
    return PractitionerFactory(name="Dr Ana Silva", treatments=[treatment])


@pytest.fixture
def series(practitioner):
    # Booked by the front desk: the first session lies beyond the patients' 90-day horizon.
    return services.series_book(
        treatment=practitioner.treatments.get(),
        patient=services.PatientDetails(name="Jo Bloggs", email="jo@example.com", phone="07700 900123"),
        slots=[slot(start, practitioner) for start in STARTS],
        answers={question.key: False for question in QUESTIONS},
        consent_treatment=True,
        consent_privacy=True,
        for_staff=True,
    )


def download(client, series):
    return client.get(f"{manage_path(series)}calendar.ics")


def test_every_reader_puts_every_session_at_its_instant_across_both_changes(client, series):
    content = download(client, series).content

    for seen in (read_with_icaljs(content)[0], read_everywhere(content)):
        assert [event["start"] for event in seen["events"]] == EXPECTED_UTC
        assert [event["end"] for event in seen["events"]] == [utc(s + timedelta(hours=1)) for s in STARTS]
    assert EXPECTED_UTC == [utc(start) for start in STARTS]  # zoneinfo agrees with the table above
    assert_matches_database(read_everywhere(content), series)


def send(series, kind) -> list:
    """Send the series' pending e-mails of `kind` as a worker would; their calendar attachments."""
    ids = list(series.outbox_messages.filter(kind=kind, status="pending").values_list("pk", flat=True))
    claim = outbox.messages_claim(ids=ids)
    assert claim is not None, f"no pending {kind} e-mail"
    outbox.messages_send(claim=claim)
    return [part for message in mail.outbox for part in message.attachments]


def calendar_part(part) -> tuple[bytes, str]:
    """(the file, its method=) of a text/calendar attachment, checking its Content-Type."""
    assert part["Content-Type"] == f"text/calendar; charset=utf-8; method={part.get_param('method')}"
    assert part.get_filename().endswith(".ics")
    return part.get_payload(decode=True), part.get_param("method")


def test_the_confirmation_is_published_by_the_clinic_at_sequence_0(series, mailoutbox):
    (part,) = send(series, Kind.SERIES_BOOKED)

    content, method = calendar_part(part)
    seen = read_everywhere(content)
    assert method == seen["method"] == "PUBLISH"
    assert [event["start"] for event in seen["events"]] == EXPECTED_UTC
    assert_matches_database(seen, series)
    assert [event["uid"] for event in seen["events"]] == [
        appointment_uid(a) for a in series.appointments.order_by("session_number")
    ]
    for event in seen["events"]:
        assert (event["sequence"], event["status"]) == (0, "CONFIRMED")
        assert (event["organizer"], event["organizerName"]) == ("mailto:hello@clinic.example", "Northlight Skin Clinic")


def test_the_download_says_its_method_in_the_content_type(client, series):
    response = download(client, series)

    assert response["Content-Type"] == "text/calendar; charset=utf-8; method=PUBLISH"
    assert read_everywhere(response.content)["method"] == "PUBLISH"


def test_each_revision_raises_the_sequence_by_one_and_a_cancel_keeps_the_uid(client, series, practitioner, mailoutbox):
    second = series.appointments.get(session_number=2)
    uid = appointment_uid(second)
    services.appointments_reschedule(moves=[(second, slot(local(2028, 3, 23, 14), practitioner))], for_staff=True)
    (moved_part,) = send(series, Kind.RESCHEDULED)

    moved_file, moved_method = calendar_part(moved_part)
    moved = read_everywhere(moved_file)
    assert moved_method == moved["method"] == "PUBLISH"
    assert [event["sequence"] for event in moved["events"]] == [0, 1, 0, 0, 0, 0]
    assert moved["events"][1]["start"] == "2028-03-23T14:00:00Z"
    assert_matches_database(moved, series)

    services.appointment_cancel(appointment=second, for_staff=True)
    cancel_parts = send(series, Kind.CANCELLED)[1:]

    (cancel_part,) = cancel_parts
    cancel_file, cancel_method = calendar_part(cancel_part)
    (cancelled,) = read_everywhere(cancel_file)["events"]
    assert cancel_method == read_everywhere(cancel_file)["method"] == "CANCEL"
    assert (cancelled["uid"], cancelled["sequence"], cancelled["status"]) == (uid, 2, "CANCELLED")
    assert cancelled["start"] == "2028-03-23T14:00:00Z"
    assert cancelled["organizer"] == "mailto:hello@clinic.example"
    assert_matches_database(read_everywhere(cancel_file), series)

    # The series' file keeps the cancelled session, cancelled, so a calendar that re-imports it updates it.
    seen = read_everywhere(download(client, series).content)
    assert_matches_database(seen, series)
    events = seen["events"]
    assert [(event["uid"], event["sequence"], event["status"]) for event in events][1] == (uid, 2, "CANCELLED")
    assert [event["status"] for event in events].count("CONFIRMED") == 5


def test_cancelling_the_rest_sends_one_cancel_file_per_session(series, mailoutbox):
    services.series_cancel_remaining(series=series, from_session=5, for_staff=True)
    parts = send(series, Kind.CANCELLED)

    files = [read_everywhere(calendar_part(part)[0]) for part in parts]
    assert [file["method"] for file in files] == ["CANCEL", "CANCEL"]
    assert [[event["start"] for event in file["events"]] for file in files] == [[EXPECTED_UTC[4]], [EXPECTED_UTC[5]]]
    assert {event["sequence"] for file in files for event in file["events"]} == {1}
    for file in files:
        assert_matches_database(file, series)
