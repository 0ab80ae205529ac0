"""The default periodic tasks of the appointments app, registered with core.schedules by
AppointmentsConfig.ready(): expiring holds, reminders, public holidays, slot generation (the
outbox's sweep is core's)."""

from core.schedules import DefaultSchedule

SCHEDULES = [
    DefaultSchedule(
        name="pending holds expiry",
        task="appointments.holds_expire",
        every_seconds=60,
        expire_seconds=50,
        description="Frees the seats held by bookings whose code was not entered within 15 "
        "minutes (contact verification). Booking a slot frees its own at once.",
    ),
    DefaultSchedule(
        name="appointment reminders",
        task="appointments.booking_reminders",
        crontab={
            "minute": "5",
            "hour": "*",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
        },
        expire_seconds=3000,
        description="Reminds, by email and SMS, the applicants whose appointment is on the "
        "next day of their office (each once).",
    ),
    DefaultSchedule(
        name="public holidays",
        task="appointments.holidays_sync",
        crontab={
            "minute": "5",
            "hour": "2",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
        },
        description="Closes each office on its country's public holidays (the holidays "
        "package) over the next 90 days, before the slot generation reaches them; the "
        "holidays an administrator kept open stay open.",
    ),
    DefaultSchedule(
        name="slot generation",
        task="appointments.slots_generate",
        crontab={
            "minute": "15",
            "hour": "2",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
        },
        description="Creates the slots of the next 60 days from opening hours and closures.",
    ),
]
