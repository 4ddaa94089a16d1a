"""`{% activity_actions %}`: the in-place action forms of an activity row, written in Python
(the rows of "my activities" and the customer pages)."""

import datetime
import re

import pytest
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from guanxi.activities import selectors
from guanxi.activities.models import Activity
from guanxi.activities.tests.factories import make_activity

pytestmark = pytest.mark.django_db

TEMPLATE = "{% load activity_tags %}{% activity_actions activity inline=inline %}"


def render(activity, user, **context):
    from django.middleware.csrf import get_token

    request = RequestFactory().get("/activities/")
    request.user = user
    get_token(request)
    row = Activity.objects.prefetch_related("assignees").get(pk=activity.pk)
    selectors.decorate_activities([row], user=user)
    context = {"activity": row, "inline": True, "next_url": "/activities/", **context}
    return engines["django"].from_string(TEMPLATE).render(context, request=request)


def forms(html):
    return re.findall(r'<form [^>]*action="([^"]+)"', html)


def test_open_activity_rows_have_the_open_actions(org):
    activity = make_activity(owner=org.rep1, label="Call back", actor=org.rep1)
    html = render(activity, org.rep1)
    names = ("complete", "reschedule", "reassign", "cancel")
    assert forms(html) == [
        reverse(f"activities:activity_{name}", args=[activity.pk]) for name in names
    ]
    assert html.count(f'hx-target="#activity-{activity.pk}"') == 4
    assert html.count('name="csrfmiddlewaretoken"') == 4
    assert html.count(f'name="version" value="{activity.version}"') == 4
    assert f'id="r{activity.pk}-outcome"' in html and "Mark as done" in html
    assert f'value="{timezone.localtime(activity.start_at):%Y-%m-%dT%H:%M}"' in html
    assert reverse("core:lookup_users") in html


def test_visits_check_in_and_appointments_record_the_outcome(org):
    visit = make_activity(
        owner=org.rep1, label="Visit", actor=org.rep1, kind="visit", location='A & "B" <C>'
    )
    html = render(visit, org.rep1)
    assert reverse("activities:activity_check_in", args=[visit.pk]) in forms(html)
    assert 'value="A &amp; &quot;B&quot; &lt;C&gt;"' in html
    assert reverse("activities:activity_outcome", args=[visit.pk]) not in forms(html)
    appointment = make_activity(
        owner=org.rep1, label="Showroom", actor=org.rep1, is_appointment=True
    )
    html = render(appointment, org.rep1)
    assert reverse("activities:activity_outcome", args=[appointment.pk]) in forms(html)
    assert reverse("activities:activity_check_in", args=[appointment.pk]) not in forms(html)


def test_closed_activities_only_reopen_and_others_rows_show_nothing(org):
    activity = make_activity(owner=org.rep1, label="Done already", actor=org.rep1)
    Activity.objects.filter(pk=activity.pk).update(status="done")
    assert forms(render(activity, org.rep1)) == [
        reverse("activities:activity_reopen", args=[activity.pk])
    ]
    north = make_activity(owner=org.rep3, label="North", actor=org.rep3)
    assert render(north, org.admin).count("<form") == 4  # the administrator may change it
    assert "<form" not in render(north, org.manager)  # not the east manager's


def test_plain_posts_with_the_detail_prefix_and_an_escaped_next(org):
    activity = make_activity(
        owner=org.rep1,
        label="Plain",
        actor=org.rep1,
        start_at=timezone.now() + datetime.timedelta(days=2),
    )
    html = render(activity, org.rep1, inline=False, row_prefix="d", next_url="/a/?x=1&y=<2>")
    assert "hx-post" not in html
    assert f'id="d{activity.pk}-outcome"' in html
    assert 'name="next" value="/a/?x=1&amp;y=&lt;2&gt;"' in html


def test_texts_follow_the_active_language(org):
    activity = make_activity(owner=org.rep1, label="Call", actor=org.rep1)
    with translation.override("zh-hans"):
        chinese = render(activity, org.rep1)
    english = render(activity, org.rep1)
    assert "Mark as done" in english and "Mark as done" not in chinese
    assert translation.gettext("Mark as done") == "Mark as done"
