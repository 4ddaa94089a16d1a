"""Activity and follow-up makers for tests and the data-scope leak test."""

import datetime

from django.utils import timezone

from guanxi.activities.models import Activity, FollowUp
from guanxi.activities.services import activity_create, follow_up_create
from guanxi.core.models import User
from guanxi.core.scope import can
from guanxi.core.tests.leak import register_leak_maker
from guanxi.customers.models import Account
from guanxi.customers.tests.factories import make_account


def make_activity(*, owner, label, actor, regarding=None, **data):
    values = {
        "subject": label,
        "kind": "task",
        "start_at": timezone.now() + datetime.timedelta(days=1),
        "owner": owner,
        **data,
    }
    return activity_create(actor=actor, data=values, regarding=regarding)


def _owners_account(owner, label, actor):
    account = Account.all_objects.filter(owner=owner).order_by("pk").first()
    return account or make_account(owner=owner, label=f"{label}-account", actor=actor)


def make_follow_up(*, owner, label, actor, regarding=None, **kwargs):
    """Logged by the owner on one of the owner's accounts (a follow-up is visible to
    whoever sees its customer, so the customer must be the owner's too)."""
    regarding = regarding or _owners_account(owner, label, actor)
    if owner is None or not can(owner, FollowUp, "add"):
        # A pool record (nobody's follow-up on the pool customer), or one for a role that
        # may not log follow-ups (finance, read-only): written directly.
        from django.contrib.contenttypes.models import ContentType

        from guanxi.core.services.records import record_create

        return record_create(
            model=FollowUp,
            data={
                "owner": owner,
                "regarding_type": ContentType.objects.get_for_model(regarding),
                "regarding_id": regarding.pk,
                "account_id": regarding.pk,
                "channel": "wechat",
                "content": label,
                "followed_up_at": timezone.now(),
            },
            actor=actor,
        )
    follow_up = follow_up_create(
        actor=owner, regarding=regarding, channel="wechat", content=label, **kwargs
    )
    return FollowUp.all_objects.get(pk=follow_up.pk)


def _make_leak_activity(*, owner, label, actor):
    """Roles that may not add activities (finance, read-only) get theirs from an
    administrator."""
    if not can(actor, Activity, "add"):
        actor = User.objects.filter(roles__code="admin", is_active=True).order_by("pk").first()
    return make_activity(owner=owner, label=label, actor=actor)


register_leak_maker(Activity, _make_leak_activity)
register_leak_maker(FollowUp, make_follow_up)
