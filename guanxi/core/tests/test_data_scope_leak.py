"""The data-scope leak test.

For every owned model, records are created owned by users in different departments, one is
shared, one has a team member, and one is in nobody's hands (a pool record). Then every
API list / detail / update / delete and every HTML list / detail is called as each role, and
must return exactly the records the rule allows: visible ones 200, invisible ones 404 (never
403), writes refused with 403 where the record is visible but not editable.

The expected sets below are written out by hand from the rule in SPEC §1, not computed with
`visible_to`, so a bug in the scope filter cannot hide itself.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from rest_framework.test import APIClient

from guanxi.core.api.registry import registered_viewsets
from guanxi.core.models import ShareAccess, TeamMember
from guanxi.core.selectors import owned_models
from guanxi.core.services.records import record_share
from guanxi.core.tests.leak import leak_maker, load_all_makers
from guanxi.core.views.registry import get_registration

pytestmark = pytest.mark.django_db

OWNERS = ["admin", "manager", "rep1", "rep2", "rep3", "finance", "read_only", "agent", None]
EVERYTHING = set(OWNERS)

# Who sees whose records (None = the unowned pool record).
VISIBLE = {
    "admin": EVERYTHING,  # administrator: all
    "finance": EVERYTHING,  # finance: all, read only
    "read_only": EVERYTHING,  # read-only: all, read only
    "manager": {"manager", "rep1", "rep2"},  # manages 华东销售部 (subtree + subordinates)
    "rep1": {"rep1", "rep3"},  # own + rep3's record shared with rep1 (read)
    "rep2": {"rep2", "rep3"},  # own + team member (read) on rep3's record
    "rep3": {"rep3"},
    "agent": {"agent", "rep3"},  # own + rep3's record shared with 服务部 (write)
}
EDITABLE = {
    "admin": EVERYTHING,
    "finance": set(),
    "read_only": set(),
    "manager": {"manager", "rep1", "rep2"},
    "rep1": {"rep1"},
    "rep2": {"rep2"},
    "rep3": {"rep3"},
    "agent": {"agent", "rep3"},
}
VIEWERS = list(VISIBLE)


def _label(model, owner):
    return f"leak-{model._meta.model_name}-{owner or 'pool'}"


@pytest.fixture
def scoped_records(org):
    load_all_makers()
    users = org.users()
    records = {}
    for model in owned_models():
        maker = leak_maker(model)
        assert maker is not None, f"{model._meta.label} has no leak-test maker"
        by_owner = {}
        for owner_name in OWNERS:
            owner = users[owner_name] if owner_name else None
            by_owner[owner_name] = maker(
                owner=owner, label=_label(model, owner_name), actor=owner or org.admin
            )
        rep3_record = by_owner["rep3"]
        record_share(instance=rep3_record, actor=org.rep3, user=org.rep1)
        record_share(
            instance=rep3_record, actor=org.rep3, department=org.service, access=ShareAccess.WRITE
        )
        TeamMember.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_id=rep3_record.pk,
            user=org.rep2,
        )
        records[model] = by_owner
    return records


def _api_prefix(model):
    for registration in registered_viewsets():
        queryset = getattr(registration.viewset, "queryset", None)
        viewset_model = getattr(registration.viewset, "model", None) or (
            queryset.model if queryset is not None else None
        )
        if viewset_model is model:
            return registration.prefix
    raise AssertionError(f"{model._meta.label} has no API endpoint")


def _api_client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _all_ids(client, url):
    ids, next_url = set(), f"{url}?page_size=500"
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.content
        ids |= {row["id"] for row in response.json()["results"]}
        next_url = response.json().get("next")
    return ids


def test_every_owned_model_is_covered(scoped_records):
    assert set(scoped_records) == set(owned_models())
    for model in owned_models():
        assert get_registration(model) is not None, f"{model._meta.label} has no list page"
        _api_prefix(model)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_api_list_and_detail_return_exactly_the_scope(viewer, org, scoped_records):
    client = _api_client(org.users()[viewer])
    for model, by_owner in scoped_records.items():
        url = f"/api/v1/{_api_prefix(model)}/"
        expected = {by_owner[name].pk for name in VISIBLE[viewer]}
        assert _all_ids(client, url) == expected, (model, viewer)
        for owner_name, record in by_owner.items():
            status = client.get(f"{url}{record.pk}/").status_code
            assert status == (200 if owner_name in VISIBLE[viewer] else 404), (
                model,
                viewer,
                owner_name,
                status,
            )


@pytest.mark.parametrize("viewer", VIEWERS)
def test_api_writes_obey_the_scope(viewer, org, scoped_records):
    client = _api_client(org.users()[viewer])
    for model, by_owner in scoped_records.items():
        url = f"/api/v1/{_api_prefix(model)}/"
        for owner_name, record in by_owner.items():
            record.refresh_from_db()
            response = client.patch(
                f"{url}{record.pk}/", {"version": record.version}, format="json"
            )
            if owner_name not in VISIBLE[viewer]:
                expected = 404
            elif owner_name in EDITABLE[viewer]:
                expected = 200
            else:
                expected = 403
            assert response.status_code == expected, (model, viewer, owner_name, response.json())
        # Deletes: invisible ones 404, visible-but-not-editable 403; nothing is deleted.
        for owner_name, record in by_owner.items():
            if owner_name in EDITABLE[viewer]:
                continue
            response = client.delete(f"{url}{record.pk}/")
            expected = 404 if owner_name not in VISIBLE[viewer] else 403
            assert response.status_code == expected, (model, viewer, owner_name)
            assert model.objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("viewer", VIEWERS)
def test_html_list_and_detail_return_exactly_the_scope(viewer, client, org, scoped_records):
    client.force_login(org.users()[viewer])
    for model, by_owner in scoped_records.items():
        registration = get_registration(model)
        html = client.get(registration.url("list"), {"per_page": 100}).content.decode()
        for owner_name, record in by_owner.items():
            shown = _label(model, owner_name) in html
            assert shown == (owner_name in VISIBLE[viewer]), (model, viewer, owner_name)
            status = client.get(registration.url("detail", record.pk)).status_code
            assert status == (200 if owner_name in VISIBLE[viewer] else 404), (
                model,
                viewer,
                owner_name,
            )
