"""What activities registers with core and customers: who sees activities and follow-ups
beyond their owners, the record types they can regard, and search."""

from django.db.models import Q

from guanxi.activities.models import Activity, ActivityAssignee, FollowUp
from guanxi.activities.regarding import register_customer_types
from guanxi.core.scope import register_scope_rule
from guanxi.core.search.registry import register_search


def _assignees_see_and_work(user, model, action):
    """An assignee sees the activity and may complete or reschedule it, never delete it."""
    if action not in ("view", "change"):
        return None
    return Q(pk__in=ActivityAssignee.objects.filter(user_id=user.pk).values("activity_id"))


def _customer_viewers_see_follow_ups(user, model, action):
    """A follow-up record is shared with everyone who sees its customer, so a rep's leaving
    loses nothing."""
    if action != "view":
        return None
    from guanxi.customers.models import Account

    return Q(account_id__in=Account.objects.visible_to(user).values("pk"))


register_scope_rule("activities.activity", _assignees_see_and_work)
register_scope_rule("activities.followup", _customer_viewers_see_follow_ups)
register_customer_types()

register_search(Activity, title="subject", fields=["description", "location", "outcome"])
register_search(
    FollowUp,
    title=lambda follow_up: follow_up.content[:80],
    fields=["content", "reaction_note"],
)

from guanxi.activities import (  # noqa: E402  (after the registrations they extend)
    api_calendar,  # noqa: E402,F401  (the calendar range query)
    hooks_customers,  # noqa: E402,F401  (customer pages, groups)
    hooks_home,  # noqa: E402,F401  (the cards of "My work today")
)
