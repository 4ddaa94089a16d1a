"""Background jobs of the leads app (Huey; immediate under tests): the nightly pool jobs.

Huey keeps its clock in UTC; the schedules below are in the site's time zone (TIME_ZONE),
so "02:00" is 02:00 where the users are.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from guanxi.leads.services.pools import recycle_run, recycle_warnings_send


def local_crontab(**fields):
    """A crontab read in the site's time zone (Huey hands the check a naive UTC time)."""
    check = crontab(**fields)

    def validate(moment: datetime.datetime) -> bool:
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=datetime.UTC)
        return check(timezone.localtime(moment).replace(tzinfo=None))

    return validate


@db_periodic_task(local_crontab(hour="2", minute="0"))
def pool_recycle_task() -> int:
    """Take back what the pools' recycle rules say (02:00)."""
    return len(recycle_run())


@db_periodic_task(local_crontab(hour="8", minute="0"))
def pool_warnings_task() -> int:
    """Tell owners what returns to the pool within the warning days (08:00)."""
    return recycle_warnings_send()
