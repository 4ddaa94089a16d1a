"""The owned-record API (OwnedRecordViewSet), exercised through /api/v1/accounts/."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from guanxi.core.api.testing import api_client
from guanxi.core.models import ChangeRecord, CustomField, PicklistOption, RecordShare, Tag
from guanxi.core.services.configuration import custom_field_create
from guanxi.core.services.records import record_create
from guanxi.customers.models import Account

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/"


def account(user, name="Acme", **data):
    return record_create(model=Account, data={"name": name, **data}, actor=user)


def detail(record):
    return f"{URL}{record.pk}/"


# --- create / read ----------------------------------------------------------------------


def test_create_goes_through_the_service(org):
    industry = PicklistOption.objects.get(picklist__code="industry", value="it")
    response = api_client(org.rep1).post(
        URL,
        {"name": "华为", "kind": "company", "industry": industry.pk, "tags": ["vip", "华东"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "华为"
    assert body["owner"] == org.rep1.pk
    assert body["department"] == org.east.pk
    assert body["version"] == 1
    assert body["industry"] == industry.pk
    assert body["industry_label"]
    assert sorted(body["tags"]) == ["vip", "华东"]
    assert body["created_at"].endswith("+08:00")  # ISO 8601 with the offset
    record = Account.objects.get(pk=body["id"])
    assert record.created_by == org.rep1
    # The service wrote the audit row.
    assert ChangeRecord.objects.filter(object_id=record.pk, action="create").exists()
    assert Tag.objects.filter(name="vip").exists()


def test_owner_and_department_cannot_be_set_on_create(org):
    response = api_client(org.rep1).post(
        URL, {"name": "Sneaky", "owner": org.rep3.pk, "department": org.north.pk}, format="json"
    )
    assert response.status_code == 201
    record = Account.objects.get(pk=response.json()["id"])
    assert record.owner == org.rep1
    assert record.department == org.east


def test_validation_errors_are_field_errors(org):
    response = api_client(org.rep1).post(URL, {"kind": "planet"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert set(body["errors"]) == {"name", "kind"}
    assert not Account.objects.exists()


def test_list_shows_only_the_callers_scope(org):
    account(org.rep1, "mine")
    account(org.rep2, "colleague")
    account(org.rep3, "north")
    names = [row["name"] for row in api_client(org.rep1).get(URL).json()["results"]]
    assert names == ["mine"]
    manager_names = {row["name"] for row in api_client(org.manager).get(URL).json()["results"]}
    assert manager_names == {"mine", "colleague"}


def test_no_role_sees_a_record_outside_its_scope(org):
    records = [account(user, f"{name} co") for name, user in org.users().items()]
    for name, user in org.users().items():
        client = api_client(user)
        expected = set(Account.objects.visible_to(user).values_list("pk", flat=True))
        listed = {row["id"] for row in client.get(URL + "?page_size=500").json()["results"]}
        assert listed == expected, name
        for record in records:
            status = client.get(detail(record)).status_code
            assert status == (200 if record.pk in expected else 404), (name, record.name)


def test_record_of_another_rep_is_404_not_403(org):
    other = account(org.rep3, "north")
    client = api_client(org.rep1)
    for method in ("get", "put", "patch", "delete"):
        response = getattr(client, method)(detail(other), {"version": 1}, format="json")
        assert response.status_code == 404, method
        assert response.json() == {"detail": response.json()["detail"], "errors": {}}
    for action in ("history", "timeline", "attachments"):
        assert client.get(f"{detail(other)}{action}/").status_code == 404
    assert client.post(f"{detail(other)}share/", {"user": org.rep1.pk}).status_code == 404
    other.refresh_from_db()
    assert other.version == 1 and not other.is_deleted


def test_missing_and_malformed_ids_are_404(org):
    client = api_client(org.admin)
    assert client.get(f"{URL}999999/").status_code == 404
    assert client.get(f"{URL}abc/").status_code == 404


def test_read_only_user_reads_but_cannot_write(org):
    record = account(org.rep1)
    client = api_client(org.read_only)
    assert client.get(detail(record)).status_code == 200
    assert client.get(URL).json()["results"][0]["id"] == record.pk
    assert client.post(URL, {"name": "x"}, format="json").status_code == 403
    response = client.patch(detail(record), {"name": "x", "version": 1}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"]
    assert client.delete(detail(record)).status_code == 403
    record.refresh_from_db()
    assert record.name == "Acme" and not record.is_deleted


def test_visible_but_not_editable_is_403(org):
    record = account(org.rep3, "north")
    api_client(org.rep3).post(f"{detail(record)}share/", {"user": org.rep1.pk}, format="json")
    client = api_client(org.rep1)
    assert client.get(detail(record)).status_code == 200
    response = client.patch(detail(record), {"name": "mine now", "version": 1}, format="json")
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.name == "north"


# --- update / optimistic locking --------------------------------------------------------


def test_update_requires_version(org):
    record = account(org.rep1)
    response = api_client(org.rep1).patch(detail(record), {"name": "New"}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()["errors"]
    record.refresh_from_db()
    assert record.name == "Acme"


def test_update_with_current_version_bumps_it(org):
    record = account(org.rep1)
    response = api_client(org.rep1).patch(
        detail(record), {"name": "New", "version": 1}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.json()["name"] == "New"


def test_put_replaces_fields(org):
    record = account(org.rep1, notes="old")
    response = api_client(org.rep1).put(
        detail(record), {"name": "Put", "kind": "individual", "version": 1}, format="json"
    )
    assert response.status_code == 200, response.json()
    record.refresh_from_db()
    assert (record.name, record.kind, record.version) == ("Put", "individual", 2)


def test_stale_version_is_409_and_changes_nothing(org):
    record = account(org.rep1)
    client = api_client(org.rep1)
    assert client.patch(detail(record), {"name": "First", "version": 1}).status_code == 200
    response = client.patch(detail(record), {"name": "Second", "version": 1}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 2
    assert body["detail"]
    record.refresh_from_db()
    assert (record.name, record.version) == ("First", 2)


def test_stale_delete_is_409(org):
    record = account(org.rep1)
    client = api_client(org.rep1)
    client.patch(detail(record), {"name": "First", "version": 1}, format="json")
    assert client.delete(f"{detail(record)}?version=1").status_code == 409
    record.refresh_from_db()
    assert not record.is_deleted
    assert client.delete(f"{detail(record)}?version=2").status_code == 204
    assert not Account.objects.filter(pk=record.pk).exists()
    assert Account.all_objects.get(pk=record.pk).is_deleted


def test_history_shows_create_and_update_with_before_and_after(org):
    record = account(org.rep1)
    client = api_client(org.rep1)
    client.patch(
        detail(record), {"name": "Renamed", "version": 1}, format="json", HTTP_X_REQUEST_ID="req-42"
    )
    history = client.get(f"{detail(record)}history/").json()
    assert [entry["action"] for entry in history] == ["update", "create"]
    update = history[0]
    assert update["before"] == {"name": "Acme"}
    assert update["after"] == {"name": "Renamed"}
    assert update["actor"] == org.rep1.pk
    assert update["request_id"] == "req-42"
    assert history[1]["after"]["name"] == "Acme"


def test_custom_fields_are_validated_by_the_service(org):
    custom_field_create(
        actor=None,
        model=Account,
        key="credit_days",
        label_zh="账期",
        label_en="Credit days",
        field_type="integer",
    )
    client = api_client(org.rep1)
    bad = client.post(URL, {"name": "A", "custom_fields": {"credit_days": "soon"}}, format="json")
    assert bad.status_code == 400
    assert "custom.credit_days" in bad.json()["errors"]
    unknown = client.post(URL, {"name": "A", "custom_fields": {"nope": 1}}, format="json")
    assert "custom.nope" in unknown.json()["errors"]
    good = client.post(URL, {"name": "A", "custom_fields": {"credit_days": "30"}}, format="json")
    assert good.status_code == 201
    assert good.json()["custom_fields"] == {"credit_days": 30}
    assert CustomField.objects.count() == 1


def test_tags_can_be_replaced_on_update(org):
    record = account(org.rep1)
    client = api_client(org.rep1)
    client.patch(detail(record), {"tags": ["a", "b"], "version": 1}, format="json")
    response = client.patch(detail(record), {"tags": ["b", "c"], "version": 2}, format="json")
    assert response.status_code == 200
    assert response.json()["tags"] == ["b", "c"]
    content_type = ContentType.objects.get_for_model(Account)
    audit = ChangeRecord.objects.filter(content_type=content_type, object_id=record.pk)
    assert audit.filter(after={"tags": ["b", "c"]}).exists()


# --- filters, ordering, pagination --------------------------------------------------------


def test_filters_and_ordering(org):
    it = PicklistOption.objects.get(picklist__code="industry", value="it")
    account(org.rep1, "Beta", industry=it)
    account(org.rep1, "Alpha", kind="individual")
    account(org.rep2, "Alps")
    client = api_client(org.manager)
    names = lambda query: [r["name"] for r in client.get(URL + query).json()["results"]]  # noqa: E731
    assert names("?ordering=name") == ["Alpha", "Alps", "Beta"]
    assert names("?ordering=-name") == ["Beta", "Alps", "Alpha"]
    assert names("?name=Al&ordering=name") == ["Alpha", "Alps"]
    assert names("?kind=individual") == ["Alpha"]
    assert names(f"?industry={it.pk}") == ["Beta"]
    assert sorted(names(f"?owner={org.rep2.pk}")) == ["Alps"]
    assert len(names(f"?department={org.east.pk}")) == 3
    # Ordering by a field outside the whitelist is ignored, not an error or a leak.
    assert client.get(URL + "?ordering=notes").status_code == 200


def test_pagination_fetches_one_extra_row_and_counts_only_when_asked(org):
    for n in range(5):
        account(org.rep1, f"A{n}")
    client = api_client(org.rep1)
    first = client.get(URL + "?page_size=2&ordering=name").json()
    assert "count" not in first
    assert [r["name"] for r in first["results"]] == ["A0", "A1"]
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [r["name"] for r in second["results"]] == ["A2", "A3"]
    third = client.get(second["next"]).json()
    assert [r["name"] for r in third["results"]] == ["A4"]
    assert third["next"] is None
    assert third["previous"]
    counted = client.get(URL + "?page_size=2&count=true").json()
    assert counted["count"] == 5
    assert client.get(URL + "?page=0").status_code == 404


def test_count_is_capped(org, monkeypatch):
    from guanxi.core.api import pagination

    monkeypatch.setattr(pagination.GuanxiPagination, "count_cap", 3)
    for n in range(5):
        account(org.rep1, f"A{n}")
    assert api_client(org.rep1).get(URL + "?count=true").json()["count"] == "3+"


# --- assign / share / timeline -----------------------------------------------------------


def test_manager_assigns_with_reason_and_rep_cannot(org):
    record = account(org.rep1)
    rep = api_client(org.rep1).post(
        f"{detail(record)}assign/", {"owner": org.rep2.pk}, format="json"
    )
    assert rep.status_code == 403
    response = api_client(org.manager).post(
        f"{detail(record)}assign/", {"owner": org.rep3.pk, "reason": "territory"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["owner"] == org.rep3.pk
    record.refresh_from_db()
    assert record.owner == org.rep3 and record.department == org.north
    timeline = api_client(org.admin).get(f"{detail(record)}timeline/").json()
    assert timeline[0]["kind"] == "owner_changed"
    assert "territory" in timeline[0]["text"]
    history = api_client(org.admin).get(f"{detail(record)}history/").json()
    assert history[0]["action"] == "assign"
    assert history[0]["message"] == "territory"


def test_share_grants_the_other_user_read_access_through_the_api(org):
    record = account(org.rep3, "north")
    other = api_client(org.rep1)
    assert other.get(detail(record)).status_code == 404
    expires = (timezone.now() + datetime.timedelta(days=7)).isoformat()
    response = api_client(org.rep3).post(
        f"{detail(record)}share/",
        {"user": org.rep1.pk, "access": "read", "expires_at": expires},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["user"] == org.rep1.pk
    assert RecordShare.objects.filter(object_id=record.pk, user=org.rep1).exists()
    assert other.get(detail(record)).status_code == 200
    assert [r["id"] for r in other.get(URL).json()["results"]] == [record.pk]
    # Read, not write.
    assert other.patch(detail(record), {"name": "x", "version": 1}).status_code == 403


def test_share_needs_a_target_and_a_future_expiry(org):
    record = account(org.rep1)
    client = api_client(org.rep1)
    nobody = client.post(f"{detail(record)}share/", {"access": "read"}, format="json")
    assert nobody.status_code == 400
    assert nobody.json()["errors"]["non_field_errors"]
    past = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    expired = client.post(
        f"{detail(record)}share/", {"user": org.rep2.pk, "expires_at": past}, format="json"
    )
    assert expired.status_code == 400
    assert "expires_at" in expired.json()["errors"]
    assert not RecordShare.objects.exists()
