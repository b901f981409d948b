"""The audit trail records any subject, not only appointments; the admin becomes a managers' tool.

- AuditEvent: series optional; patient and practitioner links; `subject_kind`/`subject_id` name the
  record (existing rows: their appointment).
- Manager gets `use_admin` (the admin's door) and `lift_signin_lock`.
- Front desk loses `view_questionnaire`: health answers are for managers and the practitioners
  treating the patient (the staff patient page shows them only with this permission).
"""

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.conf import settings
from django.db import migrations, models


MANAGER_GAINS = ["use_admin", "lift_signin_lock"]
FRONT_DESK_LOSES = ["view_questionnaire"]


def name_old_subjects(apps, schema_editor):
    AuditEvent = apps.get_model("bookings", "AuditEvent")
    AuditEvent.objects.filter(subject_id__isnull=True).update(subject_id=models.F("appointment_id"))


def _change_groups(apps, *, forward: bool) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    changes = (("Manager", MANAGER_GAINS, forward), ("Front desk", FRONT_DESK_LOSES, not forward))
    for name, codenames, grant in changes:
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        permissions = Permission.objects.filter(content_type__app_label="bookings", codename__in=codenames)
        (group.permissions.add if grant else group.permissions.remove)(*permissions)


def regrant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need the new ones now.
    app_config = apps.get_app_config("bookings")
    app_config.models_module = True  # the migration state's stub app passes create_permissions' guard
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    _change_groups(apps, forward=True)


def regrant_back(apps, schema_editor):
    _change_groups(apps, forward=False)


class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0012_patient_records'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='clinicrules',
            options={'permissions': [('use_admin', 'Can use the back office (/admin/): managers'), ('lift_signin_lock', "Can lift a staff member's sign-in lock")], 'verbose_name': 'clinic rules', 'verbose_name_plural': 'clinic rules'},
        ),
        migrations.AddField(
            model_name='auditevent',
            name='patient',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='audit_events', to='bookings.patient'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='practitioner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='audit_events', to='bookings.practitioner'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='subject_id',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='subject_kind',
            field=models.CharField(default='bookings.appointment', max_length=64),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('booked', 'Booked'), ('moved', 'Moved'), ('cancelled', 'Cancelled'), ('checked_in', 'Checked in'), ('completed', 'Completed'), ('no_show', 'No-show'), ('answers_confirmed', 'Safety answers re-confirmed'), ('review_cleared', 'Review flag cleared'), ('undone', 'Status change undone'), ('patient_changed', "Patient's details changed"), ('patients_merged', 'Patient records merged'), ('created', 'Created'), ('changed', 'Changed'), ('deleted', 'Deleted'), ('resent', 'E-mail sent again'), ('signin_unlocked', 'Sign-in lock lifted')], max_length=24),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='series',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='audit_events', to='bookings.series'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['patient', 'at'], name='audit_patient_at'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['practitioner', 'at'], name='audit_practitioner_at'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['subject_kind', 'subject_id'], name='audit_subject'),
        ),
        migrations.RunPython(name_old_subjects, migrations.RunPython.noop),
        migrations.RunPython(regrant, regrant_back),
    ]
