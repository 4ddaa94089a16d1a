import pytest
from django.core.exceptions import ValidationError

from guanxi.core.exceptions import VersionConflict
from guanxi.core.models import ChangeRecord, PicklistOption, TimelineEntry
from guanxi.core.services.configuration import record_tags_set, tag_create
from guanxi.customers import selectors, services
from guanxi.customers.models import Account, AccountContact, Contact, Group, LifecycleStage

pytestmark = pytest.mark.django_db


def test_account_create_normalises_phone_and_email(org):
    account = services.account_create(
        actor=org.rep1,
        data={"name": "上海明达贸易有限公司", "phone": "+86 138-1234-5678", "email": "A@Ex.COM"},
    )
    assert account.phone == "138 1234 5678"
    assert account.phone_digits == "13812345678"
    assert account.email == "A@ex.com"
    assert account.owner == org.rep1 and account.department == org.east


def test_account_create_reports_bad_phone_and_email_together(org):
    with pytest.raises(ValidationError) as error:
        services.account_create(
            actor=org.rep1, data={"name": "X", "phone": "12", "email": "not-mail"}
        )
    assert set(error.value.message_dict) == {"phone", "email"}
    assert not Account.objects.exists()


def test_individual_account_is_its_own_contact(org):
    account = services.account_create(
        actor=org.rep1, data={"name": "王芳", "kind": "individual", "phone": "13900001111"}
    )
    assert account.person.name == "王芳"
    assert list(account.person.phones.values_list("digits", flat=True)) == ["13900001111"]
    assert AccountContact.objects.get(account=account).is_primary
    services.account_update(account=account, actor=org.rep1, data={"name": "王芳芳"})
    account.person.refresh_from_db()
    assert account.person.name == "王芳芳"


def test_lifecycle_change_goes_on_the_timeline(org):
    account = services.account_create(actor=org.rep1, data={"name": "A"})
    services.account_update(
        account=account, actor=org.rep1, data={"lifecycle_stage": LifecycleStage.ACTIVE}
    )
    entry = TimelineEntry.objects.get(kind="lifecycle_changed")
    assert entry.data == {"from": "prospect", "to": "active"}


def test_stale_version_is_refused_and_nothing_changes(org):
    account = services.account_create(actor=org.rep1, data={"name": "A"})
    services.account_update(account=account, actor=org.rep1, data={"name": "B"}, version=1)
    stale = Account.objects.get(pk=account.pk)
    with pytest.raises(VersionConflict):
        services.account_update(account=stale, actor=org.rep1, data={"name": "C"}, version=1)
    assert Account.objects.get(pk=account.pk).name == "B"


def test_assign_moves_links_with_the_account(org):
    account = services.account_create(actor=org.rep1, data={"name": "A"})
    services.contact_create(actor=org.rep1, data={"name": "李雷"}, account=account)
    services.account_assign(account=account, owner=org.rep3, actor=org.manager, reason="调岗")
    link = AccountContact.objects.get(account=account)
    assert link.owner == org.rep3 and link.department == org.north
    assert ChangeRecord.objects.filter(action="assign", message="调岗").exists()
    assert not selectors.account_contacts(account=account, user=org.rep1).exists()
    assert selectors.account_contacts(account=account, user=org.rep3).exists()


def test_contact_phones_are_validated_and_one_is_primary(org):
    contact = services.contact_create(
        actor=org.rep1,
        data={"name": "韩梅梅"},
        phones=[{"number": "010-12345678", "kind": "work"}, {"number": "13800001111"}],
        emails=[{"address": "han@example.com"}],
    )
    assert contact.phones.filter(is_primary=True).count() == 1
    with pytest.raises(ValidationError):
        services.contact_set_phones(contact=contact, phones=[{"number": "abc"}], actor=org.rep1)
    assert contact.phones.count() == 2


