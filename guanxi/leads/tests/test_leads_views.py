"""The lead pages: list (scope, filters, sorting, bounded queries), detail (follow-ups,
activities, quick follow-up form, sections other areas register), create with duplicate
warnings, edit, assign."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.activities.models import FollowUp
from guanxi.core.models import ChangeRecord
from guanxi.leads.models import Lead
from guanxi.leads.tests.factories import make_lead
from guanxi.leads.views import leads as lead_views

pytestmark = pytest.mark.django_db

LIST = "/leads/"


def test_list_shows_the_scope_filters_and_sorts(client, org, django_assert_max_num_queries):
    hot = make_lead(owner=org.rep1, label="热线索", actor=org.rep1, rating="hot", province="上海市")
    cold = make_lead(owner=org.rep1, label="冷线索", actor=org.rep1, rating="cold")
    make_lead(owner=org.rep3, label="北方线索", actor=org.rep3)
    Lead.objects.filter(pk=hot.pk).update(score=90)
    Lead.objects.filter(pk=cold.pk).update(score=10, status="contacting")
    for number in range(20):
        make_lead(owner=org.rep1, label=f"批量{number}", actor=org.rep1)
    client.force_login(org.rep1)
    with django_assert_max_num_queries(25):
        html = client.get(LIST, {"per_page": 100}).content.decode()
    assert "热线索" in html and "冷线索" in html and "北方线索" not in html

    html = client.get(LIST, {"rating": "hot"}).content.decode()
    assert "热线索" in html and "冷线索" not in html
    html = client.get(LIST, {"status": "contacting"}).content.decode()
    assert "冷线索" in html and "热线索" not in html
    html = client.get(LIST, {"score_min": 50, "score_max": 100}).content.decode()
    assert "热线索" in html and "冷线索" not in html
    html = client.get(LIST, {"province": "上海市"}).content.decode()
    assert "热线索" in html and "冷线索" not in html
    html = client.get(LIST, {"sort": "-score", "per_page": 100}).content.decode()
    assert html.index("热线索") < html.index("冷线索")
    html = client.get(LIST, {"sort": "score", "per_page": 100}).content.decode()
    assert html.index("冷线索") < html.index("热线索")
    html = client.get(LIST, {"q": "热线"}).content.decode()
    assert "热线索" in html and "冷线索" not in html


def test_list_page_queries_do_not_grow_with_rows(client, org, django_assert_max_num_queries):
    for number in range(60):
        make_lead(owner=org.rep1, label=f"线索{number}", actor=org.rep1, phone="13800138000")
    client.force_login(org.manager)
    with django_assert_max_num_queries(25):
        response = client.get(LIST, {"per_page": 50, "col": ["name", "owner", "source", "phone"]})
    assert response.status_code == 200


def test_detail_shows_follow_ups_and_takes_a_quick_follow_up(client, org):
    lead = make_lead(owner=org.rep1, label="李雷", actor=org.rep1, company="韩梅梅科技")
    client.force_login(org.rep1)
    html = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert 'id="quick-follow-up"' in html and "韩梅梅科技" in html
    next_time = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("leads:lead_follow_up", args=[lead.pk]),
        {"channel": "wechat", "content": "约了下周演示", "next_follow_up_at": next_time},
    )
    assert response.status_code == 302
    follow_up = FollowUp.objects.get()
    assert follow_up.regarding == lead and follow_up.owner == org.rep1
    lead.refresh_from_db()
    assert lead.next_follow_up_at is not None
    html = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "约了下周演示" in html
    planned = html[
        html.index('id="lead-open-activities"') : html.index('id="lead-activity-history"')
    ]
    assert "Follow up with" in planned  # the next follow-up's task


def test_a_lead_outside_the_scope_answers_404_everywhere(client, org):
    lead = make_lead(owner=org.rep3, label="北方", actor=org.rep3)
    client.force_login(org.rep1)
    assert client.get(reverse("leads:lead_detail", args=[lead.pk])).status_code == 404
    assert client.get(reverse("leads:lead_edit", args=[lead.pk])).status_code == 404
    response = client.post(
        reverse("leads:lead_follow_up", args=[lead.pk]), {"channel": "wechat", "content": "x"}
    )
    assert response.status_code == 404
    assert not FollowUp.objects.exists()


def test_create_warns_about_duplicates_then_saves_when_confirmed(client, org):
    make_lead(owner=org.rep3, label="张伟", actor=org.rep3, phone="13800138000")
    client.force_login(org.rep1)
    data = {"name": "张伟", "phone": "138-0013-8000", "status": "new"}
    response = client.post(reverse("leads:lead_create"), data)
    html = response.content.decode()
    assert response.status_code == 200 and "A duplicate exists, owned by" in html
    assert Lead.objects.count() == 1
    response = client.post(reverse("leads:lead_create"), {**data, "confirm_warnings": "1"})
    assert response.status_code == 302
    lead = Lead.objects.get(owner=org.rep1)
    assert lead.phone_digits == "13800138000" and lead.created_by == org.rep1


def test_edit_keeps_history_and_refuses_converted(client, org):
    lead = make_lead(owner=org.rep1, label="韩梅梅", actor=org.rep1)
    client.force_login(org.rep1)
    response = client.post(
        reverse("leads:lead_edit", args=[lead.pk]),
        {"name": "韩梅梅", "status": "contacting", "company": "新公司", "version": lead.version},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.company) == ("contacting", "新公司")
    assert ChangeRecord.objects.filter(object_id=lead.pk, action="update").exists()
    html = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "新公司" in html
    form_html = client.get(reverse("leads:lead_edit", args=[lead.pk])).content.decode()
    assert 'value="converted"' not in form_html


def test_assign_moves_the_lead_and_stamps_assigned_at(client, org):
    lead = make_lead(owner=org.rep1, label="转交", actor=org.rep1)
    client.force_login(org.manager)
    response = client.post(
        reverse("leads:lead_assign", args=[lead.pk]),
        {"owner": org.rep2.pk, "reason": "休假", "version": lead.version},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == org.rep2 and lead.assigned_at is not None


def test_other_areas_add_sections_and_actions(client, org, monkeypatch):
    monkeypatch.setattr(lead_views, "_sections", {})
    monkeypatch.setattr(lead_views, "_actions", {})
    lead_views.register_lead_section(
        lead_views.LeadSection(
            key="probe",
            title="Probe section",
            template="leads/capture/thanks.html",
            context=lambda *, lead, user: {"n": lead.pk},
        )
    )
    lead_views.register_lead_section(
        lead_views.LeadSection(
            key="hidden", title="Hidden section", template="x.html", context=lambda **kw: None
        )
    )
    lead_views.register_lead_action(
        lead_views.LeadAction(key="probe", label="Probe action", url=lambda lead: "/x/")
    )
    lead = make_lead(owner=org.rep1, label="区块", actor=org.rep1)
    client.force_login(org.rep1)
    html = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "Probe section" in html and "Hidden section" not in html
    assert 'id="lead-action-probe"' in html
