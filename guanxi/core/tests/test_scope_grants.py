"""The shape of an own-scope user's filter: granted ids read first and inlined, so the list's
first page can read the (owner, created_at) index in order."""

import pytest
from django.apps import apps

from guanxi.core import scope
from guanxi.core.models import ShareAccess
from guanxi.core.services.records import record_create, record_share

pytestmark = pytest.mark.django_db


@pytest.fixture
def Account():
    return apps.get_model("customers", "Account")


def sql_of(queryset) -> str:
    return str(queryset.query).lower()


def test_own_scope_without_grants_is_a_plain_owner_filter(org, Account):
    record_create(model=Account, data={"name": "Mine"}, actor=org.rep3)
    sql = sql_of(Account.objects.visible_to(org.rep3))
    assert "core_recordshare" not in sql and "core_teammember" not in sql
    assert list(Account.objects.visible_to(org.rep3).values_list("name", flat=True)) == ["Mine"]


def test_own_scope_grants_are_inlined_ids(org, Account):
    mine = record_create(model=Account, data={"name": "Mine"}, actor=org.rep1)
    shared = record_create(model=Account, data={"name": "Shared"}, actor=org.rep3)
    record_create(model=Account, data={"name": "Other"}, actor=org.rep3)
    record_share(instance=shared, actor=org.rep3, user=org.rep1, access=ShareAccess.READ)

    visible = Account.objects.visible_to(org.rep1)
    assert "core_recordshare" not in sql_of(visible)  # the ids, not a subquery
    assert set(visible.values_list("pk", flat=True)) == {mine.pk, shared.pk}
    # A read share does not make the record editable.
    assert set(Account.objects.editable_by(org.rep1).values_list("pk", flat=True)) == {mine.pk}


def test_many_grants_fall_back_to_the_subquery(org, Account, monkeypatch):
    monkeypatch.setattr(scope, "GRANT_INLINE_LIMIT", 1)
    shared = [
        record_create(model=Account, data={"name": f"Shared {n}"}, actor=org.rep3) for n in range(2)
    ]
    for record in shared:
        record_share(instance=record, actor=org.rep3, user=org.rep1, access=ShareAccess.READ)
    visible = Account.objects.visible_to(org.rep1)
    assert "core_recordshare" in sql_of(visible)
    assert set(visible.values_list("pk", flat=True)) == {record.pk for record in shared}


def test_wider_scopes_keep_the_subquery(org, Account):
    # The manager's subtree scope reads created_at in order; the grants stay a subquery.
    shared = record_create(model=Account, data={"name": "North"}, actor=org.rep3)
    record_share(instance=shared, actor=org.rep3, user=org.manager, access=ShareAccess.READ)
    sql = sql_of(Account.objects.visible_to(org.manager))
    assert "core_recordshare" in sql and "core_teammember" in sql
    assert Account.objects.visible_to(org.manager).filter(pk=shared.pk).exists()


def test_no_share_or_team_subquery_for_a_model_without_grants(org, Account):
    """Nothing of this model is shared with the manager: the page's statement carries no
    share or team subqueries (a customer page asks for about ten models' scopes)."""
    sql = sql_of(Account.objects.visible_to(org.manager))
    assert "core_recordshare" not in sql and "core_teammember" not in sql
    assert sql_of(Account.objects.editable_by(org.manager)).count("core_recordshare") == 0


def test_a_new_share_is_seen_by_the_same_user_object(org, Account):
    shared = record_create(model=Account, data={"name": "Later"}, actor=org.rep3)
    assert not Account.objects.visible_to(org.rep1).filter(pk=shared.pk).exists()
    record_share(instance=shared, actor=org.rep3, user=org.rep1, access=ShareAccess.READ)
    assert Account.objects.visible_to(org.rep1).filter(pk=shared.pk).exists()
