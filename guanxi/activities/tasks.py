"""Background jobs of the activities app (Huey; immediate under tests).

Every minute: due reminders, overdue notices and escalations to managers. Each job claims
its rows before notifying (see reminders.py), so a second worker or an overlapping run
never sends a notice twice.
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from guanxi.activities.reminders import escalate_overdue, notify_overdue, send_due_reminders


@db_periodic_task(crontab(minute="*"))
def activity_reminders_task() -> int:
    """Remind owners and assignees of activities whose reminder time has come."""
    return send_due_reminders()


@db_periodic_task(crontab(minute="*"))
def activity_overdue_task() -> int:
    """Tell owners about open activities past their due time."""
    return notify_overdue()


@db_periodic_task(crontab(minute="*"))
def activity_escalation_task() -> int:
    """Tell managers about open activities overdue for longer than the escalation delay."""
    return escalate_overdue()
