"""Core's own resources: me, users, departments, roles, picklists, custom fields, tags,
notifications and the recycle bin."""

import pytest

from guanxi.core.api.testing import api_client
from guanxi.core.models import (
    ChangeRecord,
    CustomField,
    Notification,
    Picklist,
    PicklistOption,
    Role,
    Tag,
    User,
)
from guanxi.core.services.notifications import notification_send
from guanxi.core.services.records import record_create, record_delete
from guanxi.customers.models import Account

pytestmark = pytest.mark.django_db


# --- me ---------------------------------------------------------------------------------


def test_me_shows_profile_and_changes_preferences(org):
    client = api_client(org.rep1)
    me = client.get("/api/v1/me/").json()
    assert me["username"] == "rep1"
    assert me["roles"] == ["sales_rep"]
    assert me["is_administrator"] is False
    assert "password" not in me
    response = client.patch(
        "/api/v1/me/",
        {"language": "en", "time_zone": "Europe/Berlin", "username": "hacker"},
        format="json",
    )
    assert response.status_code == 200
    org.rep1.refresh_from_db()
    assert (org.rep1.language, org.rep1.time_zone, org.rep1.username) == (
        "en",
        "Europe/Berlin",
        "rep1",
    )
    bad = client.patch("/api/v1/me/", {"time_zone": "Mars/Olympus"}, format="json")
    assert bad.status_code == 400
    assert "time_zone" in bad.json()["errors"]


def test_times_follow_the_callers_time_zone(org):
    org.rep1.time_zone = "Asia/Tokyo"
    org.rep1.save()
    record = record_create(model=Account, data={"name": "Acme"}, actor=org.rep1)
    body = api_client(org.rep1, token=True).get(f"/api/v1/accounts/{record.pk}/").json()
    assert body["created_at"].endswith("+09:00")


# --- users ------------------------------------------------------------------------------


def test_everybody_reads_active_users_without_passwords(org):
    org.agent.is_active = False
    org.agent.save()
    rows = api_client(org.rep1).get("/api/v1/users/?page_size=100").json()["results"]
    usernames = {row["username"] for row in rows}
    assert "rep3" in usernames and "agent" not in usernames
    assert all("password" not in row for row in rows)
    admin_rows = api_client(org.admin).get("/api/v1/users/?page_size=100").json()["results"]
    assert "agent" in {row["username"] for row in admin_rows}
    assert api_client(org.rep1).get(f"/api/v1/users/{org.agent.pk}/").status_code == 404


