"""The diary: every working practitioner's day (or rooms), one practitioner's week, everyone's week."""

from datetime import date, timedelta

from django.db.models import Subquery
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from bookings.forms import week_start
from bookings.models import ClinicRules
from staff import diary_grid
from staff.access import staff_only, visible_practitioners
from staff.forms import DayForm, WeekForm, date_problem


DEFAULT_SLOT_MINUTES = ClinicRules._meta.get_field("slot_minutes").default  # before the rules row exists


# --- The diary ---------------------------------------------------------------------------------------


def _day(query) -> tuple[date, str]:
    """The day asked for (today when none), and why a bad one was not used."""
    form = DayForm(query)
    day = (form.cleaned_data.get("date") if form.is_valid() else None) or timezone.localdate()
    return day, date_problem(form)


@require_GET
@staff_only("bookings.view_appointment")
def day_view(request):
    """Every working practitioner's column for one day (today unless ?date=YYYY-MM-DD); ?by=room: rooms."""
    day, problem = _day(request.GET)
    by_room = request.GET.get("by") == "room"
    # The clinic's start grid (a keyboard move's step) rides on the practitioners' query: the day
    # keeps its query ceiling (8 with 200 appointments, tests/bookings/test_staff_diary.py).
    practitioners = list(
        visible_practitioners(request.user).annotate(
            slot_minutes=Subquery(ClinicRules.objects.values("slot_minutes")[:1])
        )
    )
    if not practitioners:
        diary = None
    elif by_room:
        diary = diary_grid.room_diary(practitioners=practitioners, day=day, now=timezone.now())
    else:
        diary = diary_grid.diary(
            practitioners=practitioners, days=[day], now=timezone.now(), working_only=True
        )
    return render(
        request,
        "staff/day.html",
        {
            "day": day,
            "diary": diary,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "today": timezone.localdate(),
            "form": DayForm(initial={"date": day}),
            "date_problem": problem,
            "here": request.get_full_path(),
            "by_room": by_room,
            # static/js/diary-move.js: the grid a drop snaps to (none for who may not move bookings)
            "step": (practitioners[0].slot_minutes or DEFAULT_SLOT_MINUTES)
            if practitioners and request.user.has_perm("bookings.change_appointment")
            else None,
        },
    )


@require_GET
@staff_only("bookings.view_appointment")
def week_view(request):
    """One practitioner's week, Monday to Sunday; ?practitioner=all: everyone's week at a glance."""
    practitioners = visible_practitioners(request.user)
    form = WeekForm(request.GET, practitioners=practitioners)
    form.is_valid()  # bad values fall back to this week and the first practitioner
    practitioner = form.cleaned_data.get("practitioner") or practitioners.first()
    if practitioner is None:
        raise Http404("No practitioner to show.")
    start = week_start(form.cleaned_data.get("date") or timezone.localdate())
    days = [start + timedelta(days=n) for n in range(7)]
    if request.GET.get("practitioner") == "all":
        grid, rows = diary_grid.week_overview(practitioners=list(practitioners), days=days)
        return render(
            request,
            "staff/week_all.html",
            {
                "start": start,
                "end": days[-1],
                "days": days,
                "grid": grid,
                "rows": rows,
                "previous": start - timedelta(days=7),
                "next": start + timedelta(days=7),
                "practitioners": practitioners,
            },
        )
    return render(
        request,
        "staff/week.html",
        {
            "practitioner": practitioner,
            "start": start,
            "end": days[-1],
            "diary": diary_grid.diary(practitioners=[practitioner], days=days, now=timezone.now()),
            "previous": start - timedelta(days=7),
            "next": start + timedelta(days=7),
            "form": WeekForm(
                initial={"date": start, "practitioner": practitioner}, practitioners=practitioners
            ),
            "date_problem": date_problem(form),
            "here": request.get_full_path(),
        },
    )

