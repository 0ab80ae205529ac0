"""Every write about offices, calendars, bookings, counter work and staff, by topic:

- calendar: offices, opening hours, slots, closures;
- holidays: the public holidays' closures and the holidays kept open;
- booking: book (the statement in book.sql); holds: its bounds on pending holds;
- manage: read with the manage token, cancel, move, the channels of the messages;
- counter: check-in, no-show, eviction of whoever holds a person's identity number, and
  which counter actions an appointment allows;
- staff: members of staff, their memberships and their second factor;
- reminders: the reminder the day before an appointment;
- verification: contact verification, the code that turns a pending hold into a booking,
  and the expiry of the holds never confirmed;
- retention: the erasure of identity data once no longer needed.

Callers import from here (`from appointments import services`).
"""

from ..errors import (
    AlreadyBooked,
    BookingClosed,
    HoldExpired,
    NoChannelLeft,
    NotChangeable,
    SlotFull,
    SlotInPast,
    WrongCode,
)
from .booking import (
    Applicant,
    booking_create,
    hash_token,
    new_reference,
    slot_for_booking,
    slot_known_full,
    slot_refusal,
    slot_remembered_full,
)
from .calendar import (
    SLOT_HORIZON_DAYS,
    closure_apply,
    closure_create,
    closure_delete,
    closure_remove,
    office_upsert,
    opening_hours_set,
    slots_generate,
)
from .counter import (
    CounterAction,
    appointment_check_in,
    appointment_evict,
    appointment_lock_for_counter,
    appointment_no_show,
    counter_actions,
)
from .displaced import displaced_rebook, displaced_reserve
from .holidays import (
    HOLIDAY_HORIZON_DAYS,
    holiday_keep_open,
    holiday_override_delete,
    holidays_sync,
    public_holidays,
)
from .manage import (
    booking_cancel,
    booking_changeable,
    booking_for_token,
    booking_notifications_set,
    booking_reschedule,
)
from .reminders import booking_reminders_enqueue
from .retention import appointments_erase, appointments_erase_expired
from .suspension import (
    InvalidSuspension,
    suspension_create,
    suspension_delete,
    suspension_update,
)
from .verification import booking_confirm, holds_expire, holds_release

__all__ = [
    "HOLIDAY_HORIZON_DAYS",
    "SLOT_HORIZON_DAYS",
    "AlreadyBooked",
    "Applicant",
    "BookingClosed",
    "CounterAction",
    "HoldExpired",
    "InvalidSuspension",
    "NoChannelLeft",
    "NotChangeable",
    "SlotFull",
    "SlotInPast",
    "WrongCode",
    "appointment_check_in",
    "appointment_evict",
    "appointment_lock_for_counter",
    "appointment_no_show",
    "appointments_erase",
    "appointments_erase_expired",
    "booking_cancel",
    "booking_changeable",
    "booking_confirm",
    "booking_create",
    "booking_for_token",
    "booking_notifications_set",
    "booking_reminders_enqueue",
    "booking_reschedule",
    "closure_apply",
    "closure_create",
    "closure_delete",
    "closure_remove",
    "counter_actions",
    "displaced_rebook",
    "displaced_reserve",
    "hash_token",
    "holds_expire",
    "holds_release",
    "holiday_keep_open",
    "holiday_override_delete",
    "holidays_sync",
    "new_reference",
    "office_upsert",
    "opening_hours_set",
    "public_holidays",
    "slot_for_booking",
    "slot_known_full",
    "slot_refusal",
    "slot_remembered_full",
    "slots_generate",
    "suspension_create",
    "suspension_delete",
    "suspension_update",
]