def test_relationship_graph(org):
    account = services.account_create(actor=org.rep1, data={"name": "A"})
    role = PicklistOption.objects.get(picklist__code="contact_role", value="decision_maker")
    boss = services.contact_create(
        actor=org.rep1, data={"name": "老板"}, account=account, role=role
    )
    aide = services.contact_create(actor=org.rep1, data={"name": "助理"}, account=account)
    services.contact_relation_add(
        from_contact=aide, to_contact=boss, kind="assistant_of", actor=org.rep1
    )
    graph = selectors.relationship_graph(account=account, user=org.rep1)
    assert {node["name"] for node in graph["nodes"]} == {"老板", "助理"}
    assert graph["edges"] == [
        {"source": aide.pk, "target": boss.pk, "kind": "assistant_of", "label": "assistant of"}
    ]
    assert next(n for n in graph["nodes"] if n["name"] == "老板")["role"] == "decision_maker"


def test_dynamic_group_members_follow_the_filter_and_the_scope(org):
    industry = PicklistOption.objects.get(picklist__code="industry", value="it")
    a = services.account_create(actor=org.rep1, data={"name": "A", "industry": industry})
    services.account_create(actor=org.rep1, data={"name": "B", "province": "北京"})
    services.account_create(actor=org.rep3, data={"name": "C", "industry": industry})
    record_tags_set(record=a, tags=[tag_create(actor=org.admin, name="VIP")], actor=org.rep1)
    group = services.group_create(
        actor=org.rep1,
        data={
            "name": "IT VIPs",
            "kind": Group.Kind.DYNAMIC,
            "conditions": {
                "match": "all",
                "conditions": [
                    {"field": "industry", "op": "eq", "value": "it"},
                    {"field": "tag", "op": "has", "value": "VIP"},
                ],
            },
        },
    )
    assert list(selectors.group_members(group=group, user=org.rep1)) == [a]
    assert list(selectors.group_members(group=group, user=org.rep3)) == []


def test_dynamic_group_rejects_unknown_fields(org):
    with pytest.raises(ValidationError):
        services.group_create(
            actor=org.rep1,
            data={
                "name": "bad",
                "kind": Group.Kind.DYNAMIC,
                "conditions": {"conditions": [{"field": "password", "op": "eq", "value": 1}]},
            },
        )


def test_static_group_membership(org):
    a = services.account_create(actor=org.rep1, data={"name": "A"})
    group = services.group_create(actor=org.rep1, data={"name": "List"})
    assert services.group_add_accounts(group=group, accounts=[a], actor=org.rep1) == 1
    assert services.group_add_accounts(group=group, accounts=[a], actor=org.rep1) == 0
    assert list(selectors.group_members(group=group, user=org.rep1)) == [a]
    assert selectors.account_groups(account=a, user=org.rep1) == [group]


def test_points_ledger_drives_balance_and_level(org):
    account = services.account_create(actor=org.rep1, data={"name": "A"})
    services.points_record(account=account, kind="earn", points=1200, reason="订单", actor=None)
    assert account.points == 1200 and account.membership_level.name_en == "Silver"
    with pytest.raises(ValidationError):
        services.points_record(
            account=account, kind="redeem", points=5000, reason="兑换", actor=org.rep1
        )
    services.points_record(account=account, kind="redeem", points=300, reason="兑换", actor=None)
    account.refresh_from_db()
    assert account.points == 900 and account.membership_level.name_en == "Member"


def test_contact_delete_removes_its_links(org):
    account = services.account_create(actor=org.rep1, data={"name": "A"})
    contact = services.contact_create(actor=org.rep1, data={"name": "X"}, account=account)
    services.contact_delete(contact=contact, actor=org.rep1)
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not AccountContact.objects.filter(contact=contact).exists()


def test_statistics_count_inside_the_scope(org):
    from guanxi.customers.statistics import account_counts

    it = PicklistOption.objects.get(picklist__code="industry", value="it")
    services.account_create(actor=org.rep1, data={"name": "A", "industry": it, "province": "北京"})
    services.account_create(actor=org.rep1, data={"name": "B", "province": "北京"})
    services.account_create(actor=org.rep3, data={"name": "C", "industry": it})
    by_industry = account_counts(user=org.rep1, dimension="industry")
    assert [(row["label"], row["count"]) for row in by_industry] == [
        ("Information technology", 1),
        ("(not set)", 1),
    ]
    by_owner = account_counts(user=org.admin, dimension="owner")
    assert {row["label"]: row["count"] for row in by_owner} == {"rep1": 2, "rep3": 1}
    assert account_counts(user=org.rep1, dimension="province")[0]["filter"] == {"province": "北京"}


