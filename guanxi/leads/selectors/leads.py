"""Reads about leads, always starting from the reader's data scope."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from guanxi.core.models import User
from guanxi.core.phones import phone_digits
from guanxi.leads.models import Lead, LeadStatus

OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTING, LeadStatus.QUALIFIED)


def lead_list(*, user: User) -> QuerySet[Lead]:
    return Lead.objects.visible_to(user).select_related("owner", "source", "industry")


def lead_follow_ups(*, lead: Lead, user: User, limit: int = 20) -> list:
    """The follow-up records about the lead the reader may see, newest first."""
    from guanxi.activities.models import FollowUp

    content_type = ContentType.objects.get_for_model(Lead)
    return list(
        FollowUp.objects.visible_to(user)
        .filter(regarding_type=content_type, regarding_id=lead.pk)
        .select_related("owner")
        .order_by("-followed_up_at", "-id")[:limit]
    )


def lead_activities(*, lead: Lead, user: User, open_only: bool = False, limit: int = 20) -> list:
    """Activities about the lead the reader may see: open ones by due time, else newest."""
    from guanxi.activities.models import Activity, ActivityStatus

    content_type = ContentType.objects.get_for_model(Lead)
    activities = (
        Activity.objects.visible_to(user)
        .filter(regarding_type=content_type, regarding_id=lead.pk)
        .select_related("owner")
    )
    if open_only:
        activities = activities.filter(status=ActivityStatus.OPEN).order_by("due_at", "id")
    else:
        activities = activities.exclude(status=ActivityStatus.OPEN).order_by("-start_at", "-id")
    return list(activities[:limit])


def open_lead_matching(*, email: str = "", phone: str = "") -> Lead | None:
    """The oldest open (not converted, not deleted) lead with this e-mail or phone, in any
    scope: the web form de-duplicates against every lead, not the visitor's (they have none)."""
    condition = Q()
    if email:
        condition |= Q(email__iexact=email.strip())
    digits = phone_digits(phone) if phone else ""
    if digits:
        condition |= Q(phone_digits=digits)
    if not condition:
        return None
    return (
        Lead.objects.filter(condition, status__in=OPEN_STATUSES)
        .order_by("created_at", "pk")
        .first()
    )
