"""Merging customers keeps their deals and activities; new opportunities get their
account's territory."""

import datetime

import pytest
from django.utils import timezone

from guanxi.activities.models import Activity, FollowUp
from guanxi.activities.services import follow_up_create
from guanxi.activities.tests.factories import make_activity
from guanxi.customers.merge import account_merge
from guanxi.customers.tests.factories import make_account
from guanxi.sales.models import AccountTerritory, Opportunity, Territory
from guanxi.sales.services import opportunities as services

pytestmark = pytest.mark.django_db


def test_account_merge_moves_opportunities_activities_and_follow_ups(org):
    survivor = make_account(owner=org.rep1, label="华为技术", actor=org.rep1)
    merged = make_account(owner=org.rep1, label="华为技术有限公司", actor=org.rep1)
    deal = services.opportunity_create(actor=org.rep1, data={"name": "ERP", "account": merged})
    task = make_activity(
        owner=org.rep1,
        label="回访",
        actor=org.rep1,
        regarding=merged,
        start_at=timezone.now() + datetime.timedelta(days=1),
    )
    note = follow_up_create(actor=org.rep1, regarding=merged, channel="wechat", content="聊过")

    account_merge(survivor_id=survivor.pk, merged_ids=[merged.pk], actor=org.admin)

    assert Opportunity.objects.get(pk=deal.pk).account_id == survivor.pk
    moved_task = Activity.objects.get(pk=task.pk)
    assert (moved_task.account_id, moved_task.regarding_id) == (survivor.pk, survivor.pk)
    moved_note = FollowUp.objects.get(pk=note.pk)
    assert (moved_note.account_id, moved_note.regarding_id) == (survivor.pk, survivor.pk)


def test_new_opportunity_takes_its_accounts_territory(org):
    account = make_account(owner=org.rep1, label="上海客户", actor=org.rep1)
    east = Territory.objects.create(name="华东")
    AccountTerritory.objects.update_or_create(account=account, defaults={"territory": east})
    deal = services.opportunity_create(actor=org.rep1, data={"name": "CRM", "account": account})
    assert Opportunity.objects.get(pk=deal.pk).territory == east