def test_admin_creates_and_updates_users_through_services(org):
    client = api_client(org.admin)
    rep = Role.objects.get(code="sales_rep")
    response = client.post(
        "/api/v1/users/",
        {
            "username": "zhang.wei",
            "display_name": "张伟",
            "password": "a-long-password-1",
            "department": org.east.pk,
            "roles": [rep.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "password" not in response.json()
    user = User.objects.get(username="zhang.wei")
    assert user.check_password("a-long-password-1")
    assert list(user.roles.all()) == [rep]
    assert ChangeRecord.objects.filter(object_id=user.pk, action="create").exists()

    response = client.patch(
        f"/api/v1/users/{user.pk}/", {"department": org.north.pk, "roles": []}, format="json"
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.department == org.north
    assert not user.roles.exists()
    duplicate = client.post("/api/v1/users/", {"username": "zhang.wei"}, format="json")
    assert duplicate.status_code == 400
    assert "username" in duplicate.json()["errors"]


def test_non_admin_cannot_write_users(org):
    client = api_client(org.manager)
    assert client.post("/api/v1/users/", {"username": "x"}, format="json").status_code == 403
    response = client.patch(f"/api/v1/users/{org.rep1.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 403
    org.rep1.refresh_from_db()
    assert org.rep1.is_active


def test_admin_cannot_deactivate_themselves(org):
    response = api_client(org.admin).patch(
        f"/api/v1/users/{org.admin.pk}/", {"is_active": False}, format="json"
    )
    assert response.status_code == 400
    assert "is_active" in response.json()["errors"]


# --- departments ------------------------------------------------------------------------


def test_departments_tree(org):
    rows = api_client(org.rep1).get("/api/v1/departments/").json()["results"]
    by_name = {row["name"]: row for row in rows}
    east = by_name["华东销售部"]
    assert east["parent"] == org.division.pk
    assert east["path"] == f"/{org.division.pk}/{org.east.pk}/"
    assert east["depth"] == 1
    assert east["manager"] == org.manager.pk
    assert east["manager_name"] == "manager"
    # Tree order: the division comes before its children.
    names = [row["name"] for row in rows]
    assert names.index("销售中心") < names.index("华东销售部")
    within = api_client(org.rep1).get(f"/api/v1/departments/?within={org.division.pk}").json()
    assert {row["name"] for row in within["results"]} == {"销售中心", "华东销售部", "华北销售部"}


def test_admin_creates_moves_and_deletes_departments(org):
    client = api_client(org.admin)
    response = client.post(
        "/api/v1/departments/", {"name": "上海组", "parent": org.east.pk}, format="json"
    )
    assert response.status_code == 201
    created = response.json()
    assert created["path"] == f"{org.east.path}{created['id']}/"
    moved = client.patch(
        f"/api/v1/departments/{created['id']}/", {"parent": org.north.pk}, format="json"
    )
    assert moved.json()["path"] == f"{org.north.path}{created['id']}/"
    loop = client.patch(
        f"/api/v1/departments/{org.division.pk}/", {"parent": org.east.pk}, format="json"
    )
    assert loop.status_code == 400
    assert "parent" in loop.json()["errors"]
    assert client.delete(f"/api/v1/departments/{created['id']}/").status_code == 204
    not_empty = client.delete(f"/api/v1/departments/{org.east.pk}/")
    assert not_empty.status_code == 400
    assert not_empty.json()["errors"]["non_field_errors"]
    assert api_client(org.rep1).post("/api/v1/departments/", {"name": "x"}).status_code == 403


# --- roles ------------------------------------------------------------------------------


def test_roles_read_and_admin_write(org):
    rows = api_client(org.rep1).get("/api/v1/roles/").json()["results"]
    assert "sales_rep" in {row["code"] for row in rows}
    client = api_client(org.admin)
    response = client.post(
        "/api/v1/roles/",
        {
            "code": "auditor",
            "name_zh": "审计",
            "name_en": "Auditor",
            "data_scope": "all",
            "permissions": {"customers.account": ["view", "export"]},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Role.objects.get(code="auditor").allows("customers.account", "export")
    bad = client.post(
        "/api/v1/roles/",
        {"code": "bad", "name_zh": "x", "name_en": "x", "permissions": {"*": ["fly"]}},
        format="json",
    )
    assert bad.status_code == 400
    assert "permissions" in bad.json()["errors"]
    in_use = client.delete(f"/api/v1/roles/{Role.objects.get(code='sales_rep').pk}/")
    assert in_use.status_code == 400
    assert api_client(org.rep1).post("/api/v1/roles/", {"code": "x"}).status_code == 403


# --- picklists --------------------------------------------------------------------------


def test_picklists_with_nested_options_and_writable_options(org):
    rows = api_client(org.rep1).get("/api/v1/picklists/?code=industry").json()["results"]
    assert len(rows) == 1
    assert "it" in [option["value"] for option in rows[0]["options"]]
    industry = Picklist.objects.get(code="industry")
    client = api_client(org.admin)
    response = client.post(
        "/api/v1/picklist-options/",
        {"picklist": industry.pk, "value": "energy", "label_zh": "能源", "label_en": "Energy"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    option = PicklistOption.objects.get(picklist=industry, value="energy")
    assert option.sort_order == industry.options.count() - 1
    rename = client.patch(
        f"/api/v1/picklist-options/{option.pk}/", {"value": "power"}, format="json"
    )
    assert rename.status_code == 400
    retire = client.patch(
        f"/api/v1/picklist-options/{option.pk}/", {"is_active": False}, format="json"
    )
    assert retire.status_code == 200
    option.refresh_from_db()
    assert not option.is_active
    assert client.delete(f"/api/v1/picklist-options/{option.pk}/").status_code == 405
    new = client.post(
        "/api/v1/picklists/", {"code": "grade", "name_zh": "等级", "name_en": "Grade"}
    )
    assert new.status_code == 201
    denied = api_client(org.rep1).post(
        "/api/v1/picklist-options/",
        {"picklist": industry.pk, "value": "x", "label_zh": "x", "label_en": "x"},
        format="json",
    )
    assert denied.status_code == 403


# --- custom fields ----------------------------------------------------------------------


def test_custom_fields_admin_creates_and_everybody_reads(org):
    client = api_client(org.admin)
    response = client.post(
        "/api/v1/custom-fields/",
        {
            "model": "customers.account",
            "key": "grade",
            "label_zh": "等级",
            "label_en": "Grade",
            "field_type": "choice",
            "choices": ["A", "B"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["model"] == "customers.account"
    field = CustomField.objects.get(key="grade")
    listed = api_client(org.rep1).get("/api/v1/custom-fields/?model=customers.account").json()
    assert [row["key"] for row in listed["results"]] == ["grade"]
    put = client.put(
        f"/api/v1/custom-fields/{field.pk}/",
        {
            "model": "customers.account",
            "key": "grade",
            "label_zh": "客户等级",
            "label_en": "Grade",
            "field_type": "choice",
            "choices": ["A", "B", "C"],
        },
        format="json",
    )
    assert put.status_code == 200, put.json()
    field.refresh_from_db()
    assert field.label_zh == "客户等级" and field.choices == ["A", "B", "C"]
    fixed = client.patch(
        f"/api/v1/custom-fields/{field.pk}/", {"field_type": "text"}, format="json"
    )
    assert fixed.status_code == 400
    no_choices = client.post(
        "/api/v1/custom-fields/",
        {
            "model": "customers.account",
            "key": "tier",
            "label_zh": "x",
            "label_en": "x",
            "field_type": "choice",
        },
        format="json",
    )
    assert "choices" in no_choices.json()["errors"]
    wrong_model = client.post(
        "/api/v1/custom-fields/",
        {"model": "core.user", "key": "k", "label_zh": "x", "label_en": "x", "field_type": "text"},
        format="json",
    )
    assert "model" in wrong_model.json()["errors"]
    assert api_client(org.rep1).post("/api/v1/custom-fields/", {}).status_code == 403


# --- tags -------------------------------------------------------------------------------


def test_tags_everybody_creates_admin_manages(org):
    rep = api_client(org.rep1)
    created = rep.post("/api/v1/tags/", {"name": "重要"}, format="json")
    assert created.status_code == 201
    tag_id = created.json()["id"]
    assert [row["name"] for row in rep.get("/api/v1/tags/").json()["results"]] == ["重要"]
    assert rep.patch(f"/api/v1/tags/{tag_id}/", {"color": "danger"}).status_code == 403
    assert rep.delete(f"/api/v1/tags/{tag_id}/").status_code == 403
    admin = api_client(org.admin)
    assert admin.patch(f"/api/v1/tags/{tag_id}/", {"color": "danger"}).status_code == 200
    assert Tag.objects.get(pk=tag_id).color == "danger"
    assert admin.delete(f"/api/v1/tags/{tag_id}/").status_code == 204
    assert not Tag.objects.exists()


# --- notifications ----------------------------------------------------------------------


def test_notifications_only_the_callers(org):
    mine = [notification_send(recipient=org.rep1, kind="test", text=f"n{n}") for n in range(3)]
    theirs = notification_send(recipient=org.rep2, kind="test", text="other")
    client = api_client(org.rep1)
    rows = client.get("/api/v1/notifications/").json()["results"]
    assert {row["id"] for row in rows} == {n.pk for n in mine}
    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 3}

    marked = client.post(
        "/api/v1/notifications/mark-read/", {"ids": [mine[0].pk, theirs.pk]}, format="json"
    )
    assert marked.json() == {"marked": 1, "unread": 2}
    theirs.refresh_from_db()
    assert not theirs.is_read
    unread = client.get("/api/v1/notifications/?is_read=false").json()["results"]
    assert len(unread) == 2
    assert client.post("/api/v1/notifications/mark-read/", {}, format="json").json() == {
        "marked": 2,
        "unread": 0,
    }
    assert Notification.objects.filter(recipient=org.rep2, is_read=False).count() == 1
    assert client.post("/api/v1/notifications/", {"text": "x"}).status_code == 405


# --- recycle bin ------------------------------------------------------------------------


def test_recycle_bin_restore_by_admin_and_403_for_a_rep(org):
    record = record_create(model=Account, data={"name": "Gone"}, actor=org.rep1)
    kept = record_create(model=Account, data={"name": "Kept"}, actor=org.rep1)
    record_delete(instance=record, actor=org.rep1)
    rep = api_client(org.rep1)
    refused = rep.get("/api/v1/recycle-bin/", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only an administrator can open the recycle bin."
    restore_url = f"/api/v1/recycle-bin/customers.account/{record.pk}/restore/"
    assert rep.post(restore_url).status_code == 403

    admin = api_client(org.admin)
    rows = admin.get("/api/v1/recycle-bin/").json()["results"]
    assert [(row["model"], row["id"], row["title"]) for row in rows] == [
        ("customers.account", record.pk, "Gone")
    ]
    assert rows[0]["deleted_by"] == org.rep1.pk
    response = admin.post(restore_url)
    assert response.status_code == 200
    assert Account.objects.filter(pk=record.pk).exists()
    assert rep.get(f"/api/v1/accounts/{record.pk}/").status_code == 200
    assert admin.get("/api/v1/recycle-bin/").json()["results"] == []
    # Restoring what is not in the bin, or an unknown model, is 404.
    assert admin.post(restore_url).status_code == 404
    assert admin.post(f"/api/v1/recycle-bin/customers.account/{kept.pk}/restore/").status_code == (
        404
    )
    assert admin.post(f"/api/v1/recycle-bin/core.user/{org.rep1.pk}/restore/").status_code == 404
    assert admin.post("/api/v1/recycle-bin/nothing.here/1/restore/").status_code == 404


def test_recycle_bin_pages_across_models_and_purges(org):
    records = [
        record_create(model=Account, data={"name": f"A{n}"}, actor=org.rep1) for n in range(3)
    ]
    for record in records:
        record_delete(instance=record, actor=org.rep1)
    admin = api_client(org.admin)
    first = admin.get("/api/v1/recycle-bin/?page_size=2").json()
    assert [row["title"] for row in first["results"]] == ["A2", "A1"]
    second = admin.get(first["next"]).json()
    assert [row["title"] for row in second["results"]] == ["A0"]
    assert second["next"] is None
    only = admin.get("/api/v1/recycle-bin/?model=customers.account").json()
    assert len(only["results"]) == 3
    purge = admin.delete(f"/api/v1/recycle-bin/customers.account/{records[0].pk}/")
    assert purge.status_code == 204
    assert not Account.all_objects.filter(pk=records[0].pk).exists()
    assert (
        api_client(org.rep1)
        .delete(f"/api/v1/recycle-bin/customers.account/{records[1].pk}/")
        .status_code
        == 403
    )
