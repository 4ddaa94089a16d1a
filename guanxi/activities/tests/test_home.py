"""The activities' cards on "My work today" (the home page): what each card lists, its
empty state, its "see all" link, a bounded query count, and the registry's slot for other
modules' cards."""

import datetime
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.activities import hooks_home, services
from guanxi.activities.tests.factories import make_activity
from guanxi.core.home import register_home_widget, unregister_home_widget
from guanxi.core.services.notifications import notification_send
from guanxi.core.tests.factories import user_with_permissions
from guanxi.customers.tests.factories import make_account

pytestmark = pytest.mark.django_db

HOME = reverse("home")
HOUR = datetime.timedelta(hours=1)


def _later_today():
    """A moment still ahead today (local time)."""
    now = timezone.now()
    _start, end = hooks_home.today_bounds(now)
    return min(now + HOUR, end - datetime.timedelta(seconds=1))


def _card(response, title):
    return next(card for card in response.context["cards"] if card["title"] == title)


def _activity(owner, subject, start_at, **data):
    return make_activity(owner=owner, label=subject, actor=owner, start_at=start_at, **data)


# --- selectors -----------------------------------------------------------------------------
def test_due_today_is_every_open_activity_of_mine_due_today(org):
    now = timezone.make_aware(datetime.datetime(2026, 3, 10, 9, 0))
    start, end = hooks_home.today_bounds(now)
    account = make_account(owner=org.rep1, label="华为", actor=org.rep1)
    due = _activity(org.rep1, "回电话", start + 15 * HOUR, kind="call", regarding=account)
    early = _activity(org.rep1, "早会", start + HOUR, kind="meeting")
    done = _activity(org.rep1, "已完成", start + 10 * HOUR)
    services.activity_complete(activity=done, actor=org.rep1)
    _activity(org.rep1, "明天", end + HOUR)
    _activity(org.rep1, "昨天", start - HOUR)
    assigned = _activity(org.rep2, "协助", start + 12 * HOUR)
    assigned.assignments.create(user=org.rep1)
    _activity(org.rep2, "别人的", start + 12 * HOUR)
    rows, total = hooks_home.due_today(org.rep1, now=now)
    assert [row.subject for row in rows] == ["早会", "协助", "回电话"]
    assert total == 3
    assert rows[2].account.name == "华为"
    assert early in rows and due in rows and done not in rows


def test_overdue_is_oldest_first_with_a_count(org):
    now = timezone.now()
    for days in range(12, 0, -1):
        _activity(org.rep1, f"overdue {days}", now - datetime.timedelta(days=days))
    _activity(org.rep1, "future", now + HOUR)
    cancelled = _activity(org.rep1, "cancelled", now - HOUR)
    services.activity_cancel(activity=cancelled, actor=org.rep1)
    rows, total = hooks_home.overdue(org.rep1)
    assert total == 12
    assert [row.subject for row in rows] == [f"overdue {days}" for days in range(12, 2, -1)]


def test_meetings_today_leave_out_cancelled_and_other_kinds(org):
    now = timezone.make_aware(datetime.datetime(2026, 3, 10, 9, 0))
    start, _end = hooks_home.today_bounds(now)
    visit = _activity(org.rep1, "拜访", start + 14 * HOUR, kind="visit", location="上海")
    meeting = _activity(org.rep1, "周会", start + 10 * HOUR, kind="meeting")
    dropped = _activity(org.rep1, "取消", start + 11 * HOUR, kind="meeting")
    services.activity_cancel(activity=dropped, actor=org.rep1)
    _activity(org.rep1, "电话", start + 11 * HOUR, kind="call")
    rows, total = hooks_home.meetings_today(org.rep1, now=now)
    assert rows == [meeting, visit] and total == 2


# --- the cards on the page -----------------------------------------------------------------
def test_cards_show_todays_work(client, org):
    account = make_account(owner=org.rep1, label="阿里巴巴", actor=org.rep1)
    follow_up = services.follow_up_create(
        actor=org.rep1,
        regarding=account,
        channel="wechat",
        content="客户想看报价",
        next_follow_up_at=_later_today(),
        next_subject="发报价",
    )
    assert follow_up.next_activity_id
    _activity(org.rep1, "旧任务", timezone.now() - datetime.timedelta(days=3))
    _activity(
        org.rep1,
        "客户拜访",
        _later_today(),
        kind="visit",
        location="杭州市西湖区",
        regarding=account,
    )
    notification_send(recipient=org.rep1, kind="activity_reminder", text="Reminder: 发报价")
    notification_send(recipient=org.rep1, kind="assigned", text="Not a reminder")
    read = notification_send(recipient=org.rep1, kind="activity_reminder", text="Old reminder")
    read.is_read = True
    read.save(update_fields=["is_read"])

    client.force_login(org.rep1)
    response = client.get(HOME)
    assert response.status_code == 200
    due = _card(response, "Due today")["html"]
    assert "发报价" in due and "Follow-up" in due and "阿里巴巴" in due
    assert "旧任务" not in due
    overdue = _card(response, "Overdue")["html"]
    assert "旧任务" in overdue and "发报价" not in overdue
    meetings = _card(response, "Meetings and visits today")["html"]
    assert "客户拜访" in meetings and "杭州市西湖区" in meetings and "阿里巴巴" in meetings
    reminders = _card(response, "Reminders")["html"]
    assert "Reminder: 发报价" in reminders
    assert "Not a reminder" not in reminders and "Old reminder" not in reminders
    titles = [card["title"] for card in response.context["cards"]]
    assert titles[:4] == ["Due today", "Overdue", "Meetings and visits today", "Reminders"]


