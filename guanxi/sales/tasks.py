"""Background jobs of the sales app (Huey; immediate under tests).

Every Monday at 06:00 local time (settings.TIME_ZONE, whatever zone Huey's clock runs in):
the forecast snapshot of the current month, quarter and year, so "forecast vs actual" can be
compared later.
"""

import datetime

from django.utils import timezone
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task


def monday_six_local(moment: datetime.datetime) -> bool:
    """Huey's periodic check: `moment` is naive UTC (Huey's default) or naive system time."""
    aware = moment.replace(tzinfo=datetime.UTC) if HUEY.utc else moment.astimezone()
    local = timezone.localtime(aware)
    return local.weekday() == 0 and local.hour == 6 and local.minute == 0


@db_periodic_task(monday_six_local)
def forecast_snapshot_task() -> int:
    """Take this week's forecast snapshot (idempotent per day)."""
    from guanxi.sales.services.forecast import forecast_snapshot_take

    return forecast_snapshot_take()


@db_task()
def furthest_stages_refresh_task(pipeline_id: int) -> int:
    """After a stage reorder: every deal of the process's furthest stage again (a pass over
    all its deals, too long for the request that reordered)."""
    from guanxi.sales.models import Pipeline
    from guanxi.sales.services.pipelines import furthest_stages_refresh

    pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
    return furthest_stages_refresh(pipeline) if pipeline is not None else 0
