"""
The database itself refuses double bookings (PostgreSQL only).

Two GiST exclusion constraints: no two *active* appointments (booked, checked in, completed) of
the same practitioner, or of the same room, may have overlapping [start, end) ranges, created
with SQL (the project runs on PostgreSQL only).
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

ACTIVE = "('booked', 'checked_in', 'completed')"

CREATE = f"""
ALTER TABLE bookings_appointment
    ADD CONSTRAINT appointment_no_practitioner_overlap
    EXCLUDE USING gist (practitioner_id WITH =, tstzrange("start", "end", '[)') WITH &&)
    WHERE (status IN {ACTIVE});
ALTER TABLE bookings_appointment
    ADD CONSTRAINT appointment_no_room_overlap
    EXCLUDE USING gist (room_id WITH =, tstzrange("start", "end", '[)') WITH &&)
    WHERE (status IN {ACTIVE} AND room_id IS NOT NULL);
"""

DROP = """
ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS appointment_no_practitioner_overlap;
ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS appointment_no_room_overlap;
"""


def create_constraints(apps, schema_editor):
    schema_editor.execute(CREATE)


def drop_constraints(apps, schema_editor):
    schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(create_constraints, drop_constraints, elidable=False),
    ]
