"""The staff roles as groups: Front desk, Practitioner, Manager (what each may do: see the lists).

The lists are frozen here on purpose (a migration must not change meaning when code changes).
A practitioner without `view_all_diaries` sees only their own diary and their own patients.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_BOOKINGS = [
    "view_appointment",
    "view_series",
    "view_patient",
    "view_questionnaire",
    "view_practitioner",
    "view_workinghours",
    "view_timeoff",
    "view_auditevent",
    "view_outboxmessage",
]
GROUPS = {
    "Front desk": [
        *VIEW_BOOKINGS,
        "view_room",
        "view_clinicrules",
        "add_patient",
        "change_patient",
        "add_series",
        "change_appointment",
        "mark_appointment",
        "view_all_diaries",
    ],
    "Practitioner": [*VIEW_BOOKINGS, "mark_appointment", "clear_review"],
    # Everything in bookings and treatments except editing the audit trail (see below).
    "Manager": None,
}
NEVER = {"add_auditevent", "change_auditevent", "delete_auditevent"}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; these groups need them now.
    for app_label in ("bookings", "treatments"):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True  # the migration state's stub app passes create_permissions' guard
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        if codenames is None:
            permissions = Permission.objects.filter(
                content_type__app_label__in=["bookings", "treatments"]
            ).exclude(codename__in=NEVER)
        else:
            permissions = Permission.objects.filter(
                content_type__app_label="bookings", codename__in=codenames
            )
            if name == "Front desk":
                permissions = permissions | Permission.objects.filter(
                    content_type__app_label="treatments", codename="view_treatment"
                )
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("bookings", "0004_audit_and_staff_permissions"),
        ("treatments", "0003_microneedling_content"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