def test_cards_show_only_my_own_work(client, org):
    _activity(org.rep2, "rep2 的任务", timezone.now() - HOUR)
    client.force_login(org.manager)  # sees rep2's activity, but it is not the manager's work
    response = client.get(HOME)
    assert "rep2 的任务" not in _card(response, "Overdue")["html"]


def test_empty_states(client, org):
    client.force_login(org.rep3)
    response = client.get(HOME)
    assert "Nothing due today." in _card(response, "Due today")["html"]
    assert "Nothing overdue." in _card(response, "Overdue")["html"]
    assert "No meetings or visits today." in _card(response, "Meetings and visits today")["html"]
    assert "No unread reminders." in _card(response, "Reminders")["html"]


def test_more_than_a_page_says_how_many_more(client, org):
    for days in range(1, 14):
        _activity(org.rep1, f"late {days}", timezone.now() - datetime.timedelta(days=days))
    client.force_login(org.rep1)
    html = _card(client.get(HOME), "Overdue")["html"]
    assert html.count("gx-home-activity") == 10
    assert "and 3 more" in html
    assert ">13</span>" in html


def test_see_all_links_use_the_agreed_list_filters(monkeypatch):
    monkeypatch.setattr(
        hooks_home,
        "reverse",
        lambda name, *a, **k: "/activities/" if name == "activities:index" else reverse(name),
    )
    url = hooks_home.activities_list_url(when="today", kind=["meeting", "visit"], status="")
    assert urlparse(url).path == "/activities/"
    assert parse_qs(urlparse(url).query) == {"when": ["today"], "kind": ["meeting", "visit"]}
    assert parse_qs(
        urlparse(hooks_home.activities_list_url(when="overdue", status="open")).query
    ) == {
        "when": ["overdue"],
        "status": ["open"],
    }


def test_cards_link_to_the_list(client, org, monkeypatch):
    monkeypatch.setattr(
        hooks_home,
        "reverse",
        lambda name, *a, **k: "/activities/" if name == "activities:index" else reverse(name),
    )
    client.force_login(org.rep1)
    response = client.get(HOME)
    assert _card(response, "Due today")["url"] == "/activities/?when=today&status=open"
    assert _card(response, "Overdue")["url"] == "/activities/?when=overdue&status=open"
    assert (
        _card(response, "Meetings and visits today")["url"]
        == "/activities/?when=today&kind=meeting&kind=visit"
    )
    assert _card(response, "Reminders")["url"] == reverse("core:notification_list") + "?unread=1"
    assert 'href="/activities/?when=overdue&amp;status=open"' in response.content.decode()


def test_no_activity_cards_without_the_permission(client, org):
    user = user_with_permissions({"customers.account": ["view"]})
    client.force_login(user)
    titles = [card["title"] for card in client.get(HOME).context["cards"]]
    assert "Due today" not in titles and "Overdue" not in titles


def test_another_modules_card_renders_next_to_these(client, org):
    """The registry is the slot for later modules (payments due, tickets near SLA breach)."""

    def payments_due(request):
        return {
            "title": "Payments due",
            "template": "core/partials/messages.html",
            "context": {"messages": [f"3 payments due for {request.user.username}"]},
            "url": "/sales/payments/?due=today",
            "order": 50,
        }

    register_home_widget(payments_due, order=50)
    try:
        client.force_login(org.rep1)
        response = client.get(HOME)
    finally:
        unregister_home_widget(payments_due)
    html = response.content.decode()
    assert "Payments due" in html and "3 payments due for rep1" in html
    assert 'href="/sales/payments/?due=today"' in html
    titles = [card["title"] for card in response.context["cards"]]
    assert titles.index("Payments due") > titles.index("Reminders")


def _fill(user, count):
    now = timezone.now()
    account = make_account(owner=user, label=f"客户{count}", actor=user)
    for index in range(count):
        _activity(
            user, f"overdue {index}", now - datetime.timedelta(days=index + 1), regarding=account
        )
        _activity(user, f"due {index}", _later_today(), regarding=account)
        _activity(user, f"meeting {index}", _later_today(), kind="meeting", regarding=account)
        notification_send(recipient=user, kind="activity_reminder", text=f"reminder {index}")


def test_home_query_count_does_not_grow_with_rows(client, org, django_assert_max_num_queries):
    client.force_login(org.rep1)
    _fill(org.rep1, 11)  # every card is full: it reads its page and counts
    client.get(HOME)
    with CaptureQueriesContext(connection) as full:
        client.get(HOME)
    _fill(org.rep1, 25)
    with django_assert_max_num_queries(len(full)):
        response = client.get(HOME)
    assert "and 26 more" in _card(response, "Overdue")["html"]
    assert len(full) <= 30
