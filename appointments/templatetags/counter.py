"""`{{ appointment|counter_actions }}`: the counter actions an appointment allows now, by
the one rule of appointments.services.counter_actions (what the buttons offer is what the
services accept)."""

from django import template
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import counter_actions as allowed

register = template.Library()


@register.filter
def counter_actions(appointment: Appointment) -> list[str]:
    return [str(action) for action in allowed(appointment=appointment, now=timezone.now())]
