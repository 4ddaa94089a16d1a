import datetime

import pytest
from django.utils import timezone

from guanxi.core.models import ShareAccess
from guanxi.core.services.records import record_create, record_share
from guanxi.customers.models import Account

pytestmark = pytest.mark.django_db


def make_accounts(org):
    return {
        name: record_create(model=Account, data={"name": f"{name} co"}, actor=user)
        for name, user in org.users().items()
    }


def visible(user):
    return set(Account.objects.visible_to(user).values_list("name", flat=True))


def test_rep_sees_only_own_records(org):
    make_accounts(org)
    assert visible(org.rep1) == {"rep1 co"}


def test_manager_sees_subordinates_in_managed_department(org):
    make_accounts(org)
    # sales_manager scope is the subtree of 华东销售部; subordinates come in through both rules.
    assert visible(org.manager) == {"manager co", "rep1 co", "rep2 co"}


def test_admin_and_finance_see_everything(org):
    make_accounts(org)
    everything = {f"{name} co" for name in org.users()}
    assert visible(org.admin) == everything
    assert visible(org.finance) == everything


def test_share_with_user_grants_read_not_write(org):
    accounts = make_accounts(org)
    record_share(instance=accounts["rep3"], actor=org.rep3, user=org.rep1)
    assert "rep3 co" in visible(org.rep1)
    assert not Account.objects.editable_by(org.rep1).filter(pk=accounts["rep3"].pk).exists()


def test_write_share_with_department_grants_edit(org):
    accounts = make_accounts(org)
    record_share(
        instance=accounts["rep3"], actor=org.rep3, department=org.east, access=ShareAccess.WRITE
    )
    assert Account.objects.editable_by(org.rep2).filter(pk=accounts["rep3"].pk).exists()


def test_expired_share_grants_nothing(org):
    accounts = make_accounts(org)
    share = record_share(
        instance=accounts["rep3"],
        actor=org.rep3,
        user=org.rep1,
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    share.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    share.save()
    assert "rep3 co" not in visible(org.rep1)


def test_deleted_records_are_invisible(org):
    from guanxi.core.services.records import record_delete

    accounts = make_accounts(org)
    record_delete(instance=accounts["rep1"], actor=org.rep1)
    assert visible(org.rep1) == set()


@pytest.mark.django_db
def test_a_department_subtree_is_read_once_per_user_object(org, django_assert_num_queries):
    """An account page checks the scope of a dozen models: the manager's subtree is read
    once, and again only when the user's department changes."""
    from guanxi.core.scope import subtree_department_ids

    first = subtree_department_ids(org.manager)
    assert org.east.pk in first
    with django_assert_num_queries(0):
        assert subtree_department_ids(org.manager) == first
    org.manager.department_id = org.north.pk
    moved = subtree_department_ids(org.manager)
    assert org.north.pk in moved and org.east.pk not in moved


def test_sharing_many_records_is_all_or_nothing(org):
    from django.core.exceptions import ValidationError

    from guanxi.core.models import RecordShare
    from guanxi.core.services.records import records_share

    accounts = make_accounts(org)
    mine = [accounts["rep3"], accounts["rep1"]]
    records_share(records=mine, actor=org.admin, user=org.rep2)
    assert {"rep3 co", "rep1 co"} <= visible(org.rep2)
    before = RecordShare.objects.count()
    with pytest.raises(ValidationError):
        records_share(
            records=mine,
            actor=org.admin,
            user=org.finance,
            expires_at=timezone.now() - datetime.timedelta(days=1),
        )
    assert RecordShare.objects.count() == before


def test_adding_tags_to_many_records_keeps_their_own(org):
    from guanxi.core.models import Tag
    from guanxi.core.services.configuration import record_tags_set, records_tags_add, tags_of

    accounts = make_accounts(org)
    vip, east, new = (Tag.objects.create(name=name) for name in ("VIP", "East", "New"))
    record_tags_set(record=accounts["rep1"], tags=[vip], actor=org.admin)
    records_tags_add(
        records=[accounts["rep1"], accounts["rep2"]], tags=[east, new], actor=org.admin
    )
    assert set(tags_of(accounts["rep1"]).values_list("name", flat=True)) == {"VIP", "East", "New"}
    assert set(tags_of(accounts["rep2"]).values_list("name", flat=True)) == {"East", "New"}


def test_record_editable_by_asks_once_per_record_and_user(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.core.scope import record_editable_by
    from guanxi.customers.services import account_create

    account = account_create(actor=org.rep1, data={"name": "可编辑客户"})
    with CaptureQueriesContext(connection) as captured:
        assert record_editable_by(account, org.rep1) is True
        assert record_editable_by(account, org.rep1) is True
        assert record_editable_by(account, org.rep2) is False
        assert record_editable_by(account, org.rep2) is False
        assert record_editable_by(account, org.read_only) is False  # sees all, changes none
    asked = [q for q in captured if 'AS "a" FROM "customers_account"' in q["sql"]]
    assert len(asked) == 2  # read_only's empty scope needs no query at all


def _fresh(user):
    from guanxi.core.models import User

    return User.objects.get(pk=user.pk)


def test_subordinates_follow_managed_subtrees_and_manager_chains_one_query_a_level(
    org, django_assert_num_queries
):
    """Everybody below: the managed department and the ones under it, then whoever those
    people manage, however deep; each level of the tree is one query."""
    from guanxi.core.scope import subordinate_ids

    director = _fresh(org.admin)
    org.division.manager = director
    org.division.save(update_fields=["manager"])
    # rep3 manages the outsider explicitly, across departments.
    org.agent.manager = org.rep3
    org.agent.save(update_fields=["manager"])

    rep1, rep3, director = _fresh(org.rep1), _fresh(org.rep3), _fresh(director)
    with django_assert_num_queries(1):  # nobody below: one look
        assert subordinate_ids(rep1) == set()
    with django_assert_num_queries(2):  # rep3's report, then nobody below them
        assert subordinate_ids(rep3) == {org.agent.pk}
    everybody_in_sales = {org.manager.pk, org.rep1.pk, org.rep2.pk, org.rep3.pk}
    # division (its subtree: east, north), then the agent under rep3, then nobody
    with django_assert_num_queries(3):
        assert subordinate_ids(director) == everybody_in_sales | {org.agent.pk}
    # The department manager is not their own subordinate, nor is anyone outside the tree.
    assert subordinate_ids(_fresh(org.manager)) == {org.rep1.pk, org.rep2.pk}
