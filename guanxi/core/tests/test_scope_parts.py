"""`visible_in_parts`: the records a user may see, read part by part (`with_parts`) when the
user's roles give them their own records only; the same rows in the same order as
`visible_to`, page after page, ties included. Other users get the plain filter."""

import datetime

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.core.models import ShareAccess
from guanxi.core.scope import PartedQuerySetMixin, visible_in_parts
from guanxi.core.services.records import record_create, record_share
from guanxi.core.views.registry import get_registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def Account():
    return apps.get_model("customers", "Account")


@pytest.fixture
def accounts(org, Account):
    """rep1 owns 7 accounts; rep3 shares 4 of theirs with rep1 and keeps 3; creation times
    come in tied pairs across owners."""
    base = timezone.now() - datetime.timedelta(days=5)
    made = []
    for n in range(7):
        made.append(record_create(model=Account, data={"name": f"mine {n}"}, actor=org.rep1))
    for n in range(7):
        account = record_create(model=Account, data={"name": f"rep3 {n}"}, actor=org.rep3)
        if n % 2 == 0:
            record_share(instance=account, actor=org.rep3, user=org.rep1, access=ShareAccess.READ)
        made.append(account)
    for index, account in enumerate(made):
        stamp = base + datetime.timedelta(hours=(index * 5) % 7)
        Account.all_objects.filter(pk=account.pk).update(created_at=stamp)
    return org


def _plain(Account, user, order):
    return list(Account.objects.visible_to(user).order_by(*order).values_list("pk", flat=True))


@pytest.mark.parametrize("order", [("-created_at", "-pk"), ("name", "pk"), ("created_at", "pk")])
@pytest.mark.parametrize(("start", "stop"), [(0, 3), (0, 4), (3, 6), (4, 9), (9, 20), (10, 11)])
def test_slices_are_those_of_visible_to(accounts, Account, order, start, stop):
    user = accounts.rep1
    parted = visible_in_parts(Account.objects.all(), user).order_by(*order)
    assert isinstance(parted, PartedQuerySetMixin)
    assert len(parted._gx_parts) == 2  # own, the shared ids
    expected = _plain(Account, user, order)
    assert len(expected) == 11
    assert [account.pk for account in parted[start:stop]] == expected[start:stop]


def test_parts_are_read_separately_then_the_page_by_primary_key(accounts, Account):
    parted = visible_in_parts(Account.objects.all(), accounts.rep1).order_by("-created_at", "-pk")
    with CaptureQueriesContext(connection) as captured:
        rows = list(parted[2:6])
    assert len(rows) == 4
    assert len(captured) == 3
    where = captured[-1]["sql"].split(" WHERE ", 1)[1]
    assert "owner_id" not in where


def test_wider_scopes_and_administrators_get_the_plain_filter(accounts, Account):
    for user in (accounts.manager, accounts.admin):
        queryset = visible_in_parts(Account.objects.all(), user)
        assert not isinstance(queryset, PartedQuerySetMixin)
        assert list(queryset.order_by("pk").values_list("pk", flat=True)) == list(
            Account.objects.visible_to(user).order_by("pk").values_list("pk", flat=True)
        )


def test_inactive_users_see_nothing(accounts, Account):
    accounts.rep1.is_active = False
    assert not visible_in_parts(Account.objects.all(), accounts.rep1).exists()


def test_change_action_leaves_out_read_shares(accounts, Account):
    editable = visible_in_parts(Account.objects.all(), accounts.rep1, "change")
    assert set(editable.values_list("name", flat=True)) == {f"mine {n}" for n in range(7)}


def test_registration_list_queryset_follows_list_parts(accounts, Account, monkeypatch):
    registration = get_registration(Account)
    monkeypatch.setattr(registration, "list_parts", False)
    assert not isinstance(registration.list_queryset(accounts.rep1), PartedQuerySetMixin)
    monkeypatch.setattr(registration, "list_parts", True)
    parted = registration.list_queryset(accounts.rep1)
    assert isinstance(parted, PartedQuerySetMixin)
    order = ("-created_at", "-pk")
    assert [a.pk for a in parted.order_by(*order)[0:25]] == _plain(Account, accounts.rep1, order)


def test_bounded_count_reads_each_part_without_the_or(accounts, Account):
    from guanxi.core.selectors import bounded_count

    parted = visible_in_parts(Account.objects.all(), accounts.rep1)
    plain = Account.objects.visible_to(accounts.rep1)
    for cap in (3, 7, 11, 20):
        with CaptureQueriesContext(connection) as captured:
            found = bounded_count(parted, cap)
        assert found == bounded_count(plain, cap) == (min(11, cap), cap < 11)
        own_read = captured[0]["sql"]
        assert "owner_id" in own_read and " IN (" not in own_read  # not the shared ids too
