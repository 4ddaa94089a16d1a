"""The contact, account-contact, group, points and membership-level API."""

import pytest
from rest_framework.test import APIClient

from guanxi.core.models import PicklistOption, Role
from guanxi.core.services.records import record_create, record_share
from guanxi.customers import services
from guanxi.customers.models import (
    Account,
    AccountContact,
    Contact,
    Group,
    GroupMember,
    MembershipLevel,
    PointsEntry,
)

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def account(owner, name, **data):
    return record_create(model=Account, data={"name": name, **data}, actor=owner)


def contact(owner, name, **kwargs):
    return services.contact_create(actor=owner, data={"name": name}, **kwargs)


def role(value):
    return PicklistOption.objects.get(picklist__code="contact_role", value=value)


# --- contacts -------------------------------------------------------------------------------
def test_contacts_obey_the_scope(org):
    mine = contact(org.rep1, "Mine")
    theirs = contact(org.rep3, "Theirs")
    client = api(org.rep1)
    ids = [row["id"] for row in client.get("/api/v1/contacts/").json()["results"]]
    assert ids == [mine.pk]
    assert client.get(f"/api/v1/contacts/{theirs.pk}/").status_code == 404
    assert client.patch(f"/api/v1/contacts/{theirs.pk}/", {"version": 1}).status_code == 404


