"""Follow-ups and activities on the account page in a real browser: log a follow-up with a
next date and see the task (with its reminder) appear, then complete it in place."""

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from playwright.sync_api import expect

from guanxi.activities.models import Activity, ActivityStatus, FollowUp
from guanxi.customers.services import account_create

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

NEXT = datetime.datetime(2030, 3, 5, 10, 0)


@pytest.fixture(autouse=True)
def activity_picklists(e2e_org):
    """The activity types and channels, which the transactional flush removed."""
    migration = importlib.import_module("guanxi.activities.migrations.0002_activity_picklists")
    migration.create_picklists(django_apps, None)


def test_follow_up_with_a_next_date_shows_the_task_and_its_reminder(e2e_org, new_page):
    org = e2e_org
    account = account_create(actor=org.rep1, data={"name": "华东机械"})
    page = new_page(timezone_id="Asia/Shanghai")
    login(page, org.rep1.username)
    page.goto(f"/customers/accounts/{account.pk}/")

    form = page.locator("#quick-follow-up-form")
    form.locator("[name=channel]").select_option("phone")
    form.locator("[name=content]").fill("客户想要新的报价")
    form.locator("[name=reaction]").select_option("interested")
    form.locator("[name=next_follow_up_at]").fill(NEXT.strftime("%Y-%m-%dT%H:%M"))
    form.locator("[name=next_subject]").fill("发送新报价")
    form.locator("button[type=submit]").click()

    # The follow-up and, without a page load, the next task under open activities.
    expect(
        page.locator("#gx-follow-ups .gx-follow-up", has_text="客户想要新的报价")
    ).to_be_visible()
    row = page.locator("#gx-open-activities .gx-activity-row", has_text="发送新报价")
    expect(row).to_be_visible()
    expect(row).to_contain_text("2030-03-05 10:00")
    follow_up = FollowUp.objects.get(content="客户想要新的报价")
    task = follow_up.next_activity
    assert timezone.localtime(task.start_at).replace(tzinfo=None) == NEXT
    assert task.reminder_at == task.start_at - datetime.timedelta(minutes=15)

    # Complete it in place: the row turns done, the page stays.
    row.locator(".gx-action-complete").click()
    row.locator("input[name=outcome]").fill("报价已发送")
    row.locator("form.gx-action-form button[type=submit]").first.click()
    done_row = page.locator(f"#activity-{task.pk}[data-status=done]")
    expect(done_row).to_be_visible()
    expect(done_row).to_contain_text("报价已发送")
    assert Activity.objects.get(pk=task.pk).status == ActivityStatus.DONE

    # The task's page shows its reminder.
    page.goto(f"/activities/items/{task.pk}/")
    expect(page.locator("#activity-summary")).to_contain_text("2030-03-05 09:45")
