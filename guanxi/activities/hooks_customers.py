"""What activities adds to the customer pages: the "Open activities", "Activity history" and
"Follow-ups" sections of the account and contact pages, the account action "Create
activity" for many accounts at once, and the dynamic-group condition "has had an activity
since"."""

from __future__ import annotations

from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.activities.models import Activity
from guanxi.activities.selectors import activity_condition
from guanxi.core.scope import can
from guanxi.customers.account_hooks import AccountBulkAction, register_account_bulk_action
from guanxi.customers.groups import register_group_condition
from guanxi.customers.sections import (
    AccountSection,
    register_account_section,
    register_contact_section,
)


# --- sections ----------------------------------------------------------------------------------
def _open(*, user, account=None, contact=None) -> dict:
    from guanxi.activities.views import open_panel_context

    return open_panel_context(record=account or contact, user=user)


def _history(*, user, account=None, contact=None) -> dict:
    from guanxi.activities.views import history_panel_context

    return history_panel_context(record=account or contact, user=user)


def _follow_ups(*, user, account=None, contact=None) -> dict:
    from guanxi.activities.views import follow_up_panel_context

    return follow_up_panel_context(record=account or contact, user=user)


SECTIONS = [
    AccountSection(
        key="follow_ups",
        title=gettext_lazy("Follow-ups"),
        template="activities/sections/follow_ups.html",
        context=_follow_ups,
        order=12,
    ),
    AccountSection(
        key="open_activities",
        title=gettext_lazy("Open activities"),
        template="activities/sections/open_activities.html",
        context=_open,
        order=14,
    ),
    AccountSection(
        key="activity_history",
        title=gettext_lazy("Activity history"),
        template="activities/sections/history.html",
        context=_history,
        order=16,
        lazy=True,
    ),
]

for _section in SECTIONS:
    register_account_section(_section)
    register_contact_section(_section)


# --- "Create activity" for the selected accounts ------------------------------------------------
def create_activity_handler(*, request, accounts, next_url):
    """First the form (type, subject, due time) for the selected accounts; posted back with
    `step=create`, one activity per account through the service, and a report of what was
    created and what was refused, and why."""
    from guanxi.activities.forms import BulkActivityForm
    from guanxi.activities.services import activities_bulk_create

    user = request.user
    if not can(user, Activity, "add"):
        return TemplateResponse(
            request,
            "core/generic/forbidden.html",
            {"message": _("Your role does not allow you to create activities.")},
            status=403,
        )
    context = {"accounts": accounts, "next_url": next_url, "action_key": BULK_ACTION_KEY}
    if request.POST.get("step") != "create":
        return TemplateResponse(
            request,
            "activities/bulk_create.html",
            {**context, "form": BulkActivityForm()},
        )
    form = BulkActivityForm(request.POST)
    if not form.is_valid():
        return TemplateResponse(request, "activities/bulk_create.html", {**context, "form": form})
    created, refused = activities_bulk_create(
        actor=user, records=accounts, data=form.service_data()
    )
    return TemplateResponse(
        request,
        "activities/bulk_result.html",
        {
            **context,
            "created": created,
            "refused": refused,
            "subject": form.cleaned_data["subject"],
        },
    )


BULK_ACTION_KEY = "create_activity"

register_account_bulk_action(
    AccountBulkAction(
        key=BULK_ACTION_KEY,
        label=gettext_lazy("Create activity"),
        handler=create_activity_handler,
        # Anyone who works on accounts plans activities for those they see.
        permission="change",
        editable_only=False,
        icon="bi-calendar-plus",
        order=80,
    )
)


# --- dynamic groups ----------------------------------------------------------------------------
register_group_condition(
    "activity",
    gettext_lazy("activity or follow-up (date or days ago)"),
    {"since", "not_since"},
    activity_condition,
)


# --- merging customers -------------------------------------------------------------------------
def _move_activities_to_survivor(*, survivor, merged, actor) -> None:
    """A merge keeps every activity and follow-up: they follow the surviving record."""
    from django.contrib.contenttypes.models import ContentType

    from guanxi.activities.models import Activity, FollowUp
    from guanxi.customers.models import Account

    merged_ids = [record.pk for record in merged]
    column = "account_id" if isinstance(survivor, Account) else "contact_id"
    content_type = ContentType.objects.get_for_model(type(survivor))
    for model in (Activity, FollowUp):
        model.all_objects.filter(**{f"{column}__in": merged_ids}).update(**{column: survivor.pk})
        model.all_objects.filter(regarding_type=content_type, regarding_id__in=merged_ids).update(
            regarding_id=survivor.pk
        )


def _register_merge_hooks() -> None:
    from guanxi.customers.merge import register_merge_hook
    from guanxi.customers.models import Account, Contact

    register_merge_hook(Account, _move_activities_to_survivor)
    register_merge_hook(Contact, _move_activities_to_survivor)


_register_merge_hooks()