def test_bulk_create_validates_audits_indexes_and_keys_each_row(
    org, django_capture_on_commit_callbacks
):
    from guanxi.core.models import SearchEntry
    from guanxi.customers.duplicates import duplicate_candidates

    with django_capture_on_commit_callbacks(execute=True):
        results = services.account_bulk_create(
            actor=org.rep1,
            items=[
                ({"name": "北京华为技术有限公司", "phone": "+86 138 1234 5678"}, None),
                ({"name": "坏电话", "phone": "12"}, None),
                ({"name": "", "email": "x@example.com"}, None),
                ({"name": "王芳", "kind": "individual"}, None),
            ],
        )
    created = [r for r in results if isinstance(r, Account)]
    assert [type(r).__name__ for r in results] == [
        "Account",
        "ValidationError",
        "ValidationError",
        "Account",
    ]
    assert set(results[1].message_dict) == {"phone"} and set(results[2].message_dict) == {"name"}
    huawei = created[0]
    assert huawei.phone_digits == "13812345678" and huawei.department == org.east
    assert ChangeRecord.objects.filter(object_id=huawei.pk, action="create").exists()
    assert SearchEntry.objects.filter(object_id=huawei.pk, title="北京华为技术有限公司").exists()
    assert [hit.pk for hit in duplicate_candidates(user=org.rep1, name="华为技术")] == [huawei.pk]
    assert created[1].person.name == "王芳"


def test_account_groups_tests_every_dynamic_group_in_one_query(org, django_assert_num_queries):
    a = services.account_create(actor=org.rep1, data={"name": "A", "province": "北京"})
    for number in range(5):
        services.group_create(
            actor=org.rep1,
            data={
                "name": f"dyn{number}",
                "kind": Group.Kind.DYNAMIC,
                "conditions": {
                    "conditions": [
                        {"field": "province", "op": "eq", "value": "北京" if number % 2 else "上海"}
                    ]
                },
            },
        )
    static = services.group_create(actor=org.rep1, data={"name": "static"})
    services.group_add_accounts(group=static, accounts=[a], actor=org.rep1)
    user = type(org.rep1).objects.get(pk=org.rep1.pk)
    selectors.account_groups(account=a, user=user)  # roles and grants cached on the user
    with django_assert_num_queries(3):  # static groups, dynamic groups, one aggregate
        groups = selectors.account_groups(account=a, user=user)
    assert [g.name for g in groups] == ["static", "dyn1", "dyn3"]


def test_email_addresses_of_accounts_and_their_visible_contacts_once_each(org):
    a = services.account_create(actor=org.rep1, data={"name": "A", "email": "info@a.cn"})
    services.contact_create(
        actor=org.rep1, data={"name": "甲"}, account=a, emails=[{"address": "INFO@a.cn"}]
    )
    services.contact_create(
        actor=org.rep1, data={"name": "乙"}, account=a, emails=[{"address": "yi@a.cn"}]
    )
    found = selectors.account_email_addresses(user=org.rep1, accounts=[a])
    assert [item["address"] for item in found] == ["info@a.cn", "yi@a.cn"]
    assert selectors.account_email_addresses(user=org.rep3, accounts=[a]) == [
        {"address": "info@a.cn", "name": "A", "account": "A"}
    ]  # rep3 sees no link of rep1's account, so none of its contacts


def test_postal_address_goes_to_the_primary_contact(org):
    a = services.account_create(
        actor=org.rep1,
        data={"name": "明达贸易", "province": "北京", "city": "北京市", "address": "长安街1号"},
    )
    services.contact_create(actor=org.rep1, data={"name": "张三"}, account=a)
    services.contact_create(
        actor=org.rep1, data={"name": "李四"}, account=a, job_title="经理", is_primary=True
    )
    [address] = selectors.account_addresses(user=org.rep1, accounts=[a])
    assert (address.name, address.title, address.company) == ("李四", "经理", "明达贸易")
    assert address.lines == ["长安街1号"] and address.city == "北京市"
