"""
The series-aware waitlist (issue 13 §3): entries, offers, and holds that the database respects.

A hold is an Appointment with status "held": the three exclusion constraints (practitioner and
room from 0002, patient from 0008) are re-created so that held rows block overlaps exactly like
booked ones. No one can book a held time meanwhile, and a hold can never be placed over a booking.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


BLOCKING_OLD = "('booked', 'checked_in', 'completed')"
BLOCKING_NEW = "('booked', 'checked_in', 'completed', 'held')"


def constraints_sql(blocking: str) -> str:
    return f"""
ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS appointment_no_practitioner_overlap;
ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS appointment_no_room_overlap;
ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS appointment_no_patient_overlap;
ALTER TABLE bookings_appointment
    ADD CONSTRAINT appointment_no_practitioner_overlap
    EXCLUDE USING gist (practitioner_id WITH =, tstzrange("start", "end", '[)') WITH &&)
    WHERE (status IN {blocking});
ALTER TABLE bookings_appointment
    ADD CONSTRAINT appointment_no_room_overlap
    EXCLUDE USING gist (room_id WITH =, tstzrange("start", "end", '[)') WITH &&)
    WHERE (status IN {blocking} AND room_id IS NOT NULL);
ALTER TABLE bookings_appointment
    ADD CONSTRAINT appointment_no_patient_overlap
    EXCLUDE USING gist (patient_id WITH =, tstzrange("start", "end", '[)') WITH &&)
    WHERE (status IN {blocking});
"""


class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0013_eligibility'),  # re-chained on main's eligibility migration at merge
        ('treatments', '0004_price_and_wording'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='WaitlistEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('session_number', models.PositiveSmallIntegerField(default=1)),
                ('name', models.CharField(blank=True, max_length=120)),
                ('email', models.EmailField(blank=True, max_length=254)),
                ('phone', models.CharField(blank=True, max_length=32)),
                ('weekdays', models.JSONField(blank=True, default=list, help_text='Days that suit (Monday = 0); empty: any.')),
                ('times', models.JSONField(blank=True, default=list, help_text='Local time ranges that suit, e.g. [["09:00", "12:00"]]; empty: any.')),
                ('status', models.CharField(choices=[('waiting', 'Waiting'), ('offered', 'Offered a time'), ('fulfilled', 'Moved sooner'), ('withdrawn', 'Withdrawn')], default='waiting', max_length=16)),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name_plural': 'waitlist entries',
                'ordering': ['created_at', 'pk'],
            },
        ),
        migrations.AddField(
            model_name='appointment',
            name='held_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='appointment',
            name='status',
            field=models.CharField(choices=[('booked', 'Booked'), ('checked_in', 'Checked in'), ('completed', 'Completed'), ('no_show', 'No-show'), ('cancelled', 'Cancelled'), ('held', 'Held for a waitlist offer')], default='booked', max_length=16),
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='kind',
            field=models.CharField(choices=[('series_booked', 'Booking confirmation'), ('appointments_rescheduled', 'Change confirmation: moved'), ('appointments_cancelled', 'Change confirmation: cancelled'), ('appointments_rebooked', 'Change confirmation: booked again'), ('reminder', 'Reminder (days before)'), ('reminder_morning', 'Reminder (morning of)'), ('aftercare', 'Aftercare (evening)'), ('aftercare_followup', 'Aftercare (follow-up)'), ('next_session', 'Your next session'), ('nudge', 'Nudge: next session not booked'), ('front_desk_alert', 'Front desk: next session not booked'), ('waitlist_offer', 'Waitlist: a sooner time is offered')], max_length=32),
        ),
        migrations.CreateModel(
            name='Offer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('proposed', models.JSONField(default=list)),
                ('token', models.CharField(max_length=64, unique=True)),
                ('status', models.CharField(choices=[('open', 'Open'), ('claimed', 'Claimed'), ('expired', 'Expired'), ('released', 'Released')], default='open', max_length=16)),
                ('expires_at', models.DateTimeField()),
                ('created_at', models.DateTimeField()),
                ('closed_at', models.DateTimeField(blank=True, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('series', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='offers', to='bookings.series')),
            ],
            options={
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.AddField(
            model_name='appointment',
            name='offer',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='holds', to='bookings.offer'),
        ),
        migrations.AddConstraint(
            model_name='appointment',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'held'), ('offer__isnull', False), ('held_until__isnull', False)), models.Q(models.Q(('status', 'held'), _negated=True), ('offer__isnull', True), ('held_until__isnull', True)), _connector='OR'), name='appointment_hold_has_offer'),
        ),
        migrations.AddField(
            model_name='waitlistentry',
            name='series',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='waitlist_entries', to='bookings.series'),
        ),
        migrations.AddField(
            model_name='waitlistentry',
            name='treatment',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='waitlist_entries', to='treatments.treatment'),
        ),
        migrations.AddField(
            model_name='offer',
            name='entry',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='offers', to='bookings.waitlistentry'),
        ),
        migrations.AddIndex(
            model_name='waitlistentry',
            index=models.Index(fields=['status', 'created_at'], name='waitlist_status_created'),
        ),
        migrations.AddConstraint(
            model_name='waitlistentry',
            constraint=models.UniqueConstraint(condition=models.Q(('status__in', ['waiting', 'offered'])), fields=('series', 'session_number'), name='waitlist_one_live_entry_per_session'),
        ),
        migrations.AddConstraint(
            model_name='waitlistentry',
            constraint=models.CheckConstraint(condition=models.Q(('series__isnull', False), models.Q(models.Q(('email', ''), _negated=True), models.Q(('name', ''), _negated=True), ('session_number', 1)), _connector='OR'), name='waitlist_new_patient_has_details'),
        ),
        migrations.AddConstraint(
            model_name='waitlistentry',
            constraint=models.CheckConstraint(condition=models.Q(('session_number__gte', 1)), name='waitlist_session_number'),
        ),
        migrations.AddIndex(
            model_name='offer',
            index=models.Index(condition=models.Q(('status', 'open')), fields=['expires_at'], name='offer_open_expiry'),
        ),
        migrations.AddConstraint(
            model_name='offer',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('entry',), name='offer_one_open_per_entry'),
        ),
        migrations.AddConstraint(
            model_name='offer',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'open'), ('closed_at__isnull', False), _connector='OR'), name='offer_closed_has_time'),
        ),
        migrations.RunSQL(
            constraints_sql(BLOCKING_NEW),
            # Back: holds go first (they would be unchecked otherwise), then the old conditions.
            "DELETE FROM bookings_appointment WHERE status = 'held';" + constraints_sql(BLOCKING_OLD),
            elidable=False,
        ),
    ]
