"""What activities plugs into the customer pages: the sections, the "Create activity"
account action, the dynamic-group condition and the timeline entries."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.activities.hooks_customers import BULK_ACTION_KEY
from guanxi.activities.models import Activity, ActivitySettings
from guanxi.activities.services import follow_up_create
from guanxi.activities.tests.factories import make_activity
from guanxi.customers import account_hooks, groups, sections
from guanxi.customers.models import Group
from guanxi.customers.selectors import group_members
from guanxi.customers.services import group_create
from guanxi.customers.tests.factories import make_account

pytestmark = pytest.mark.django_db

ACTIONS = reverse("customers:account_actions")


def account_of(user, name):
    return make_account(owner=user, label=name, actor=user)


def test_sections_and_action_and_condition_are_registered():
    keys = {section.key for section in sections.account_sections()}
    assert {"follow_ups", "open_activities", "activity_history"} <= keys
    assert account_hooks.account_bulk_action(BULK_ACTION_KEY) is not None
    assert "activity" in groups.extra_conditions()


def test_bulk_action_asks_then_creates_and_reports_refusals(client, org):
    first = account_of(org.rep1, "First Co")
    second = account_of(org.rep1, "Second Co")
    hidden = account_of(org.rep3, "Hidden Co")
    settings_row = ActivitySettings.current()
    settings_row.call_limit_per_week = 1
    settings_row.save()
    due = timezone.now() + datetime.timedelta(days=1)
    follow_up_create(actor=org.rep1, regarding=second, channel="phone", content="called")
    client.force_login(org.rep1)
    ask = client.post(
        ACTIONS,
        {"bulk_action": BULK_ACTION_KEY, "pk": [first.pk, second.pk, hidden.pk], "next": "/x/"},
    )
    assert ask.status_code == 200
    html = ask.content.decode()
    assert 'id="bulk-activity-form"' in html and 'id="bulk-activity-accounts"' in html
    assert "First Co" in html and "Hidden Co" not in html  # only what the rep sees
    assert not Activity.objects.exists()
    invalid = client.post(
        ACTIONS,
        {"bulk_action": BULK_ACTION_KEY, "step": "create", "pk": [first.pk], "kind": "call"},
    )
    assert "subject" in invalid.context["form"].errors
    done = client.post(
        ACTIONS,
        {
            "bulk_action": BULK_ACTION_KEY,
            "step": "create",
            "pk": [first.pk, second.pk],
            "kind": "call",
            "subject": "Quarterly call",
            "start_at": timezone.localtime(due).strftime("%Y-%m-%dT%H:%M"),
            "priority": "normal",
            "next": "/x/",
        },
    )
    assert done.status_code == 200
    assert [a.account_id for a in done.context["created"]] == [first.pk]
    refused = done.context["refused"]
    assert [account.pk for account, _reason in refused] == [second.pk]
    html = done.content.decode()
    assert "the limit is 1 per week" in html and "Second Co" in html
    assert list(Activity.objects.values_list("subject", flat=True)) == ["Quarterly call"]


def test_bulk_action_needs_the_role(client, org):
    account = account_of(org.rep1, "Co")
    client.force_login(org.read_only)
    response = client.post(ACTIONS, {"bulk_action": BULK_ACTION_KEY, "pk": [account.pk]})
    assert response.status_code == 403
    assert BULK_ACTION_KEY not in {a.key for a in account_hooks.account_bulk_actions(org.read_only)}
    assert BULK_ACTION_KEY in {a.key for a in account_hooks.account_bulk_actions(org.rep1)}


def test_dynamic_group_by_activity_since(org):
    busy = account_of(org.rep1, "Busy")
    quiet = account_of(org.rep1, "Quiet")
    make_activity(owner=org.rep1, label="visit", actor=org.rep1, regarding=busy)
    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    active = group_create(
        actor=org.rep1,
        data={
            "name": "Active",
            "kind": Group.Kind.DYNAMIC,
            "conditions": {"conditions": [{"field": "activity", "op": "since", "value": since}]},
        },
    )
    dormant = group_create(
        actor=org.rep1,
        data={
            "name": "Dormant",
            "kind": Group.Kind.DYNAMIC,
            "conditions": {"conditions": [{"field": "activity", "op": "not_since", "value": "7"}]},
        },
    )
    assert list(group_members(group=active, user=org.rep1)) == [busy]
    assert list(group_members(group=dormant, user=org.rep1)) == [quiet]


def test_group_condition_is_offered_with_readable_operators(client, org):
    from guanxi.customers.forms_contacts import condition_fields

    field = condition_fields()["activity"]
    assert {op for op, _label in field["ops"]} == {"since", "not_since"}
    assert "since" in dict(field["ops"])["since"]


def test_follow_ups_and_activities_read_well_on_the_account_timeline(client, org):
    account = account_of(org.rep1, "Timeline Co")
    follow_up_create(
        actor=org.rep1,
        regarding=account,
        channel="phone",
        content="Asked for a discount",
        next_follow_up_at=timezone.now() + datetime.timedelta(days=2),
        next_subject="Send the offer",
    )
    client.force_login(org.rep1)
    html = client.get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    timeline = html.split('id="section-timeline"')[1]
    assert "Asked for a discount" in timeline
    assert "Task planned: Send the offer" in timeline
