"""The flow pages: assignment and scoring administration, accept / reject / convert from
the lead page, the funnel report, the account's "converted from lead", and query counts."""

import pytest
from django.urls import reverse

from guanxi.core.models import Notification
from guanxi.customers.models import Account
from guanxi.leads.models import (
    AssignmentRule,
    Lead,
    LeadCapacity,
    LeadStage,
    ScoringRule,
    ScoringSettings,
)
from guanxi.leads.services import assignment
from guanxi.leads.tests.factories import make_lead

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "name",
    [
        "leads:assignment_rules",
        "leads:assignment_rule_create",
        "leads:scoring_rules",
        "leads:scoring_rule_create",
    ],
)
def test_administration_pages_are_for_administrators(client, org, name):
    assert signed_in(client, org.rep1).get(reverse(name)).status_code == 403
    assert signed_in(client, org.admin).get(reverse(name)).status_code == 200


def test_create_move_and_delete_assignment_rules(client, org):
    signed_in(client, org.admin)
    for name, user in (("first", org.rep1), ("second", org.rep2)):
        response = client.post(
            reverse("leads:assignment_rule_create"),
            {
                "name": name,
                "is_active": "on",
                "action": "user",
                "user": user.pk,
                "provinces": "上海, 江苏",
                "min_score": "5",
            },
        )
        assert response.status_code == 302, response.content
    second = AssignmentRule.objects.get(name="second")
    assert (
        second.conditions["provinces"] == ["上海", "江苏"] and second.conditions["min_score"] == 5
    )
    client.post(reverse("leads:assignment_rule_move", args=[second.pk]), {"direction": "up"})
    assert list(AssignmentRule.objects.order_by("sort_order").values_list("name", flat=True)) == [
        "second",
        "first",
    ]
    page = client.get(reverse("leads:assignment_rules")).content.decode()
    assert page.index("second") < page.index("first")
    # A round-robin rule without members is refused with the message on the form.
    response = client.post(
        reverse("leads:assignment_rule_create"), {"name": "rr", "action": "round_robin"}
    )
    assert response.status_code == 200 and "at least one member" in response.content.decode()
    client.post(reverse("leads:assignment_rule_delete", args=[second.pk]))
    assert not AssignmentRule.objects.filter(pk=second.pk).exists()


def test_set_capacity(client, org):
    signed_in(client, org.admin)
    client.post(reverse("leads:lead_capacity_save"), {"user": org.rep1.pk, "max_open_leads": "3"})
    assert LeadCapacity.objects.get(user=org.rep1).max_open_leads == 3
    assert "rep1" in client.get(reverse("leads:assignment_rules")).content.decode()


def test_scoring_rules_and_thresholds(client, org):
    signed_in(client, org.admin)
    response = client.post(
        reverse("leads:scoring_rule_create"),
        {
            "name": "Opened",
            "kind": "engagement",
            "event": "email_opened",
            "points": "3",
            "half_life_days": "30",
            "is_active": "on",
            "sort_order": "0",
        },
    )
    assert response.status_code == 302
    rule = ScoringRule.objects.get(name="Opened")
    assert rule.half_life_days == 30
    response = client.post(
        reverse("leads:scoring_rules"),
        {"mql_threshold": "30", "sql_threshold": "60", "rejection_penalty": "5"},
    )
    assert response.status_code == 302
    assert ScoringSettings.current().sql_threshold == 60
    response = client.post(
        reverse("leads:scoring_rules"),
        {"mql_threshold": "70", "sql_threshold": "60", "rejection_penalty": "5"},
    )
    assert "cannot be below" in response.content.decode()
    assert "Opened" in client.get(reverse("leads:scoring_rules")).content.decode()


def test_lead_page_shows_flow_buttons_and_score_history(client, org):
    ScoringRule.objects.create(
        name="Shanghai",
        kind="profile",
        condition={"field": "province", "op": "eq", "value": "上海"},
        points=12,
    )
    from guanxi.leads.services.scoring import lead_score_profile

    lead = make_lead(owner=org.rep1, label="王芳", actor=org.admin, province="上海")
    lead_score_profile(lead)
    page = (
        signed_in(client, org.rep1)
        .get(reverse("leads:lead_detail", args=[lead.pk]))
        .content.decode()
    )
    assert 'id="lead-action-convert"' in page and 'id="lead-action-accept"' in page
    assert 'id="score-history"' in page and "Shanghai (+12)" in page
    readonly_page = (
        signed_in(client, org.read_only)
        .get(reverse("leads:lead_detail", args=[lead.pk]))
        .content.decode()
    )
    assert 'id="lead-action-convert"' not in readonly_page


