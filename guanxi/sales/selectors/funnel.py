"""The sales funnel as JSON-ready data: what the funnel page, its `?format=json` and the
funnel API show, from `guanxi.sales.selectors.board.funnel`."""

from __future__ import annotations

import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import number_format

from guanxi.sales.selectors import board as selectors


def money_text(value: Decimal) -> str:
    return number_format(value or Decimal("0"), decimal_pos=2, force_grouping=True)


def url_or_none(name: str, *args, query: dict | None = None) -> str | None:
    """The URL of a page another area builds, or None until it exists."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    if query:
        url = f"{url}?{urlencode({k: v for k, v in query.items() if v not in (None, '')})}"
    return url


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def funnel_report(user, values: dict) -> dict:
    """The funnel as JSON-ready data (the page, its ?format=json and the API share it)."""
    pipeline = values["pipeline"]
    report = selectors.funnel(
        user,
        pipeline=pipeline,
        scope=values["scope"],
        start=_aware(values["start"]),
        end=_aware(values["end"] + datetime.timedelta(days=1)),
    )
    steps = []
    for step in report["steps"]:
        steps.append(
            {
                "stage": step.stage.pk,
                "name": str(step.stage),
                "kind": step.stage.kind,
                "count": step.count,
                "amount": str(step.amount),
                "amount_display": money_text(step.amount),
                "reached": step.reached,
                "conversion": step.conversion,
                "url": url_or_none(
                    "sales:opportunity_list",
                    query={"pipeline": pipeline.pk, "stage": step.stage.pk},
                ),
            }
        )
    return {
        "pipeline": pipeline.pk,
        "pipeline_name": str(pipeline),
        "scope": report["scope"],
        "from": values["start"].isoformat(),
        "to": values["end"].isoformat(),
        "total": report["total"],
        "steps": steps,
    }
