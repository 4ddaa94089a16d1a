"""The data-scope leak test for pool records (公海).

A pool record has no owner: only the members of the pool that holds it (directly or through a
member department containing theirs) and the roles that see everything (administrator,
finance, read-only) may see it. Nobody but the administrator changes or deletes it without
claiming it first; once claimed it is the claimer's like any other record.

For leads and accounts, one record sits in each of three pools: one whose only member is
rep2, one whose member department is 华北销售部 (rep3's), and one with no members at all.
Every role then calls the API list / detail / update / delete and the HTML list / detail /
edit. The expected sets are written out by hand, as in the main leak test.
"""

import pytest

from guanxi.core.tests.test_data_scope_leak import _all_ids, _api_client, _api_prefix
from guanxi.core.views.registry import get_registration
from guanxi.customers.models import Account
from guanxi.leads.models import Lead, PoolEntry
from guanxi.leads.tests.factories import make_pool, make_pool_account, make_pool_lead

pytestmark = pytest.mark.django_db

ROLES = ["admin", "manager", "rep1", "rep2", "rep3", "finance", "read_only", "agent"]
SEE_ALL = {"admin", "finance", "read_only"}
POOLS = ["members", "department", "nobody"]
# Who sees the record held by each pool.
VISIBLE = {
    "members": SEE_ALL | {"rep2"},
    "department": SEE_ALL | {"rep3"},
    "nobody": SEE_ALL,
}
MODELS = {Lead: ("leads", make_pool_lead), Account: ("accounts", make_pool_account)}


def _label(model, pool_key):
    return f"poolleak-{model._meta.model_name}-{pool_key}"


def _fresh(org, name):
    """The role's user read again: no roles or pool membership cached by an earlier call."""
    user = org.users()[name]
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def pool_records(org):
    records = {}
    for model, (kind, maker) in MODELS.items():
        pools = {
            "members": make_pool(kind=kind, name=f"{kind} rep2", members=[org.rep2]),
            "department": make_pool(
                kind=kind, name=f"{kind} north", member_departments=[org.north]
            ),
            "nobody": make_pool(kind=kind, name=f"{kind} nobody"),
        }
        records[model] = {
            key: maker(owner=None, label=_label(model, key), actor=org.admin, pool=pool)
            for key, pool in pools.items()
        }
        for key, record in records[model].items():
            assert record.owner_id is None
            assert PoolEntry.objects.filter(object_id=record.pk, pool=pools[key]).exists()
    return records


def _visible(viewer, pool_key):
    return viewer in VISIBLE[pool_key]


@pytest.mark.parametrize("viewer", ROLES)
def test_api_list_and_detail_show_pool_records_to_members_only(viewer, org, pool_records):
    client = _api_client(_fresh(org, viewer))
    for model, by_pool in pool_records.items():
        url = f"/api/v1/{_api_prefix(model)}/"
        listed = _all_ids(client, url)
        for pool_key, record in by_pool.items():
            assert (record.pk in listed) == _visible(viewer, pool_key), (model, viewer, pool_key)
            status = client.get(f"{url}{record.pk}/").status_code
            expected = 200 if _visible(viewer, pool_key) else 404
            assert status == expected, (model, viewer, pool_key, status)


@pytest.mark.parametrize("viewer", ROLES)
def test_api_writes_to_pool_records_need_a_claim(viewer, org, pool_records):
    client = _api_client(_fresh(org, viewer))
    for model, by_pool in pool_records.items():
        url = f"/api/v1/{_api_prefix(model)}/"
        for pool_key, record in by_pool.items():
            record.refresh_from_db()
            response = client.patch(
                f"{url}{record.pk}/", {"version": record.version}, format="json"
            )
            if not _visible(viewer, pool_key):
                expected = 404
            elif viewer == "admin":
                expected = 200  # the administrator's scope is everything
            else:
                expected = 403
            assert response.status_code == expected, (model, viewer, pool_key)
            if viewer == "admin":
                continue
            response = client.delete(f"{url}{record.pk}/")
            assert response.status_code == (403 if _visible(viewer, pool_key) else 404), (
                model,
                viewer,
                pool_key,
            )
            assert model.objects.filter(pk=record.pk, owner__isnull=True).exists()


@pytest.mark.parametrize("viewer", ROLES)
def test_html_list_detail_and_edit_show_pool_records_to_members_only(
    viewer, client, org, pool_records
):
    client.force_login(_fresh(org, viewer))
    for model, by_pool in pool_records.items():
        registration = get_registration(model)
        html = client.get(registration.url("list"), {"per_page": 100}).content.decode()
        for pool_key, record in by_pool.items():
            shown = _label(model, pool_key) in html
            assert shown == _visible(viewer, pool_key), (model, viewer, pool_key)
            status = client.get(registration.url("detail", record.pk)).status_code
            assert status == (200 if _visible(viewer, pool_key) else 404), (
                model,
                viewer,
                pool_key,
            )
            edit = client.get(registration.url("edit", record.pk)).status_code
            if not _visible(viewer, pool_key):
                assert edit == 404, (model, viewer, pool_key)
            elif viewer != "admin":
                assert edit == 403, (model, viewer, pool_key)


@pytest.mark.parametrize(("member", "pool_key"), [("rep2", "members"), ("rep3", "department")])
def test_a_member_edits_a_pool_record_once_claimed(member, pool_key, org, pool_records):
    user = _fresh(org, member)
    client = _api_client(user)
    for model, by_pool in pool_records.items():
        record = by_pool[pool_key]
        url = f"/api/v1/{_api_prefix(model)}/{record.pk}/"
        record.refresh_from_db()
        assert client.patch(url, {"version": record.version}, format="json").status_code == 403
        pool = PoolEntry.objects.get(
            object_id=record.pk, content_type__model=model._meta.model_name
        )
        response = client.post(
            f"/api/v1/pools/{pool.pool_id}/claim/",
            {"type": model._meta.model_name, "ids": [record.pk]},
            format="json",
        )
        assert response.json()["results"] == [{"id": record.pk, "ok": True, "error": ""}]
        record.refresh_from_db()
        assert record.owner == user
        response = client.patch(url, {"version": record.version}, format="json")
        assert response.status_code == 200, response.json()


def test_a_non_member_cannot_claim(org, pool_records):
    """rep1 belongs to no pool: the pools are not there for them, nor are the records."""
    client = _api_client(_fresh(org, "rep1"))
    for model, by_pool in pool_records.items():
        record = by_pool["members"]
        entry = PoolEntry.objects.get(
            object_id=record.pk, content_type__model=model._meta.model_name
        )
        response = client.post(
            f"/api/v1/pools/{entry.pool_id}/claim/",
            {"type": model._meta.model_name, "ids": [record.pk]},
            format="json",
        )
        assert response.status_code == 404
        record.refresh_from_db()
        assert record.owner_id is None
