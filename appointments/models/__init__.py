"""The appointments app's models, by topic: the calendar (opening hours, closures,
suspensions, slots), the appointment and its records, the waiting room. The outbox of
messages is core's (core.models.OutboxMessage)."""

from .appointment import (
    Appointment,
    AppointmentEvent,
    AppointmentView,
    HoldNetwork,
    UsedChallenge,
)
from .calendar import Closure, HolidayOverride, OpeningHours, Slot, Suspension, Weekday
from .waiting import WaitingLine, WaitingNetwork, WaitingTicket

__all__ = [
    "Appointment",
    "AppointmentEvent",
    "AppointmentView",
    "Closure",
    "HoldNetwork",
    "HolidayOverride",
    "OpeningHours",
    "Slot",
    "Suspension",
    "UsedChallenge",
    "WaitingLine",
    "WaitingNetwork",
    "WaitingTicket",
    "Weekday",
]
