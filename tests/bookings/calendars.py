"""Read a calendar file the way two real clients do: ical.js (Thunderbird) and icalendar (Python).

Both readers return the same plain shape, so a test can say "every reader sees these instants":
{"method": ..., "events": [{"uid", "sequence", "status", "start", "end", "organizer",
"organizerName", "summary"}]}, with start and end as UTC instants written "2027-12-14T09:00:00Z".
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from icalendar import Calendar

ROOT = Path(__file__).resolve().parents[2]
ICALJS_PATH = ROOT / "node_modules" / "ical.js"
READER = Path(__file__).with_name("read_calendar.mjs")


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_with_icaljs(*files: bytes) -> list[dict]:
    """What ical.js understands of each file (one node process for all of them)."""
    if not ICALJS_PATH.exists() or shutil.which("node") is None:
        pytest.fail(f"ical.js is not installed at {ICALJS_PATH}. `make test` installs it (npm ci).", pytrace=False)
    result = subprocess.run(
        ["node", str(READER)],
        input=json.dumps([content.decode("utf-8") for content in files]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"ical.js could not read the file: {result.stderr}"
    return json.loads(result.stdout)


def read_with_icalendar(content: bytes) -> dict:
    """What the icalendar library understands of a file, in read_with_icaljs's shape."""
    calendar = Calendar.from_ical(content)
    events = []
    for event in calendar.walk("VEVENT"):
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert not isinstance(start, date) or isinstance(start, datetime), "an all-day event"
        assert start.tzinfo is not None and end.tzinfo is not None, "a floating time: clients would guess"
        organizer = event.get("organizer")
        events.append({
            "uid": str(event["uid"]),
            "sequence": int(event["sequence"]) if "sequence" in event else 0,
            "status": str(event["status"]) if "status" in event else None,
            "start": utc(start),
            "end": utc(end),
            "organizer": str(organizer) if organizer is not None else None,
            "organizerName": str(organizer.params["CN"]) if organizer is not None and "CN" in organizer.params else None,
            "summary": str(event["summary"]),
        })
    method = calendar.get("method")
    return {"method": str(method) if method is not None else None, "events": events}


def read_everywhere(content: bytes) -> dict:
    """The file as both readers see it; fails unless they agree on every field."""
    icaljs, = read_with_icaljs(content)
    icalendar = read_with_icalendar(content)
    assert icaljs == icalendar, f"ical.js and icalendar disagree:\n{icaljs}\n{icalendar}"
    assert all(0 <= event["sequence"] < 2**31 for event in icalendar["events"]), "SEQUENCE is a 32-bit integer"
    return icalendar


def assert_matches_database(seen: dict, series) -> None:
    """Every event is at the instants of the appointment it names (UID and SEQUENCE), as stored."""
    from bookings.ics import appointment_uid

    rows = {(appointment_uid(a), a.sequence): a for a in series.appointments.all()}
    for event in seen["events"]:
        appointment = rows[event["uid"], event["sequence"]]
        assert (event["start"], event["end"]) == (utc(appointment.start), utc(appointment.end)), event
