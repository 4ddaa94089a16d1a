"""Group pages (static lists and dynamic saved filters), the account list's group filter,
the points ledger and the membership levels."""

import json

import pytest
from django.urls import reverse

from guanxi.core.models import ChangeRecord, PicklistOption
from guanxi.core.selectors import bounded_count
from guanxi.core.services.records import record_create
from guanxi.customers import services, views_contacts
from guanxi.customers.models import Account, Group, GroupMember, MembershipLevel, PointsEntry
from guanxi.customers.sections import account_sections

pytestmark = pytest.mark.django_db

GROUP_LIST = reverse("customers:group_list")
GROUP_CREATE = reverse("customers:group_create")
ADD = reverse("customers:group_add_accounts")
COUNT = reverse("customers:group_member_count")


@pytest.fixture
def en(org):
    for user in org.users().values():
        user.language = "en"
        user.save(update_fields=["language"])
    return org


def account(owner, name, **data):
    return record_create(model=Account, data={"name": name, **data}, actor=owner)


def industry(value):
    return PicklistOption.objects.get(picklist__code="industry", value=value)


def static_group(owner, name="Static"):
    return services.group_create(actor=owner, data={"name": name, "owner": owner})


def dynamic_group(owner, conditions, name="Dynamic"):
    return services.group_create(
        actor=owner,
        data={"name": name, "kind": Group.Kind.DYNAMIC, "conditions": conditions, "owner": owner},
    )


def group_url(group, kind="detail"):
    return reverse(f"customers:group_{kind}", args=[group.pk])


# --- List, create, edit ----------------------------------------------------------------------
def test_group_list_and_detail_obey_the_scope(client, en):
    mine = static_group(en.rep1, "Rep1 List")
    theirs = static_group(en.rep3, "Rep3 List")
    client.force_login(en.rep1)
    response = client.get(GROUP_LIST)
    assert [row["record"].name for row in response.context["rows"]] == ["Rep1 List"]
    assert client.get(group_url(mine)).status_code == 200
    assert client.get(group_url(theirs)).status_code == 404


def test_create_a_static_group(client, en):
    client.force_login(en.rep1)
    response = client.post(GROUP_CREATE, {"name": "Key clients", "kind": "static"})
    assert response.status_code == 302
    group = Group.objects.get(name="Key clients")
    assert (group.kind, group.conditions, group.owner) == ("static", {}, en.rep1)


def test_condition_builder_saves_valid_conditions(client, en):
    client.force_login(en.rep1)
    conditions = {
        "match": "any",
        "conditions": [
            {"field": "industry", "op": "eq", "value": "it"},
            {"field": "lifecycle_stage", "op": "in", "value": "new, active"},
            {"field": "email", "op": "isnull", "value": ""},
        ],
    }
    response = client.post(
        GROUP_CREATE,
        {"name": "IT or big cities", "kind": "dynamic", "conditions": json.dumps(conditions)},
    )
    assert response.status_code == 302, response.context["form"].errors
    group = Group.objects.get(name="IT or big cities")
    assert group.conditions == {
        "match": "any",
        "conditions": [
            {"field": "industry", "op": "eq", "value": "it"},
            {"field": "lifecycle_stage", "op": "in", "value": ["new", "active"]},
            {"field": "email", "op": "isnull", "value": True},
        ],
    }
    # The edit page puts the conditions back into the builder.
    html = client.get(group_url(group, "edit")).content.decode()
    assert "gx-conditions" in html and "new, active" in html


def test_condition_builder_refuses_invalid_conditions(client, en):
    client.force_login(en.rep1)
    for conditions, fragment in (
        ({"match": "all", "conditions": [{"field": "salary", "op": "eq", "value": 1}]}, "salary"),
        ({"match": "all", "conditions": [{"field": "name", "op": "gt", "value": "x"}]}, "gt"),
        ({"match": "all", "conditions": []}, "at least one condition"),
    ):
        response = client.post(
            GROUP_CREATE,
            {"name": "Broken", "kind": "dynamic", "conditions": json.dumps(conditions)},
        )
        assert response.status_code == 200
        errors = " ".join(response.context["form"].errors["conditions"])
        assert fragment in errors
    response = client.post(
        GROUP_CREATE, {"name": "Broken", "kind": "dynamic", "conditions": "{not json"}
    )
    assert "could not be read" in " ".join(response.context["form"].errors["conditions"])
    assert not Group.objects.filter(name="Broken").exists()


