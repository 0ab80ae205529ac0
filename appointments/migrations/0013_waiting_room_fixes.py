"""The waiting room, corrected: a line keeps the history of its rate (segments), so that an
admission's time is the moment its place was really reached; the early arrivals are settled
under the line's lock; tickets past their network's bound go to the back of the line (their
own lane); tickets are bounded per address too."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("appointments", "0012_hold_bounds")]

    operations = [
        migrations.RemoveField(model_name="waitingline", name="base"),
        migrations.RemoveField(model_name="waitingline", name="since"),
        migrations.AddField(
            model_name="waitingline",
            name="segments",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AddField(
            model_name="waitingline",
            name="early",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="waitingline",
            name="early_for",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="waitingline",
            name="overflowed",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="waitingline",
            name="ahead",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="waitingticket",
            name="overflow",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="waitingticket",
            name="lane_number",
            field=models.PositiveIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="waitingticket",
            name="ahead",
            field=models.PositiveIntegerField(default=0),
        ),
        # Tickets taken before: all within the bounds, in their order of arrival.
        migrations.RunSQL(
            "UPDATE appointments_waitingticket SET lane_number = number",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AddConstraint(
            model_name="waitingticket",
            constraint=models.UniqueConstraint(
                fields=("line", "overflow", "lane_number"), name="waiting_ticket_line_lane"
            ),
        ),
        migrations.AddField(
            model_name="waitingnetwork",
            name="kind",
            field=models.CharField(default="network", max_length=8),
        ),
        migrations.RemoveConstraint(model_name="waitingnetwork", name="waiting_network_line_key"),
        migrations.AddConstraint(
            model_name="waitingnetwork",
            constraint=models.UniqueConstraint(
                fields=("line", "kind", "network"), name="waiting_network_line_kind_key"
            ),
        ),
    ]