def test_accept_and_reject_from_the_page(client, org):
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    signed_in(client, org.manager)
    client.post(reverse("leads:lead_accept", args=[lead.pk]))
    assert Lead.objects.get(pk=lead.pk).stage == LeadStage.ACCEPTED
    assert Notification.objects.filter(recipient=org.rep1, kind="lead_accepted").exists()
    assert client.get(reverse("leads:lead_reject", args=[lead.pk])).status_code == 200
    client.post(reverse("leads:lead_reject", args=[lead.pk]), {"reason": "Wrong region"})
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.stage == LeadStage.NURTURING and lead.rejected_reason == "Wrong region"
    # Someone who may not see the lead gets 404; a read-only role 403.
    assert (
        signed_in(client, org.rep3).post(reverse("leads:lead_accept", args=[lead.pk])).status_code
        == 404
    )
    assert (
        signed_in(client, org.read_only)
        .post(reverse("leads:lead_accept", args=[lead.pk]))
        .status_code
        == 403
    )


def test_convert_page_offers_candidates_and_converts(client, org, monkeypatch):
    from guanxi.customers.services import account_create
    from guanxi.leads.services import conversion

    # Without an opportunity factory (the sales app registers one) there is no such choice.
    monkeypatch.setattr(conversion, "_opportunity_factory", [])

    existing = account_create(actor=org.rep1, data={"name": "杭州云帆科技有限公司"})
    lead = make_lead(owner=org.rep1, label="张伟", actor=org.admin, company="杭州云帆科技有限公司")
    signed_in(client, org.rep1)
    url = reverse("leads:lead_convert", args=[lead.pk])
    page = client.get(url).content.decode()
    assert f'value="{existing.pk}"' in page and 'id="account-new"' in page
    assert 'id="create-opportunity"' not in page  # no opportunity factory yet
    response = client.post(url, {"account_choice": "999999", "contact_choice": "new"})
    assert "Choose one of the records offered" in response.content.decode()
    response = client.post(
        url, {"account_choice": str(existing.pk), "contact_choice": "new", "contact_name": "张伟"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:account_detail", args=[existing.pk])
    assert Lead.objects.get(pk=lead.pk).converted_account == existing
    assert Account.objects.count() == 1
    # The account page says where it came from; the convert page now sends back.
    account_page = client.get(response["Location"]).content.decode()
    assert "张伟" in account_page  # the new contact
    section = reverse("customers:account_section", args=[existing.pk, "converted-from-lead"])
    assert f'hx-get="{section}"' in account_page
    assert 'id="account-converted-leads"' in client.get(section).content.decode()
    assert client.get(url).status_code == 302
    assert signed_in(client, org.rep3).get(url).status_code == 404


def test_funnel_page(client, org, django_assert_max_num_queries):
    for n in range(5):
        make_lead(owner=org.rep1, label=f"l{n}", actor=org.admin)
    signed_in(client, org.rep1)
    client.get(reverse("leads:funnel"))  # warm the session and the per-process caches
    with django_assert_max_num_queries(14):
        response = client.get(reverse("leads:funnel"), {"start": "2000-01-01"})
    page = response.content.decode()
    assert 'id="funnel-steps"' in page and "echarts" in page
    assert "?status=new" in page


def test_administration_pages_query_counts(client, org, django_assert_max_num_queries):
    group = [org.rep1, org.rep2, org.rep3]
    for n in range(5):
        assignment.assignment_rule_save(
            actor=org.admin,
            data={"name": f"r{n}", "action": "round_robin", "conditions": {}},
            members=group,
        )
        LeadCapacity.objects.update_or_create(user=group[n % 3], defaults={"max_open_leads": 5})
        ScoringRule.objects.create(name=f"s{n}", kind="engagement", event="replied", points=n)
    signed_in(client, org.admin)
    client.get(reverse("leads:assignment_rules"))
    with django_assert_max_num_queries(14):
        assert client.get(reverse("leads:assignment_rules")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("leads:scoring_rules")).status_code == 200