def test_dynamic_group_page_lists_matching_visible_members(client, en):
    account(en.rep1, "IT One", industry=industry("it"))
    account(en.rep1, "Retail One", industry=industry("retail"))
    account(en.rep3, "IT North", industry=industry("it"))
    group = dynamic_group(
        en.rep1, {"match": "all", "conditions": [{"field": "industry", "op": "eq", "value": "it"}]}
    )
    client.force_login(en.rep1)
    response = client.get(group_url(group))
    assert [member.name for member in response.context["members"]] == ["IT One"]
    assert response.context["members_count_text"] == "1 accounts"
    [line] = response.context["condition_lines"]
    option = industry("it")
    assert line == f"industry is {option.label_en}"
    assert "Retail One" not in response.content.decode()
    assert "IT North" not in response.content.decode()


def test_member_count_is_bounded(client, en, monkeypatch):
    for index in range(4):
        account(en.rep1, f"Count {index}")
    group = static_group(en.rep1)
    services.group_add_accounts(group=group, accounts=list(Account.objects.all()), actor=en.rep1)
    monkeypatch.setattr(views_contacts, "MEMBER_COUNT_CAP", 3)
    client.force_login(en.rep1)
    assert client.get(group_url(group)).context["members_count_text"] == "3+ accounts"


def test_bounded_count_counts_no_further_than_the_cap(en):
    for index in range(4):
        account(en.rep1, f"Cap {index}")
    assert bounded_count(Account.objects.all(), cap=3) == (3, True)
    assert bounded_count(Account.objects.all(), cap=10) == (4, False)


def test_live_member_count(client, en):
    account(en.rep1, "Shanghai One", city="上海市")
    account(en.rep1, "Beijing One", city="北京市")
    account(en.rep3, "Shanghai North", city="上海市")
    client.force_login(en.rep1)
    conditions = {"match": "all", "conditions": [{"field": "city", "op": "eq", "value": "上海市"}]}
    html = client.get(COUNT, {"conditions": json.dumps(conditions)}).content.decode()
    assert "1 accounts" in html
    bad = {"match": "all", "conditions": [{"field": "nope", "op": "eq", "value": 1}]}
    html = client.get(COUNT, {"conditions": json.dumps(bad)}).content.decode()
    assert "unknown field" in html


