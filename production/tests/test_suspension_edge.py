"""A suspension's start and reopening run the backlog: the appointments app's clocked task
tells (a signal, not the production app's task by name), and the production app sends its
own task, in its own queue, once the telling commits."""

import pytest

from appointments import tasks as appointment_tasks
from production.tasks import backlog_run

pytestmark = pytest.mark.django_db


def test_the_edge_task_sends_the_backlog_run_once_committed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        appointment_tasks.suspension_edge(suspension_id=7, edge="reopening")
    assert callbacks == [backlog_run.delay]
