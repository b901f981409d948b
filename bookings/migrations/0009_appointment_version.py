from django.db import migrations, models


class Migration(migrations.Migration):
    """Appointment.version: optimistic concurrency for changes made from a page shown earlier."""

    dependencies = [
        ("bookings", "0008_patient_no_overlap"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="version",
            field=models.PositiveIntegerField(default=1),
        ),
    ]
