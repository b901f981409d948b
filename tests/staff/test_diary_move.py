"""A block dropped in the diary (drag or keyboard) reaches the move page as ?day=&time=&practitioner=:
a confirmation listing the series' later sessions, one Confirm button, the existing move service
behind it, and a refusal when the session changed since the diary showed it."""

import re

from django.urls import reverse

from bookings import selectors, services
from bookings.errors import CHANGED
from bookings.models import Appointment
from tests.bookings.factories import local, slot
from tests.bookings.staff_fixtures import *  # noqa: F403
from tests.bookings.staff_fixtures import front_desk, practitioner, series  # noqa: F401


def session(series, number) -> Appointment:
    return series.appointments.active().get(session_number=number)


def drop(client, appointment, day: str, time: str, practitioner=None, **extra):
    query = {"day": day, "time": time, "practitioner": (practitioner or appointment.practitioner).pk, **extra}
    return client.get(reverse("staff:move", args=[appointment.pk]), query)


def form_fields(page: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))


def test_a_drop_that_keeps_the_spacing_lists_the_later_sessions_as_staying(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)  # Tue 9 March 10:00; sessions 2 and 3 on 6 April and 4 May

    response = drop(client, first, "2027-03-09", "14:00", seen=f"{first.pk}:{first.version}")

    page = response.content.decode()
    assert response.status_code == 200 and "Check the change" in page
    assert "Tuesday 9 March, 14:00 with Dr Ana Silva" in page
    assert "Session 2:</strong> Tuesday 6 April, 10:00" in page
    assert "Session 3:</strong> Tuesday 4 May, 10:00" in page
    assert page.count("still fits its window") == 2 and "engine proposes" not in page
    assert page.count('<button type="submit" class="btn btn-primary">') == 1  # one Confirm
    assert "Confirm: move session 1" in page
    first.refresh_from_db()
    assert first.start == local(2027, 3, 9, 10)  # nothing moved before the confirmation

    done = client.post(reverse("staff:move", args=[first.pk]), form_fields(page))

    assert done.status_code == 302 and done.url == "/staff/?date=2027-03-09"  # back to the diary
    first.refresh_from_db()
    assert first.start == local(2027, 3, 9, 14)
    assert first.audit_events.get(action="moved").actor == front_desk


def test_a_drop_that_pushes_a_later_session_shows_the_engines_proposal(client, front_desk, series):
    client.force_login(front_desk)
    second, third = session(series, 2), session(series, 3)

    page = drop(client, second, "2027-04-13", "10:00").content.decode()  # session 3 would be 21 days after

    assert "Session 3:</strong> Tuesday 4 May, 10:00" in page
    assert "no longer fits its window" in page and "the engine proposes <strong>" in page
    assert "Confirm: move 2 sessions" in page
    client.post(reverse("staff:move", args=[second.pk]), form_fields(page))
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.start == local(2027, 4, 13, 10) and (third.start - second.start).days >= 28


def test_a_drop_from_a_diary_shown_before_the_session_changed_is_refused(
    client, front_desk, series, practitioner
):
    client.force_login(front_desk)
    second = session(series, 2)
    shown = f"{second.pk}:{second.version}"  # what the diary's block carried
    moves = selectors.reschedule_plan(appointment=second, new=slot(local(2027, 4, 6, 14), practitioner))
    services.appointments_reschedule(moves=moves)  # the patient moved it meanwhile

    response = drop(client, second, "2027-04-07", "11:00", seen=shown)

    assert response.status_code == 409 and CHANGED in response.content.decode()
    assert session(series, 2).start == local(2027, 4, 6, 14)


def test_confirming_after_the_session_changed_meanwhile_is_refused(
    client, front_desk, series, practitioner
):
    client.force_login(front_desk)
    second = session(series, 2)
    page = drop(client, second, "2027-04-07", "11:00").content.decode()
    moves = selectors.reschedule_plan(appointment=second, new=slot(local(2027, 4, 6, 14), practitioner))
    services.appointments_reschedule(moves=moves)  # a colleague, in another tab

    response = client.post(reverse("staff:move", args=[second.pk]), form_fields(page))

    assert response.status_code == 409 and CHANGED in response.content.decode()
    assert session(series, 2).start == local(2027, 4, 6, 14)


def test_a_drop_on_a_time_the_session_cannot_take_says_why_on_the_days_calendar(client, front_desk, series):
    client.force_login(front_desk)
    second = session(series, 2)

    too_soon = drop(client, second, "2027-03-10", "10:00")  # the day after session 1
    garbled = drop(client, second, "2027-04-07", "25:99")

    assert too_soon.status_code == 400 and "cannot move to the time it was dropped on" in too_soon.content.decode()
    assert garbled.status_code == 400 and "could not be read" in garbled.content.decode()
    assert session(series, 2).start == local(2027, 4, 6, 10)


def test_the_diary_blocks_carry_what_a_move_needs_and_a_plain_move_link(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)

    page = client.get(reverse("staff:day"), {"date": "2027-03-09"}).content.decode()

    assert f'data-seen="{first.pk}:{first.version}"' in page
    assert f'data-move="{reverse("staff:move", args=[first.pk])}"' in page
    assert f'href="{reverse("staff:move", args=[first.pk])}"' in page  # without JavaScript: the move page
    assert 'data-step="30"' in page and "js/diary-move.js" in page


def test_a_drop_in_the_room_view_returns_to_the_room_view(client, front_desk, series):
    client.force_login(front_desk)
    first = session(series, 1)

    page = drop(client, first, "2027-03-09", "15:00", by="room").content.decode()

    assert 'name="next" value="/staff/?date=2027-03-09&amp;by=room"' in page


def test_a_practitioner_who_may_not_move_gets_no_drag_handles(client, ana, series):
    client.force_login(ana)  # practitioners see their diary but do not reschedule

    page = client.get(reverse("staff:day"), {"date": "2027-03-09"}).content.decode()

    assert "Jo Bloggs" in page and "data-move=" not in page and "aria-keyshortcuts" not in page
    assert "diary-move-help" not in page and "diary-move.js" not in page
