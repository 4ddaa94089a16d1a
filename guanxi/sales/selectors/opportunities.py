"""Reads of the opportunity pages: sums over a filtered list, the detail page's parts
(stage stays, the decision chain, lines, team), and what the account page shows."""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, Max, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.expressions import RowCount
from guanxi.core.models import User
from guanxi.core.selectors import bounded_count
from guanxi.sales.models import (
    Attitude,
    Influence,
    Opportunity,
    StageHistory,
)

CENT = Decimal("0.01")
WEIGHTED = ExpressionWrapper(
    F("amount_company") * F("probability"),
    output_field=DecimalField(max_digits=24, decimal_places=2),
)


# Above this many rows a list's sums are not worked out on every page view: the database
# would add up the whole company's deals (500,000 at L) to show one page of 25.
TOTALS_LIMIT = 10_000


def opportunity_totals(queryset: QuerySet, *, limit: int | None = None) -> dict[str, Any]:
    """Count, amount and weighted amount (company currency) of a filtered list: one
    aggregate query. With `limit`, a list of more rows than that answers
    `{"over": limit}` after reading at most limit + 1 ids (the page says to narrow it)."""
    if limit is not None and bounded_count(queryset, limit)[1]:
        return {"over": limit}
    row = queryset.order_by().aggregate(
        count=RowCount(), amount=Sum("amount_company"), weighted=Sum(WEIGHTED)
    )
    amount = Decimal(row["amount"] or 0).quantize(CENT, ROUND_HALF_UP)
    weighted = (Decimal(row["weighted"] or 0) / Decimal(100)).quantize(CENT, ROUND_HALF_UP)
    return {"count": row["count"], "amount": amount, "weighted": weighted}


# --- possible duplicates ---------------------------------------------------------------------
# Two names of one account's open deals this similar (0..100) are probably the same deal.
DUPLICATE_SCORE = 85
# An account has a handful of open deals; more than this many are not all compared.
DUPLICATE_CANDIDATES = 200


def _comparable(name: str) -> str:
    """Width, case and punctuation folded: "ERP 升级（二期）" and "erp升级(二期)" compare equal."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def _name_score(a: str, b: str) -> float:
    from rapidfuzz import fuzz

    if not a or not b:
        return 0.0
    joined = fuzz.ratio(a.replace(" ", ""), b.replace(" ", ""))
    return max(joined, fuzz.token_sort_ratio(a, b))


@dataclass
class OpportunityDuplicate:
    pk: int
    name: str
    owner_name: str
    stage: str
    amount: Decimal
    currency: str
    score: float
    visible: bool

    @property
    def url(self) -> str:
        return reverse("sales:opportunity_detail", args=[self.pk]) if self.visible else ""


def opportunity_duplicates(
    *, user: User, account_id: int | None, name: str, exclude: int | None = None, limit: int = 5
) -> list[OpportunityDuplicate]:
    """Open opportunities of the same account whose name is very similar, best first (two
    queries: the account's open deals, then which of the matches the user sees). A deal the
    user may not see is reported with its owner only (see `duplicate_as_dict`)."""
    wanted = _comparable(name)
    if not account_id or len(wanted) < 2:
        return []
    candidates = (
        Opportunity.objects.filter(account_id=account_id, is_closed=False)
        .exclude(pk=exclude or 0)
        .select_related("owner", "stage")
        .only(
            "pk",
            "name",
            "amount",
            "currency",
            "owner__username",
            "owner__display_name",
            "stage__name_zh",
            "stage__name_en",
        )
        .order_by("-created_at")[:DUPLICATE_CANDIDATES]
    )
    scored = []
    for candidate in candidates:
        score = _name_score(wanted, _comparable(candidate.name))
        if score >= DUPLICATE_SCORE:
            scored.append((score, candidate))
    scored.sort(key=lambda item: (-item[0], item[1].pk))
    scored = scored[:limit]
    if not scored:
        return []
    visible = set(
        Opportunity.objects.visible_to(user)
        .filter(pk__in=[candidate.pk for _score, candidate in scored])
        .values_list("pk", flat=True)
    )
    return [
        OpportunityDuplicate(
            pk=candidate.pk,
            name=candidate.name,
            owner_name=str(candidate.owner) if candidate.owner_id else "",
            stage=str(candidate.stage) if candidate.stage_id else "",
            amount=candidate.amount,
            currency=candidate.currency,
            score=round(score, 1),
            visible=candidate.pk in visible,
        )
        for score, candidate in scored
    ]


def duplicate_as_dict(hit: OpportunityDuplicate) -> dict[str, Any]:
    """The API's shape (like the customers' duplicate check): the owner always, the rest
    only for a deal the user may see."""
    data: dict[str, Any] = {
        "model": Opportunity._meta.label_lower,
        "exists": True,
        "owner": hit.owner_name,
        "reasons": [_("Open opportunity of the same account with a very similar name")],
    }
    if hit.visible:
        data.update(
            {
                "id": hit.pk,
                "name": hit.name,
                "url": hit.url,
                "score": hit.score,
                "stage": hit.stage,
                "amount": f"{hit.amount:.2f}",
                "currency": hit.currency,
            }
        )
    return data


def _days(start: datetime.datetime | None, end: datetime.datetime | None) -> int:
    if start is None:
        return 0
    return max(((end or timezone.now()) - start).days, 0)


def stage_stays(opportunity: Opportunity) -> list[dict[str, Any]]:
    """Each stay in a stage, oldest first, with its length in days."""
    stays = []
    for row in StageHistory.objects.filter(opportunity=opportunity).select_related(
        "stage", "changed_by"
    ):
        stays.append(
            {
                "stage": row.stage,
                "entered_at": row.entered_at,
                "left_at": row.left_at,
                "days": _days(row.entered_at, row.left_at),
                "changed_by": row.changed_by,
                "amount_company": row.amount_company,
                "probability": row.probability,
            }
        )
    return stays


def opportunity_ages(opportunity: Opportunity) -> dict[str, Any]:
    """Days in the pipeline (from creation to closing or now), days in the current stage,
    and whether the stay is over the stage's expected maximum."""
    end = opportunity.closed_at if opportunity.is_closed else None
    in_stage = _days(opportunity.stage_entered_at, end)
    limit = opportunity.stage.max_days
    return {
        "days_in_pipeline": _days(opportunity.created_at, end),
        "days_in_stage": in_stage,
        "stage_limit": limit,
        "over_limit": bool(limit) and not opportunity.is_closed and in_stage > limit,
    }


