"""Merge, the duplicate check and duplicate scans over the API."""

import pytest

from guanxi.core.api.testing import api_client
from guanxi.customers import services
from guanxi.customers.models import Account, AccountContact, Contact, DuplicateScan

pytestmark = pytest.mark.django_db


@pytest.fixture
def en(org):
    for user in org.users().values():
        user.language = "en"
        user.save(update_fields=["language"])
    return org


def account(owner, name, **data):
    return services.account_create(actor=owner, data={"name": name, **data})


# --- merge -----------------------------------------------------------------------------------
def test_account_merge_returns_the_survivor(en):
    survivor = account(en.rep1, "华为技术有限公司")
    merged = account(en.rep1, "北京华为技术有限公司", website="https://hw.example")
    contact = services.contact_create(actor=en.rep1, data={"name": "甲"}, account=merged)
    response = api_client(en.rep1).post(
        "/api/v1/accounts/merge/",
        {"survivor": survivor.pk, "merged": [merged.pk], "choices": {"website": merged.pk}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == survivor.pk and body["website"] == "https://hw.example"
    assert AccountContact.objects.get(contact=contact).account_id == survivor.pk
    assert Account.all_objects.get(pk=merged.pk).is_deleted


def test_account_merge_of_a_record_not_editable_answers_404(en):
    survivor = account(en.rep1, "华为技术有限公司")
    foreign = account(en.rep3, "北京华为技术有限公司")
    response = api_client(en.rep1).post(
        "/api/v1/accounts/merge/",
        {"survivor": survivor.pk, "merged": [foreign.pk]},
        format="json",
    )
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "errors"}
    assert not Account.all_objects.get(pk=foreign.pk).is_deleted


def test_account_merge_validates_its_body(en):
    survivor = account(en.rep1, "甲")
    client = api_client(en.rep1)
    response = client.post("/api/v1/accounts/merge/", {"survivor": survivor.pk}, format="json")
    assert response.status_code == 400 and "merged" in response.json()["errors"]
    response = client.post(
        "/api/v1/accounts/merge/",
        {"survivor": survivor.pk, "merged": [survivor.pk]},
        format="json",
    )
    assert response.status_code == 400
    other = account(en.rep1, "乙")
    response = client.post(
        "/api/v1/accounts/merge/",
        {"survivor": survivor.pk, "merged": [other.pk], "choices": {"points": other.pk}},
        format="json",
    )
    assert response.status_code == 400 and "points" in response.json()["errors"]


def test_account_merge_needs_the_change_role(en):
    a, b = account(en.rep1, "甲"), account(en.rep1, "乙")
    response = api_client(en.read_only).post(
        "/api/v1/accounts/merge/", {"survivor": a.pk, "merged": [b.pk]}, format="json"
    )
    assert response.status_code in (403, 404)
    assert not Account.all_objects.get(pk=b.pk).is_deleted


def test_contact_merge(en):
    first = services.contact_create(
        actor=en.rep1, data={"name": "张伟"}, phones=[{"number": "13800000001"}]
    )
    second = services.contact_create(
        actor=en.rep1, data={"name": "张伟", "title": "经理"}, phones=[{"number": "13800000002"}]
    )
    response = api_client(en.rep1).post(
        "/api/v1/contacts/merge/",
        {"survivor": first.pk, "merged": [second.pk], "choices": {"title": second.pk}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == first.pk and body["title"] == "经理"
    assert len(body["phones"]) == 2
    assert Contact.all_objects.get(pk=second.pk).is_deleted


# --- the check -------------------------------------------------------------------------------
def test_check_shows_visible_hits_in_full_and_invisible_ones_by_owner(en):
    visible = account(en.rep1, "北京明达贸易有限公司")
    account(en.rep3, "明达贸易（上海）有限公司")
    response = api_client(en.rep1).get(
        "/api/v1/duplicates/check/", {"name": "明达贸易", "kind": "company"}
    )
    assert response.status_code == 200
    hits = response.json()
    full = [hit for hit in hits if "id" in hit]
    hidden = [hit for hit in hits if "id" not in hit]
    assert [hit["id"] for hit in full] == [visible.pk]
    assert full[0]["name"] == "北京明达贸易有限公司" and full[0]["url"]
    assert full[0]["model"] == "customers.account" and full[0]["score"] >= 85
    assert len(hidden) == 1
    assert hidden[0] == {
        "model": "customers.account",
        "exists": True,
        "owner": str(en.rep3),
        "reasons": hidden[0]["reasons"],
    }
    assert hidden[0]["reasons"]


def test_check_by_phone_and_e_mail(en):
    account(en.rep1, "甲公司", phone="13812345678")
    contact = services.contact_create(
        actor=en.rep1, data={"name": "李四"}, emails=[{"address": "li@x.cn"}]
    )
    client = api_client(en.rep1)
    hits = client.get("/api/v1/duplicates/check/", {"phone": "138 1234 5678"}).json()
    assert [hit["name"] for hit in hits] == ["甲公司"]
    assert hits[0]["reasons"] == ["Same phone number"]
    hits = client.get(
        "/api/v1/duplicates/check/", {"name": "王五", "email": "LI@x.cn", "kind": "person"}
    ).json()
    assert [(hit["model"], hit["id"]) for hit in hits] == [("customers.contact", contact.pk)]
    assert client.get("/api/v1/duplicates/check/").json() == []


def test_check_needs_authentication(en):
    assert api_client().get("/api/v1/duplicates/check/", {"name": "甲"}).status_code == 401


# --- scans -----------------------------------------------------------------------------------
def test_scan_start_and_read_its_pairs(en, django_capture_on_commit_callbacks):
    a = account(en.rep1, "北京华为技术有限公司")
    b = account(en.rep3, "华为技术有限公司")
    account(en.rep1, "完全无关公司")
    client = api_client(en.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/duplicate-scans/", {"model": "customers.account"}, format="json"
        )
    assert response.status_code == 201, response.json()
    scan_id = response.json()["id"]
    assert response.json()["model"] == "customers.account"
    body = client.get(f"/api/v1/duplicate-scans/{scan_id}/").json()
    assert body["status"] == "done" and body["pairs_found"] == 1
    [pair] = body["pairs"]
    assert {pair["first"], pair["second"]} == {a.pk, b.pk}
    assert {pair["first_name"], pair["second_name"]} == {a.name, b.name}
    assert pair["score"] >= 85 and pair["reasons"]
    listed = client.get("/api/v1/duplicate-scans/").json()["results"]
    assert [item["id"] for item in listed] == [scan_id]


def test_scans_are_for_administrators_only(en):
    client = api_client(en.rep1)
    response = client.post("/api/v1/duplicate-scans/", {"model": "customers.account"})
    assert response.status_code == 403
    assert client.get("/api/v1/duplicate-scans/").status_code == 403
    assert not DuplicateScan.objects.exists()


def test_scan_refuses_an_unknown_model(en):
    response = api_client(en.admin).post(
        "/api/v1/duplicate-scans/", {"model": "core.user"}, format="json"
    )
    assert response.status_code == 400 and "model" in response.json()["errors"]


def test_schema_lists_the_routes(en):
    paths = api_client(en.rep1).get("/api/v1/schema/?format=json").json()["paths"]
    for path in (
        "/api/v1/accounts/merge/",
        "/api/v1/contacts/merge/",
        "/api/v1/duplicates/check/",
        "/api/v1/duplicate-scans/",
        "/api/v1/duplicate-scans/{id}/",
    ):
        assert path in paths, path
