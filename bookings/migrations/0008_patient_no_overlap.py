"""
A patient is never in two active appointments at once (PostgreSQL only, like 0002).

Appointment gets the series' patient as its own column (an exclusion constraint cannot look
through a join), filled from the series here. A composite foreign key (series, patient) →
series (id, patient) keeps the copy true: it can only name the series' own patient, and
follows the series if its patient ever changes (ON UPDATE CASCADE). Then the GiST exclusion
constraint: no two active appointments of one patient with overlapping [start, end).

Series.ends_after_session records "the rest was cancelled" (no nudge for sessions never coming);
two audit actions are added (undo of a status change, a patient's changed details).
"""

import django.db.models.deletion
from django.db import migrations, models

ACTIVE = "('booked', 'checked_in', 'completed')"

CREATE = f"""
ALTER TABLE bookings_series
    ADD CONSTRAINT series_id_patient_unique UNIQUE (id, patient_id);
ALTER TABLE bookings_appointment
    ADD CONSTRAINT appointment_patient_is_series_patient
    FOREIGN KEY (series_id, patient_id) REFERENCES bookings_series (id, patient_id)
    ON UPDATE CASCADE;
ALTER TABLE bookings_appointment
    ADD CONSTRAINT appointment_no_patient_overlap
    EXCLUDE USING gist (patient_id WITH =, tstzrange("start", "end", '[)') WITH &&)
    WHERE (status IN {ACTIVE});
"""

DROP = """
ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS appointment_no_patient_overlap;
ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS appointment_patient_is_series_patient;
ALTER TABLE bookings_series DROP CONSTRAINT IF EXISTS series_id_patient_unique;
"""


def backfill_patient(apps, schema_editor):
    Appointment = apps.get_model("bookings", "Appointment")
    Series = apps.get_model("bookings", "Series")
    patient = Series.objects.filter(pk=models.OuterRef("series_id")).values("patient_id")[:1]
    Appointment.objects.update(patient_id=models.Subquery(patient))


def create_constraints(apps, schema_editor):
    schema_editor.execute(CREATE)


def drop_constraints(apps, schema_editor):
    schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0010_calendar_sequence")]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="patient",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="appointments",
                to="bookings.patient",
            ),
        ),
        migrations.RunPython(backfill_patient, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="appointment",
            name="patient",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="appointments",
                to="bookings.patient",
            ),
        ),
        migrations.RunPython(create_constraints, drop_constraints, elidable=False),
        migrations.AddField(
            model_name="series",
            name="ends_after_session",
            field=models.PositiveSmallIntegerField(
                blank=True, help_text="The rest of the series was cancelled after this session.", null=True
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("booked", "Booked"),
                    ("moved", "Moved"),
                    ("cancelled", "Cancelled"),
                    ("checked_in", "Checked in"),
                    ("completed", "Completed"),
                    ("no_show", "No-show"),
                    ("answers_confirmed", "Safety answers re-confirmed"),
                    ("review_cleared", "Review flag cleared"),
                    ("undone", "Status change undone"),
                    ("patient_changed", "Patient's details changed"),
                ],
                max_length=24,
            ),
        ),
    ]
