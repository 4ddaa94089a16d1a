"""/api/v1/leads/: CRUD through the lead services, scope, filters, bounded queries, and the
registry other areas use to add actions."""

import pytest
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.test import APIClient

from guanxi.core.models import PicklistOption
from guanxi.leads.api import leads as lead_api
from guanxi.leads.models import Lead
from guanxi.leads.tests.factories import make_lead

pytestmark = pytest.mark.django_db

URL = "/api/v1/leads/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_create_normalises_and_runs_through_the_service(org):
    source = PicklistOption.objects.get(picklist__code="lead_source", value="trade_show")
    response = api(org.rep1).post(
        URL,
        {
            "name": "赵敏",
            "company": "明教",
            "phone": "+86 138 0013 8000",
            "email": "zhao@EXAMPLE.com",
            "source": source.pk,
            "tags": ["展会"],
            "score": 99,  # read-only: scoring decides
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert lead.owner == org.rep1 and lead.phone_digits == "13800138000"
    assert lead.email == "zhao@example.com" and lead.score == 0
    assert body["source_label"] == source.label and body["tags"] == ["展会"]


def test_bad_values_answer_400_by_field(org):
    response = api(org.rep1).post(URL, {"name": "x", "phone": "12"}, format="json")
    assert response.status_code == 400 and "phone" in response.json()["errors"]
    response = api(org.rep1).post(URL, {"name": "x", "status": "converted"}, format="json")
    assert response.status_code == 400 and "status" in response.json()["errors"]


def test_update_needs_the_version_and_refuses_a_stale_one(org):
    lead = make_lead(owner=org.rep1, label="版本", actor=org.rep1)
    client = api(org.rep1)
    response = client.patch(f"{URL}{lead.pk}/", {"company": "A"}, format="json")
    assert response.status_code == 400
    response = client.patch(
        f"{URL}{lead.pk}/", {"company": "A", "version": lead.version}, format="json"
    )
    assert response.status_code == 200 and response.json()["company"] == "A"
    response = client.patch(
        f"{URL}{lead.pk}/", {"company": "B", "version": lead.version}, format="json"
    )
    assert response.status_code == 409


def test_scope_filters_and_delete(org):
    mine = make_lead(owner=org.rep1, label="甲", actor=org.rep1, rating="hot")
    make_lead(owner=org.rep1, label="乙", actor=org.rep1)
    other = make_lead(owner=org.rep3, label="丙", actor=org.rep3)
    Lead.objects.filter(pk=mine.pk).update(score=70)
    client = api(org.rep1)
    ids = {row["id"] for row in client.get(URL).json()["results"]}
    assert other.pk not in ids and mine.pk in ids and len(ids) == 2
    assert client.get(f"{URL}{other.pk}/").status_code == 404
    assert [r["id"] for r in client.get(URL, {"rating": "hot"}).json()["results"]] == [mine.pk]
    assert [r["id"] for r in client.get(URL, {"score_min": 50}).json()["results"]] == [mine.pk]
    ordered = [r["name"] for r in client.get(URL, {"ordering": "-score"}).json()["results"]]
    assert ordered[0] == "甲"
    assert client.delete(f"{URL}{other.pk}/").status_code == 404
    assert client.delete(f"{URL}{mine.pk}/").status_code == 204
    assert not Lead.objects.filter(pk=mine.pk).exists()


def test_assign_and_timeline(org):
    lead = make_lead(owner=org.rep1, label="交接", actor=org.rep1)
    client = api(org.manager)
    response = client.post(
        f"{URL}{lead.pk}/assign/", {"owner": org.rep2.pk, "reason": "调整"}, format="json"
    )
    assert response.status_code == 200 and response.json()["owner"] == org.rep2.pk
    assert response.json()["assigned_at"]
    assert client.get(f"{URL}{lead.pk}/history/").status_code == 200


def test_list_queries_are_bounded(org, django_assert_max_num_queries):
    for number in range(30):
        make_lead(owner=org.rep1, label=f"线索{number}", actor=org.rep1)
    client = api(org.manager)
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"page_size": 30})
    assert len(response.json()["results"]) == 30


def test_other_areas_register_actions(org):
    @action(detail=True, methods=["post"])
    def probe(self, request, pk=None):
        lead = self.get_record("change")
        return Response({"probed": lead.pk})

    lead_api.register_lead_action(probe)
    try:
        assert "probe" in {a.url_path for a in lead_api.LeadViewSet.get_extra_actions()}
    finally:
        delattr(lead_api.LeadViewSet, "probe")
    with pytest.raises(TypeError):
        lead_api.register_lead_action(lambda self, request: None)