def test_create_with_nested_phones_and_emails(org):
    response = api(org.rep1).post(
        "/api/v1/contacts/",
        {
            "name": "李雷",
            "phones": [
                {"number": "13812345678", "kind": "mobile"},
                {"number": "(021) 6543-2100", "kind": "work", "is_primary": True},
            ],
            "emails": [{"address": "lilei@example.com", "kind": "work"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [phone["number"] for phone in body["phones"]] == ["021 6543 2100", "138 1234 5678"]
    assert body["phones"][0]["is_primary"] is True
    assert body["emails"] == [{"address": "lilei@example.com", "kind": "work", "is_primary": True}]
    person = Contact.objects.get(pk=body["id"])
    assert sorted(person.phones.values_list("digits", flat=True)) == [
        "02165432100",
        "13812345678",
    ]


def test_invalid_phone_is_a_400_on_phones(org):
    response = api(org.rep1).post(
        "/api/v1/contacts/",
        {"name": "Bad", "phones": [{"number": "abc"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "phones" in response.json()["errors"]
    assert not Contact.objects.filter(name="Bad").exists()


def test_update_replaces_phones_only_when_sent(org):
    person = contact(org.rep1, "Update", phones=[{"number": "13812345678"}])
    client = api(org.rep1)
    url = f"/api/v1/contacts/{person.pk}/"
    response = client.patch(url, {"version": person.version, "title": "CFO"}, format="json")
    assert response.status_code == 200
    assert [phone["number"] for phone in response.json()["phones"]] == ["138 1234 5678"]
    response = client.patch(
        url,
        {"version": response.json()["version"], "phones": [{"number": "13900001111"}]},
        format="json",
    )
    assert response.status_code == 200
    assert [phone["number"] for phone in response.json()["phones"]] == ["139 0000 1111"]


def test_contact_filters(org):
    company = account(org.rep1, "Filter Co")
    linked = contact(org.rep1, "Zhang Linked", phones=[{"number": "13811112222"}])
    contact(org.rep1, "Wang Other", phones=[{"number": "13933334444"}])
    services.account_contact_link(account=company, contact=linked, actor=org.rep1)
    client = api(org.rep1)

    def names(**params):
        rows = client.get("/api/v1/contacts/", params).json()["results"]
        return [row["name"] for row in rows]

    assert names(account=company.pk) == ["Zhang Linked"]
    assert names(name="Wang") == ["Wang Other"]
    assert names(phone="139 3333") == ["Wang Other"]
    assert names(phone="+86 138-1111") == ["Zhang Linked"]


def test_phones_are_masked_for_roles_without_contact_details(org):
    person = contact(
        org.rep1, "Masked", phones=[{"number": "13812345678"}], emails=[{"address": "ab@cd.cn"}]
    )
    Role.objects.filter(code="sales_rep").update(see_contact_details=False)
    body = api(org.rep1).get(f"/api/v1/contacts/{person.pk}/").json()
    assert "1234" not in body["phones"][0]["number"]
    assert "****" in body["phones"][0]["number"]
    assert body["emails"][0]["address"] != "ab@cd.cn"


def test_contact_list_query_count_does_not_grow(org, django_assert_max_num_queries):
    client = api(org.rep1)

    def make(n, start):
        for index in range(n):
            contact(
                org.rep1,
                f"P{start + index}",
                phones=[{"number": f"1381234{start + index:04d}"}],
                emails=[{"address": f"p{start + index}@example.com"}],
            )

    make(2, 0)
    client.get("/api/v1/contacts/")  # warm the user's cached roles
    with django_assert_max_num_queries(20) as few:
        assert len(client.get("/api/v1/contacts/").json()["results"]) == 2
    make(10, 2)
    with django_assert_max_num_queries(20) as many:
        assert len(client.get("/api/v1/contacts/").json()["results"]) == 12
    assert len(many.captured_queries) == len(few.captured_queries)


# --- account-contacts -----------------------------------------------------------------------
def test_link_create_filter_and_unlink(org):
    company = account(org.rep1, "Link Co")
    person = contact(org.rep1, "Link Person")
    client = api(org.rep1)
    response = client.post(
        "/api/v1/account-contacts/",
        {
            "account": company.pk,
            "contact": person.pk,
            "role": role("decision_maker").pk,
            "job_title": "CEO",
            "is_primary": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["account_name"], body["contact_name"], body["job_title"]) == (
        "Link Co",
        "Link Person",
        "CEO",
    )
    assert body["owner"] == org.rep1.pk
    rows = client.get("/api/v1/account-contacts/", {"account": company.pk}).json()["results"]
    assert [row["id"] for row in rows] == [body["id"]]
    rows = client.get("/api/v1/account-contacts/", {"contact": 999999}).json()["results"]
    assert rows == []
    # Twice is refused by the service.
    again = client.post(
        "/api/v1/account-contacts/",
        {"account": company.pk, "contact": person.pk},
        format="json",
    )
    assert again.status_code == 400
    assert client.delete(f"/api/v1/account-contacts/{body['id']}/").status_code == 204
    assert not AccountContact.objects.filter(pk=body["id"]).exists()


def test_link_needs_a_visible_editable_account(org):
    person = contact(org.rep1, "Mine")
    hidden = account(org.rep3, "Hidden")
    client = api(org.rep1)
    response = client.post(
        "/api/v1/account-contacts/", {"account": hidden.pk, "contact": person.pk}, format="json"
    )
    assert response.status_code == 400
    assert "account" in response.json()["errors"]
    record_share(instance=hidden, actor=org.rep3, user=org.rep1)  # read only
    response = client.post(
        "/api/v1/account-contacts/", {"account": hidden.pk, "contact": person.pk}, format="json"
    )
    assert response.status_code == 403
    assert not AccountContact.objects.exists()


def test_link_role_must_be_a_contact_role(org):
    company = account(org.rep1, "Role Co")
    person = contact(org.rep1, "Role Person")
    wrong = PicklistOption.objects.filter(picklist__code="industry").first()
    response = api(org.rep1).post(
        "/api/v1/account-contacts/",
        {"account": company.pk, "contact": person.pk, "role": wrong.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "role" in response.json()["errors"]


# --- groups ---------------------------------------------------------------------------------
def test_group_members_add_and_remove(org):
    group = services.group_create(actor=org.rep1, data={"name": "Static"})
    one, two = account(org.rep1, "One"), account(org.rep1, "Two")
    hidden = account(org.rep3, "Hidden")
    client = api(org.rep1)
    response = client.post(
        f"/api/v1/groups/{group.pk}/add-accounts/",
        {"accounts": [one.pk, two.pk, hidden.pk]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {"added": 2, "not_found": [hidden.pk]}
    members = client.get(f"/api/v1/groups/{group.pk}/members/").json()["results"]
    assert {row["name"] for row in members} == {"One", "Two"}
    response = client.post(
        f"/api/v1/groups/{group.pk}/remove-accounts/", {"accounts": [one.pk]}, format="json"
    )
    assert response.json() == {"removed": 1}
    assert list(GroupMember.objects.values_list("account__name", flat=True)) == ["Two"]


def test_group_member_actions_obey_scope_and_role(org):
    theirs = services.group_create(actor=org.rep3, data={"name": "North"})
    mine = services.group_create(actor=org.rep1, data={"name": "Mine"})
    company = account(org.rep1, "Company")
    assert (
        api(org.rep1)
        .post(
            f"/api/v1/groups/{theirs.pk}/add-accounts/", {"accounts": [company.pk]}, format="json"
        )
        .status_code
        == 404
    )
    assert api(org.rep1).get(f"/api/v1/groups/{theirs.pk}/members/").status_code == 404
    assert (
        api(org.read_only)
        .post(f"/api/v1/groups/{mine.pk}/add-accounts/", {"accounts": [company.pk]}, format="json")
        .status_code
        == 403
    )
    assert api(org.read_only).get(f"/api/v1/groups/{mine.pk}/members/").status_code == 200


def test_dynamic_group_conditions_are_validated_and_members_follow_them(org):
    client = api(org.rep1)
    bad = client.post(
        "/api/v1/groups/",
        {
            "name": "Bad",
            "kind": "dynamic",
            "conditions": {"conditions": [{"field": "x", "op": "eq"}]},
        },
        format="json",
    )
    assert bad.status_code == 400
    assert "conditions" in bad.json()["errors"]
    account(org.rep1, "Shanghai Co", city="上海市")
    account(org.rep1, "Beijing Co", city="北京市")
    response = client.post(
        "/api/v1/groups/",
        {
            "name": "Shanghai",
            "kind": "dynamic",
            "conditions": {
                "match": "all",
                "conditions": [{"field": "city", "op": "eq", "value": "上海市"}],
            },
        },
        format="json",
    )
    assert response.status_code == 201
    members = client.get(f"/api/v1/groups/{response.json()['id']}/members/").json()["results"]
    assert [row["name"] for row in members] == ["Shanghai Co"]
    add = client.post(
        f"/api/v1/groups/{response.json()['id']}/add-accounts/",
        {"accounts": [Account.objects.first().pk]},
        format="json",
    )
    assert add.status_code == 400


def test_group_lists_query_counts_do_not_grow(org, django_assert_max_num_queries):
    client = api(org.rep1)
    group = services.group_create(actor=org.rep1, data={"name": "G"})

    def grow(start, n):
        for index in range(n):
            services.group_create(actor=org.rep1, data={"name": f"G{start + index}"})
            services.group_add_accounts(
                group=group, accounts=[account(org.rep1, f"A{start + index}")], actor=org.rep1
            )

    grow(0, 2)
    client.get("/api/v1/groups/")  # warm the user's cached roles (and granted ids)
    client.get(f"/api/v1/groups/{group.pk}/members/")
    with django_assert_max_num_queries(15) as few_groups:
        client.get("/api/v1/groups/")
    with django_assert_max_num_queries(15) as few_members:
        client.get(f"/api/v1/groups/{group.pk}/members/")
    grow(2, 8)
    with django_assert_max_num_queries(15) as many_groups:
        assert len(client.get("/api/v1/groups/").json()["results"]) == 11
    with django_assert_max_num_queries(15) as many_members:
        assert len(client.get(f"/api/v1/groups/{group.pk}/members/").json()["results"]) == 10
    assert len(many_groups.captured_queries) == len(few_groups.captured_queries)
    assert len(many_members.captured_queries) == len(few_members.captured_queries)


# --- points entries and membership levels ---------------------------------------------------
def test_points_entries_record_and_list_within_scope(org):
    mine = account(org.rep1, "Mine")
    theirs = account(org.rep3, "Theirs")
    services.points_record(account=theirs, kind="earn", points=10, reason="x", actor=org.rep3)
    client = api(org.rep1)
    response = client.post(
        "/api/v1/points-entries/",
        {"account": mine.pk, "kind": "earn", "points": 1500, "reason": "Order 1"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["points"] == 1500
    mine.refresh_from_db()
    assert mine.points == 1500
    assert mine.membership_level.threshold == 1000
    redeem = client.post(
        "/api/v1/points-entries/",
        {"account": mine.pk, "kind": "redeem", "points": 200, "reason": "Gift"},
        format="json",
    )
    assert redeem.json()["points"] == -200
    rows = client.get("/api/v1/points-entries/").json()["results"]
    assert [row["reason"] for row in rows] == ["Gift", "Order 1"]  # never rep3's entry
    rows = client.get("/api/v1/points-entries/", {"account": theirs.pk}).json()["results"]
    assert rows == []

    too_much = client.post(
        "/api/v1/points-entries/",
        {"account": mine.pk, "kind": "redeem", "points": 99999, "reason": "Too much"},
        format="json",
    )
    assert too_much.status_code == 400
    assert "points" in too_much.json()["errors"]
    hidden = client.post(
        "/api/v1/points-entries/",
        {"account": theirs.pk, "kind": "earn", "points": 1, "reason": "x"},
        format="json",
    )
    assert hidden.status_code == 404
    read_only = api(org.read_only).post(
        "/api/v1/points-entries/",
        {"account": mine.pk, "kind": "earn", "points": 1, "reason": "x"},
        format="json",
    )
    assert read_only.status_code == 403
    assert PointsEntry.objects.filter(account=mine).count() == 2


def test_points_entries_query_count_does_not_grow(org, django_assert_max_num_queries):
    mine = account(org.rep1, "Mine")
    client = api(org.rep1)
    services.points_record(account=mine, kind="earn", points=1, reason="a", actor=org.rep1)
    client.get("/api/v1/points-entries/")  # warm the user's cached roles
    with django_assert_max_num_queries(12) as few:
        client.get("/api/v1/points-entries/")
    for index in range(8):
        services.points_record(
            account=mine, kind="earn", points=1, reason=f"b{index}", actor=org.rep1
        )
    with django_assert_max_num_queries(12) as many:
        assert len(client.get("/api/v1/points-entries/").json()["results"]) == 9
    assert len(many.captured_queries) == len(few.captured_queries)


def test_membership_levels_read_for_all_write_for_administrators(org):
    rows = api(org.rep1).get("/api/v1/membership-levels/").json()
    assert [row["threshold"] for row in rows] == [0, 1000, 5000, 20000]
    new = {"name_zh": "黑卡", "name_en": "Black", "threshold": 50000, "discount_percent": "10"}
    assert api(org.rep1).post("/api/v1/membership-levels/", new, format="json").status_code == 403
    response = api(org.admin).post("/api/v1/membership-levels/", new, format="json")
    assert response.status_code == 201
    assert MembershipLevel.objects.filter(name_en="Black", threshold=50000).exists()
    level = MembershipLevel.objects.get(threshold=1000)
    response = api(org.admin).patch(
        f"/api/v1/membership-levels/{level.pk}/", {"discount_percent": "2.50"}, format="json"
    )
    assert response.status_code == 200
    level.refresh_from_db()
    assert str(level.discount_percent) == "2.50"


def test_group_kind_filter(org):
    services.group_create(actor=org.rep1, data={"name": "S"})
    services.group_create(
        actor=org.rep1,
        data={
            "name": "D",
            "kind": Group.Kind.DYNAMIC,
            "conditions": {"conditions": [{"field": "name", "op": "startswith", "value": "A"}]},
        },
    )
    rows = api(org.rep1).get("/api/v1/groups/", {"kind": "dynamic"}).json()["results"]
    assert [row["name"] for row in rows] == ["D"]
