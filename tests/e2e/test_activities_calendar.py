"""The activities calendar in a real browser: overlaying a subordinate's calendar, dragging
an event in the week view, the year view and quick create."""

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from playwright.sync_api import expect

from guanxi.activities.models import Activity
from guanxi.activities.services import activity_create

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime.date(2030, 3, 4)


@pytest.fixture(autouse=True)
def activity_picklists(e2e_org):
    """The activity types, which the transactional flush removed with every data migration."""
    migration = importlib.import_module("guanxi.activities.migrations.0002_activity_picklists")
    migration.create_picklists(django_apps, None)


def _meeting(owner, subject, day=0, hour=10):
    start = timezone.make_aware(
        datetime.datetime.combine(MONDAY + datetime.timedelta(days=day), datetime.time(hour))
    )
    return activity_create(
        actor=owner,
        data={
            "kind": "meeting",
            "subject": subject,
            "start_at": start,
            "end_at": start + datetime.timedelta(hours=1),
        },
    )


def _calendar_page(new_page, user):
    page = new_page(timezone_id="Asia/Shanghai")
    login(page, user.username)
    return page


def test_manager_overlays_a_subordinate_and_not_a_peer(e2e_org, new_page):
    org = e2e_org
    _meeting(org.rep1, "Rep1 review")
    _meeting(org.rep3, "North secret", day=1)
    page = _calendar_page(new_page, org.manager)
    page.goto(f"/activities/calendar/?view=timeGridWeek&date={MONDAY}")
    expect(page.locator(f"#person-{org.rep1.pk}")).to_be_visible()
    expect(page.locator(f"#person-{org.rep3.pk}")).to_have_count(0)
    page.locator(f"#person-{org.rep1.pk}").check()
    expect(page.locator(".fc-event", has_text="Rep1 review")).to_be_visible()
    expect(page.locator(".fc-event", has_text="North secret")).to_have_count(0)


def test_drag_in_week_view_is_saved(e2e_org, new_page):
    org = e2e_org
    # The confirmation is read in English, whatever the catalogue says.
    org.rep1.language = "en"
    org.rep1.save(update_fields=["language"])
    activity = _meeting(org.rep1, "Drag me")
    page = _calendar_page(new_page, org.rep1)
    page.goto(f"/activities/calendar/?view=timeGridWeek&date={MONDAY}")
    event = page.locator(".fc-timegrid-event", has_text="Drag me")
    expect(event).to_be_visible()
    event.scroll_into_view_if_needed()
    box = event.bounding_box()
    target = page.locator(".fc-timegrid-col[data-date='2030-03-06']").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + 8
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 20, y, steps=5)
    page.mouse.move(target["x"] + target["width"] / 2, y, steps=15)
    page.mouse.up()
    expect(page.locator(".toast", has_text="Rescheduled")).to_be_visible()
    activity.refresh_from_db()
    moved = timezone.localtime(activity.start_at)
    assert moved.date() == datetime.date(2030, 3, 6)
    assert moved.hour == 10
    assert activity.version == 2


def test_year_view_renders_and_quick_create(e2e_org, new_page):
    org = e2e_org
    _meeting(org.rep1, "In March")
    page = _calendar_page(new_page, org.rep1)
    page.goto(f"/activities/calendar/?view=dayGridMonth&date={MONDAY}")
    page.locator(".fc-multiMonthYear-button").click()
    expect(page.locator(".fc-multimonth-month")).to_have_count(12)
    expect(page.locator(".fc-event", has_text="In March").first).to_be_attached()

    page.locator(".fc-dayGridMonth-button").click()
    page.locator(".fc-daygrid-day[data-date='2030-03-12'] .fc-daygrid-day-frame").click()
    dialog = page.locator("#calendar-create")
    expect(dialog).to_be_visible()
    dialog.locator("[name=subject]").fill("回访客户")
    dialog.locator("[name=kind]").select_option("call")
    dialog.locator("#calendar-create-save").click()
    expect(page.locator(".fc-event", has_text="回访客户")).to_be_visible()
    created = Activity.objects.get(subject="回访客户")
    assert created.kind == "call" and created.all_day
    assert timezone.localtime(created.start_at).date() == datetime.date(2030, 3, 12)
