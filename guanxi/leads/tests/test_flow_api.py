"""The flow over the API: engagement events, accept / reject, score history, convert."""

import pytest

from guanxi.core.api.testing import api_client
from guanxi.customers.services import account_create
from guanxi.leads.models import (
    Lead,
    LeadScoreEntry,
    LeadStage,
    LeadStatus,
    ScoringRule,
    ScoringSettings,
)
from guanxi.leads.tests.factories import make_lead

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/leads/events/"


@pytest.fixture
def rules(db):
    ScoringRule.objects.create(name="Clicked", kind="engagement", event="link_clicked", points=15)
    settings = ScoringSettings.current()
    settings.mql_threshold, settings.sql_threshold = 10, 100
    settings.save()


def test_event_by_id_and_by_email(org, rules):
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin, email="Buyer@Example.cn")
    client = api_client(org.rep1)
    response = client.post(EVENTS, {"lead": lead.pk, "event": "link_clicked"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["score"] == 15 and body["stage"] == "mql"
    assert body["entries"][0]["points"] == 15 and "Clicked" in body["entries"][0]["reason"]
    response = client.post(
        EVENTS,
        {
            "email": "buyer@example.cn",
            "event": "link_clicked",
            "occurred_at": "2026-01-05T10:00:00+08:00",
        },
        format="json",
    )
    assert response.status_code == 201
    assert Lead.objects.get(pk=lead.pk).score == 30
    entry = LeadScoreEntry.objects.filter(lead=lead).order_by("occurred_at").first()
    assert entry.occurred_at.isoformat().startswith("2026-01-05T02:00:00")


def test_event_scope_role_and_validation(org, rules):
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin, email="a@b.cn")
    assert (
        api_client(org.rep3)
        .post(EVENTS, {"lead": lead.pk, "event": "link_clicked"}, format="json")
        .status_code
        == 404
    )
    assert (
        api_client(org.rep3)
        .post(EVENTS, {"email": "a@b.cn", "event": "link_clicked"}, format="json")
        .status_code
        == 404
    )
    assert (
        api_client(org.read_only)
        .post(EVENTS, {"lead": lead.pk, "event": "link_clicked"}, format="json")
        .status_code
        == 403
    )
    response = api_client(org.rep1).post(EVENTS, {"event": "link_clicked"}, format="json")
    assert response.status_code == 400
    response = api_client(org.rep1).post(EVENTS, {"lead": lead.pk, "event": "nope"}, format="json")
    assert response.status_code == 400 and "event" in response.json()["errors"]
    assert api_client().post(
        EVENTS, {"lead": lead.pk, "event": "link_clicked"}, format="json"
    ).status_code in (401, 403)
    assert Lead.objects.get(pk=lead.pk).score == 0


def test_accept_reject_and_score_history(org, rules):
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    client = api_client(org.rep1)
    client.post(EVENTS, {"lead": lead.pk, "event": "link_clicked"}, format="json")
    response = client.post(f"/api/v1/leads/{lead.pk}/accept/")
    assert response.status_code == 200 and response.json()["stage"] == LeadStage.ACCEPTED
    assert client.post(f"/api/v1/leads/{lead.pk}/accept/").status_code == 400
    assert client.post(f"/api/v1/leads/{lead.pk}/reject/", {}, format="json").status_code == 400
    response = client.post(
        f"/api/v1/leads/{lead.pk}/reject/", {"reason": "No budget"}, format="json"
    )
    assert response.status_code == 200 and response.json()["stage"] == LeadStage.NURTURING
    history = client.get(f"/api/v1/leads/{lead.pk}/score-history/").json()
    assert [item["kind"] for item in history] == ["rejection", "engagement"]
    assert api_client(org.rep3).post(f"/api/v1/leads/{lead.pk}/accept/").status_code == 404
    assert api_client(org.read_only).post(f"/api/v1/leads/{lead.pk}/accept/").status_code == 403


def test_convert(org, django_assert_max_num_queries):
    lead = make_lead(
        owner=org.rep1, label="张伟", actor=org.admin, company="云帆科技", email="zw@yf.cn"
    )
    existing = account_create(actor=org.rep1, data={"name": "云帆科技"})
    client = api_client(org.rep1)
    url = f"/api/v1/leads/{lead.pk}/convert/"
    assert api_client(org.rep3).post(url, {}, format="json").status_code == 404
    # A fixed cost (savepoints of the nested services, audit, search index), not per row.
    with django_assert_max_num_queries(100):
        response = client.post(
            url, {"account": existing.pk, "contact_data": {"name": "张伟先生"}}, format="json"
        )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["account"] == existing.pk and body["account_created"] is False
    assert body["contact_created"] is True and body["opportunity"] is None
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.status == LeadStatus.CONVERTED and lead.converted_contact.name == "张伟先生"
    response = client.post(url, {}, format="json")
    assert response.status_code == 400 and "already converted" in response.json()["detail"] + str(
        response.json()
    )


def test_convert_refuses_an_account_the_caller_cannot_see(org):
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    hidden = account_create(actor=org.rep3, data={"name": "北方"})
    response = api_client(org.rep1).post(
        f"/api/v1/leads/{lead.pk}/convert/", {"account": hidden.pk}, format="json"
    )
    assert response.status_code == 400
    assert Lead.objects.get(pk=lead.pk).status != LeadStatus.CONVERTED


def test_event_endpoint_query_count(org, rules, django_assert_max_num_queries):
    lead = make_lead(owner=org.rep1, label="x", actor=org.admin)
    client = api_client(org.rep1)
    client.post(EVENTS, {"lead": lead.pk, "event": "link_clicked"}, format="json")
    with django_assert_max_num_queries(20):
        assert (
            client.post(
                EVENTS, {"lead": lead.pk, "event": "link_clicked"}, format="json"
            ).status_code
            == 201
        )
    with django_assert_max_num_queries(12):
        assert client.get(f"/api/v1/leads/{lead.pk}/score-history/").status_code == 200


def test_conversion_candidates_are_offered_then_used(org):
    from guanxi.customers.services import contact_create

    account = account_create(actor=org.rep1, data={"name": "杭州云帆科技有限公司"})
    contact = contact_create(
        actor=org.rep1, data={"name": "张伟"}, phones=[{"number": "13812345678"}]
    )
    lead = make_lead(
        owner=org.rep1,
        label="张伟",
        actor=org.admin,
        company="杭州云帆科技有限公司",
        phone="13812345678",
    )
    client = api_client(org.rep1)
    url = f"/api/v1/leads/{lead.pk}/conversion-candidates/"
    response = client.get(url)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [row["id"] for row in body["accounts"]] == [account.pk]
    assert [row["id"] for row in body["contacts"]] == [contact.pk]
    assert body["accounts"][0]["name"] == "杭州云帆科技有限公司" and body["accounts"][0]["reasons"]
    # rep3 may not see the lead: 404.
    assert api_client(org.rep3).get(url).status_code == 404
    response = client.post(
        f"/api/v1/leads/{lead.pk}/convert/",
        {"account": account.pk, "contact": contact.pk},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["account_created"] is False
    assert Lead.objects.get(pk=lead.pk).converted_account_id == account.pk
