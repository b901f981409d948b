"""Patient records in the staff workspace: audit actions for changed details and merged records, and
the clinic-wide history permission (given to the Manager group; practitioners see their own patients')."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def grant_history(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the Manager group needs this one now.
    app_config = apps.get_app_config("bookings")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    history = Permission.objects.get(content_type__app_label="bookings", codename="view_history")
    for group in Group.objects.filter(name="Manager"):
        group.permissions.add(history)


def revoke_history(apps, schema_editor):
    apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="bookings", codename="view_history"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0011_treatment_wording"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "ordering": ["at", "pk"],
                "permissions": [("view_history", "Can see the clinic-wide history of every patient")],
            },
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
                    ("patients_merged", "Patient records merged"),
                ],
                max_length=24,
            ),
        ),
        migrations.RunPython(grant_history, revoke_history),
    ]
