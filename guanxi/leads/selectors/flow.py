"""Reads of the lead flow: the funnel report, a lead's score history, the duplicate
candidates offered on conversion, and the administration lists. Every read of leads starts
from `Lead.objects.visible_to(user)`; the report aggregates in SQL."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from guanxi.core.models import PicklistOption, User
from guanxi.customers import matching
from guanxi.customers.duplicates import DuplicateHit, duplicate_candidates
from guanxi.leads.models import (
    AssignmentRule,
    Lead,
    LeadCapacity,
    LeadScoreEntry,
    LeadStage,
    LeadStatus,
    ScoringRule,
)

# --- the funnel --------------------------------------------------------------------------


def lead_list_url(**params: Any) -> str:
    try:
        base = reverse("leads:lead_list")
    except NoReverseMatch:
        base = "/leads/"
    query = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{base}?{urlencode(query)}" if query else base


@dataclass
class FunnelStep:
    key: str
    label: str
    count: int
    rate: float | None  # share of the previous step, in percent
    overall: float | None  # share of all leads of the period, in percent
    url: str


@dataclass
class FunnelReport:
    start: datetime.datetime
    end: datetime.datetime
    total: int
    steps: list[FunnelStep]
    by_source: list[dict[str, Any]]
    by_status: list[dict[str, Any]]
    # [(label, average timedelta or None, how many leads it is measured on)]
    durations: list[dict[str, Any]] = field(default_factory=list)


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _duration(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def funnel_leads(*, user: User, start: datetime.datetime, end: datetime.datetime) -> QuerySet:
    return Lead.objects.visible_to(user).filter(created_at__gte=start, created_at__lt=end)


def lead_funnel(*, user: User, start: datetime.datetime, end: datetime.datetime) -> FunnelReport:
    """Leads created in [start, end) that the user may see: counts by source and status,
    the lead -> MQL -> SQL -> converted funnel and the average time of each step. Four
    aggregate queries plus one for the source labels."""
    leads = funnel_leads(user=user, start=start, end=end).order_by()
    totals = leads.aggregate(
        total=Count("id"),
        mql=Count("id", filter=Q(mql_at__isnull=False)),
        sql=Count("id", filter=Q(sql_at__isnull=False)),
        converted=Count("id", filter=Q(converted_at__isnull=False)),
        to_mql=Avg(_duration("mql_at", "created_at"), filter=Q(mql_at__isnull=False)),
        to_sql=Avg(
            _duration("sql_at", "mql_at"), filter=Q(sql_at__isnull=False, mql_at__isnull=False)
        ),
        to_converted=Avg(
            _duration("converted_at", "sql_at"),
            filter=Q(converted_at__isnull=False, sql_at__isnull=False),
        ),
        to_converted_all=Avg(
            _duration("converted_at", "created_at"), filter=Q(converted_at__isnull=False)
        ),
    )
    total = totals["total"]
    steps = []
    previous = None
    for key, label, count, params in (
        ("lead", _("Leads"), total, {}),
        ("mql", _("Marketing qualified"), totals["mql"], {"stage": LeadStage.MQL}),
        ("sql", _("Sales qualified"), totals["sql"], {"stage": LeadStage.SQL}),
        ("converted", _("Converted"), totals["converted"], {"status": LeadStatus.CONVERTED}),
    ):
        steps.append(
            FunnelStep(
                key=key,
                label=label,
                count=count,
                rate=None if previous is None else _percent(count, previous),
                overall=_percent(count, total),
                url=lead_list_url(**params),
            )
        )
        previous = count
    durations = [
        {"key": "to_mql", "label": _("Created → marketing qualified"), "value": totals["to_mql"]},
        {"key": "to_sql", "label": _("Marketing → sales qualified"), "value": totals["to_sql"]},
        {
            "key": "to_converted",
            "label": _("Sales qualified → converted"),
            "value": totals["to_converted"],
        },
        {
            "key": "to_converted_all",
            "label": _("Created → converted"),
            "value": totals["to_converted_all"],
        },
    ]

    source_rows = list(
        leads.values("source_id")
        .annotate(
            count=Count("id"),
            converted=Count("id", filter=Q(status=LeadStatus.CONVERTED)),
        )
        .order_by("-count", "source_id")
    )
    labels = {
        option.pk: option.label
        for option in PicklistOption.objects.filter(
            pk__in=[row["source_id"] for row in source_rows if row["source_id"]]
        )
    }
    by_source = [
        {
            "source_id": row["source_id"],
            "label": labels.get(row["source_id"], _("No source")),
            "count": row["count"],
            "converted": row["converted"],
            "rate": _percent(row["converted"], row["count"]),
            "url": lead_list_url(source=row["source_id"] or ""),
        }
        for row in source_rows
    ]
    status_counts = dict(
        leads.values("status").annotate(count=Count("id")).values_list("status", "count")
    )
    by_status = [
        {
            "status": value,
            "label": str(label),
            "count": status_counts.get(value, 0),
            "url": lead_list_url(status=value),
        }
        for value, label in LeadStatus.choices
    ]
    return FunnelReport(
        start=start,
        end=end,
        total=total,
        steps=steps,
        by_source=by_source,
        by_status=by_status,
        durations=durations,
    )


# --- score history -----------------------------------------------------------------------


def lead_score_history(*, lead: Lead, limit: int = 100) -> QuerySet:
    """The lead's score entries, newest first (the caller has checked the lead is
    visible)."""
    return LeadScoreEntry.objects.filter(lead_id=lead.pk).order_by("-occurred_at", "-id")[:limit]


# --- conversion candidates ---------------------------------------------------------------


@dataclass
class ConversionCandidates:
    accounts: list[DuplicateHit]
    contacts: list[DuplicateHit]


def conversion_candidates(*, lead: Lead, user: User, limit: int = 5) -> ConversionCandidates:
    """Accounts like the lead's company and contacts like the lead's person (the duplicate
    engine's matches); only records the user may see can be chosen."""
    phones = [lead.phone] if lead.phone else []
    emails = [lead.email] if lead.email else []
    accounts: list[DuplicateHit] = []
    if lead.company:
        accounts = [
            hit
            for hit in duplicate_candidates(
                user=user,
                name=lead.company,
                phones=phones,
                emails=emails,
                kind=matching.COMPANY,
                limit=limit * 3,
            )
            if hit.model_label == "customers.account" and hit.visible
        ][:limit]
    contacts = [
        hit
        for hit in duplicate_candidates(
            user=user,
            name=lead.name,
            phones=phones,
            emails=emails,
            kind=matching.PERSON,
            limit=limit * 3,
        )
        if hit.model_label == "customers.contact" and hit.visible
    ][:limit]
    return ConversionCandidates(accounts=accounts, contacts=contacts)


# --- administration ------------------------------------------------------------------------


def assignment_rules() -> QuerySet:
    return (
        AssignmentRule.objects.select_related("user", "pool")
        .prefetch_related("members")
        .order_by("sort_order", "id")
    )


def scoring_rules() -> QuerySet:
    return ScoringRule.objects.order_by("kind", "sort_order", "id")


def lead_capacities() -> list[LeadCapacity]:
    """Every capacity with the user's open lead count (two queries)."""
    from guanxi.leads.services.assignment import open_lead_counts

    capacities = list(LeadCapacity.objects.select_related("user").order_by("user__username"))
    counts = open_lead_counts([c.user_id for c in capacities])
    for capacity in capacities:
        capacity.open_leads = counts.get(capacity.user_id, 0)
    return capacities