# --- Members of static groups ----------------------------------------------------------------
def test_add_accounts_from_the_account_list_bulk_action(client, en):
    group = static_group(en.rep1)
    one, two = account(en.rep1, "One"), account(en.rep1, "Two")
    hidden = account(en.rep3, "Hidden")
    client.force_login(en.rep1)
    response = client.post(
        ADD,
        {"group": group.pk, "ids": [f"{one.pk},{two.pk}", hidden.pk], "next": "/customers/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/customers/"
    assert set(GroupMember.objects.values_list("account__name", flat=True)) == {"One", "Two"}
    assert ChangeRecord.objects.filter(object_id=group.pk, after__members_added__isnull=False)
    html = client.get(group_url(group)).content.decode()
    assert "One" in html and "Two" in html


def test_add_accounts_needs_an_editable_visible_static_group(client, en):
    theirs = static_group(en.rep3)
    mine = static_group(en.rep1)
    company = account(en.rep1, "Mine")
    client.force_login(en.rep1)
    assert client.post(ADD, {"group": theirs.pk, "ids": company.pk}).status_code == 404
    client.force_login(en.read_only)
    assert client.post(ADD, {"group": mine.pk, "ids": company.pk}).status_code == 403
    dynamic = dynamic_group(
        en.rep1, {"match": "all", "conditions": [{"field": "name", "op": "eq", "value": "x"}]}
    )
    client.force_login(en.rep1)
    response = client.post(ADD, {"group": dynamic.pk, "ids": company.pk}, follow=True)
    assert "come from its filter" in response.content.decode()
    assert not GroupMember.objects.exists()


def test_remove_accounts(client, en):
    group = static_group(en.rep1)
    one, two = account(en.rep1, "One"), account(en.rep1, "Two")
    services.group_add_accounts(group=group, accounts=[one, two], actor=en.rep1)
    client.force_login(en.rep1)
    response = client.post(group_url(group, "remove_accounts"), {"ids": [one.pk]})
    assert response.status_code == 302
    assert list(GroupMember.objects.values_list("account__name", flat=True)) == ["Two"]


def test_group_page_query_count_does_not_grow_with_members(
    client, en, django_assert_max_num_queries
):
    group = static_group(en.rep1)

    def add(n, start):
        accounts = [account(en.rep1, f"Member {start + i}") for i in range(n)]
        services.group_add_accounts(group=group, accounts=accounts, actor=en.rep1)

    client.force_login(en.rep1)
    add(2, 0)
    with django_assert_max_num_queries(60) as few:
        assert len(client.get(group_url(group)).context["members"]) == 2
    add(12, 2)
    with django_assert_max_num_queries(60) as many:
        assert len(client.get(group_url(group)).context["members"]) == 14
    assert len(many.captured_queries) == len(few.captured_queries)


def test_group_list_query_count_does_not_grow(client, en, django_assert_max_num_queries):
    client.force_login(en.rep1)
    static_group(en.rep1, "G0")
    with django_assert_max_num_queries(30) as few:
        client.get(GROUP_LIST)
    for index in range(1, 10):
        static_group(en.rep1, f"G{index}")
    with django_assert_max_num_queries(30) as many:
        assert len(client.get(GROUP_LIST).context["rows"]) == 10
    assert len(many.captured_queries) == len(few.captured_queries)


# --- The account list's group filter ---------------------------------------------------------
def test_group_filter_on_the_account_list(client, en):
    one, two = account(en.rep1, "Alpha Static"), account(en.rep1, "Beta Other")
    account(en.rep1, "Gamma IT", industry=industry("it"))
    group = static_group(en.rep1)
    services.group_add_accounts(group=group, accounts=[one], actor=en.rep1)
    dynamic = dynamic_group(
        en.rep1, {"match": "all", "conditions": [{"field": "industry", "op": "eq", "value": "it"}]}
    )
    client.force_login(en.rep1)
    url = reverse("customers:account_list")
    rows = client.get(url, {"group": group.pk}).context["rows"]
    assert [row["record"].name for row in rows] == ["Alpha Static"]
    rows = client.get(url, {"group": dynamic.pk}).context["rows"]
    assert [row["record"].name for row in rows] == ["Gamma IT"]
    # A group the user cannot see is not a choice: the filter is ignored, nothing leaks.
    hidden = static_group(en.rep3)
    response = client.get(url, {"group": hidden.pk})
    assert response.status_code == 200
    assert "group" in response.context["filterset"].form.errors
    assert str(two) in response.content.decode()


# --- Points ledger and membership levels -----------------------------------------------------
def test_points_form_records_entries_and_shows_errors(client, en):
    company = account(en.rep1, "Points Co")
    client.force_login(en.rep1)
    url = reverse("customers:points_ledger", args=[company.pk])
    response = client.post(url, {"kind": "earn", "points": 1200, "reason": "Order 42"})
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.points == 1200
    assert company.membership_level == MembershipLevel.objects.get(threshold=1000)
    page = client.get(url)
    assert "Order 42" in page.content.decode()
    assert [entry.points for entry in page.context["entries"]] == [1200]

    response = client.post(url, {"kind": "redeem", "points": 5000, "reason": "Gift"})
    assert response.status_code == 400
    assert "Only 1200 points are available" in " ".join(response.context["form"].errors["points"])
    response = client.post(url, {"kind": "earn", "points": 10, "reason": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    assert PointsEntry.objects.count() == 1


def test_points_ledger_obeys_the_scope(client, en):
    theirs = account(en.rep3, "North Co")
    mine = account(en.rep1, "Mine Co")
    client.force_login(en.rep1)
    assert client.get(reverse("customers:points_ledger", args=[theirs.pk])).status_code == 404
    client.force_login(en.read_only)
    url = reverse("customers:points_ledger", args=[mine.pk])
    assert client.get(url).status_code == 200
    assert client.get(url).context["form"] is None
    assert client.post(url, {"kind": "earn", "points": 5, "reason": "x"}).status_code == 403
    assert not PointsEntry.objects.exists()


def test_membership_section_is_registered(en):
    section = next(s for s in account_sections() if s.key == "membership")
    assert section.template == "customers/sections/membership.html"
    company = account(en.rep1, "Section Co")
    services.points_record(account=company, kind="earn", points=50, reason="Hi", actor=en.rep1)
    data = section.context(account=company, user=en.rep1)
    assert [entry.reason for entry in data["entries"]] == ["Hi"]
    assert data["can_record"]
    assert not section.context(account=company, user=en.read_only)["can_record"]


def test_membership_levels_are_administrators_only(client, en):
    client.force_login(en.rep1)
    assert client.get(reverse("customers:membership_level_list")).status_code == 403
    client.force_login(en.admin)
    response = client.get(reverse("customers:membership_level_list"))
    assert "Silver" in response.content.decode()
    silver = MembershipLevel.objects.get(threshold=1000)
    url = reverse("customers:membership_level_edit", args=[silver.pk])
    data = {"name_zh": "银卡", "name_en": "Silver+", "threshold": 1500, "discount_percent": "3"}
    assert client.post(url, data).status_code == 302
    silver.refresh_from_db()
    assert (silver.name_en, silver.threshold) == ("Silver+", 1500)
    # Thresholds are unique: the error is on the field.
    response = client.post(
        reverse("customers:membership_level_create"),
        {"name_zh": "重复", "name_en": "Dup", "threshold": 1500, "discount_percent": "1"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["threshold"]