ATTITUDE_COLOURS = {
    Attitude.SUPPORTER: "#198754",
    Attitude.NEUTRAL: "#6c757d",
    Attitude.OPPONENT: "#dc3545",
}
INFLUENCE_SIZES = {Influence.LOW: 24, Influence.MEDIUM: 36, Influence.HIGH: 52}


def decision_chain(opportunity: Opportunity) -> dict[str, Any]:
    """The deal's contacts as graph nodes (colour: attitude, size: influence) and the
    "reports to" relations between them as edges: two queries."""
    from guanxi.customers.models import ContactRelation

    entries = list(
        opportunity.contact_roles.select_related("contact", "role").order_by("-is_primary", "id")
    )
    ids = [entry.contact_id for entry in entries]
    nodes = [
        {
            "id": str(entry.contact_id),
            "name": str(entry.contact),
            "role": entry.role.label if entry.role_id else "",
            "attitude": entry.get_attitude_display(),
            "influence": entry.get_influence_display(),
            "symbolSize": INFLUENCE_SIZES.get(entry.influence, 36),
            "itemStyle": {"color": ATTITUDE_COLOURS.get(entry.attitude, "#6c757d")},
        }
        for entry in entries
    ]
    edges = []
    if len(ids) > 1:
        edges = [
            {"source": str(source), "target": str(target)}
            for source, target in ContactRelation.objects.filter(
                kind=ContactRelation.Kind.REPORTS_TO,
                from_contact_id__in=ids,
                to_contact_id__in=ids,
            ).values_list("from_contact_id", "to_contact_id")
        ]
    return {"entries": entries, "nodes": nodes, "edges": edges}


def account_contact_choices(opportunity: Opportunity, user: User) -> QuerySet:
    """The contacts of the opportunity's account that the user may see."""
    from guanxi.customers.models import Contact

    return (
        Contact.objects.visible_to(user)
        .filter(
            links__account_id=opportunity.account_id,
            links__is_deleted=False,
        )
        .distinct()
        .order_by("name")
    )


# --- the account page ------------------------------------------------------------------------
def account_opportunities(*, account, user: User, closed_limit: int = 5) -> dict[str, Any]:
    """The account's open opportunities the user may see, and the latest closed ones."""
    visible = (
        Opportunity.objects.visible_to(user)
        .filter(account_id=account.pk)
        .select_related("stage", "owner")
    )
    open_ones = list(visible.filter(is_closed=False).order_by("expected_close_date", "-id")[:20])
    closed = list(visible.filter(is_closed=True).order_by("-close_date", "-id")[:closed_limit])
    return {"open": open_ones, "closed": closed}


def lifetime_revenue(account) -> Decimal | None:
    """Every won opportunity of the account, in the company currency (None: nothing won
    yet, shown as "—")."""
    total = Opportunity.objects.filter(account_id=account.pk, is_won=True).aggregate(
        total=Sum("amount_company")
    )["total"]
    return None if total is None else Decimal(total).quantize(CENT)


def last_purchase(account) -> datetime.date | None:
    return Opportunity.objects.filter(account_id=account.pk, is_won=True).aggregate(
        last=Max("close_date")
    )["last"]


def open_opportunity_accounts(account_ids: list[int]) -> set[int]:
    """Which of the accounts have an open opportunity (a pool keeps those with its owner)."""
    return set(
        Opportunity.objects.filter(account_id__in=account_ids, is_closed=False)
        .values_list("account_id", flat=True)
        .distinct()
    )
