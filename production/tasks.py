from celery import shared_task


@shared_task(name="production.backlog_run", ignore_result=True)
def backlog_run() -> dict | None:
    """Hold, release and dispatch the backlog (beat every 5 minutes; the clocked tasks of a
    suspension's start and reopening). Leaves at once if another run is under way."""
    from . import backlog

    run = backlog.backlog_run_once()
    if run is None:
        return None
    return {
        "held": run.held,
        "released": run.released,
        "rebooked": run.rebooked,
        "dispatched": run.dispatched,
    }


@shared_task(name="production.backlog_snapshot", ignore_result=True)
def backlog_snapshot() -> str:
    """Record each office's backlog for this hour (beat, hourly): the dashboard's history.
    Idempotent within the hour."""
    from . import backlog

    return backlog.backlog_snapshot_take().isoformat()


# --- Personal data ------------------------------------------------------------
@shared_task(name="production.retention_erase", ignore_result=True)
def retention_erase() -> dict:
    """Erase the identity data no longer needed (beat, daily): production.retention.
    Idempotent; several runs at once share the rows."""
    from . import retention

    run = retention.retention_run()
    return {"appointments": run.appointments, "files": run.files}
