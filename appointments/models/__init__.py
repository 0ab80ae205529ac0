"""The appointments app's models, by topic: the calendar (opening hours, closures,
suspensions, slots), the appointment and its records, the outbox, the waiting room."""

from .appointment import (
    Appointment,
    AppointmentEvent,
    AppointmentView,
    HoldNetwork,
    UsedChallenge,
)
from .calendar import Closure, OpeningHours, Slot, Suspension, Weekday
from .outbox import OutboxMessage
from .waiting import WaitingLine, WaitingNetwork, WaitingTicket

__all__ = [
    "Appointment",
    "AppointmentEvent",
    "AppointmentView",
    "Closure",
    "HoldNetwork",
    "OpeningHours",
    "OutboxMessage",
    "Slot",
    "Suspension",
    "UsedChallenge",
    "WaitingLine",
    "WaitingNetwork",
    "WaitingTicket",
    "Weekday",
]
