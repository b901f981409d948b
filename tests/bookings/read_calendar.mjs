// Reads .ics files with ical.js, the parser behind Thunderbird, and prints what it understood.
//
// stdin: a JSON array of calendar files (strings). stdout: a JSON array, one entry per file:
// {method, events: [{uid, sequence, status, start, end, organizer, organizerName, summary}]},
// with start and end as UTC instants (ISO 8601, "Z"), resolved through the file's own VTIMEZONE
// when an event names one, exactly as ical.js resolves them for Thunderbird.
// Run by tests/bookings/calendars.py; ical.js is pinned in package.json (installed by `make test`).
import ICAL from "ical.js";

function instant(time) {
  return time ? new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z") : null;
}

function read(text) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  const events = calendar.getAllSubcomponents("vevent").map((component) => {
    const event = new ICAL.Event(component);
    const organizer = component.getFirstProperty("organizer");
    return {
      uid: event.uid,
      sequence: event.sequence,
      status: component.getFirstPropertyValue("status"),
      start: instant(event.startDate),
      end: instant(event.endDate),
      organizer: organizer ? organizer.getFirstValue() : null,
      organizerName: organizer ? organizer.getParameter("cn") : null,
      summary: event.summary,
    };
  });
  return { method: calendar.getFirstPropertyValue("method"), events };
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const files = JSON.parse(Buffer.concat(chunks).toString("utf8"));
process.stdout.write(JSON.stringify(files.map(read)));
