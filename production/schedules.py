"""The default periodic tasks of the production app, registered with core.schedules by
ProductionConfig.ready(): the backlog's dispatcher and snapshots, the erasure of personal
data."""

from core.schedules import DefaultSchedule

SCHEDULES = [
    DefaultSchedule(
        name="backlog dispatcher",
        task="production.backlog_run",
        every_seconds=300,
        expire_seconds=240,
        description="Holds and releases files as suspensions require, then takes each "
        "centre's queue into production up to its daily capacity.",
    ),
    DefaultSchedule(
        name="backlog snapshot",
        task="production.backlog_snapshot",
        crontab={
            "minute": "0",
            "hour": "*",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
        },
        expire_seconds=3000,
        description="Records each office's backlog at the top of the hour: the history drawn "
        "on the backlog dashboard.",
    ),
    DefaultSchedule(
        name="personal data erasure",
        task="production.retention_erase",
        crontab={
            "minute": "30",
            "hour": "3",
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
        },
        expire_seconds=6 * 3600,
        description="Erases the identity data no longer needed: appointments that led to no "
        "passport file (RETENTION_APPOINTMENT_DAYS after their slot), delivered files and "
        "their appointments (RETENTION_FILE_DAYS after delivery). Statistics stay.",
    ),
]
