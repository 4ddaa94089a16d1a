"""List APIs read rows the cheap way and answer exactly what DRF would.

`FastReadSerializerMixin` reads column and id fields straight off the instance, and
`prefetch_links` loads a page's links with one query per target model."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.fields import Field
from rest_framework.relations import RelatedField
from rest_framework.test import APIRequestFactory

from guanxi.core.api.base import OwnedRecordSerializer, OwnedRecordViewSet, prefetch_links
from guanxi.core.api.registry import registered_viewsets
from guanxi.core.api.testing import api_client
from guanxi.core.tests.factories import picklist_option as option
from guanxi.core.tests.leak import leak_maker, load_all_makers
from guanxi.customers.api import AccountSerializer
from guanxi.customers.models import Account
from guanxi.customers.services import account_create
from guanxi.customers.tests.factories import classified_account

pytestmark = pytest.mark.django_db


def full_account(org):
    parent = account_create(actor=org.rep1, data={"name": "集团总部"})
    return classified_account(
        actor=org.rep1,
        name="深圳南方电子有限公司",
        account_manager=org.rep2,
        credit_rating=option("credit_rating", "a"),
        parent=parent,
        phone="0755-8888 6666",
        annual_revenue="1200000.50",
        employees=80,
    )


def serializer_context(user):
    request = APIRequestFactory().get("/")
    request.user = user
    return {"request": request}


def owned_serializers():
    """(model, serializer class) of every owned-record API resource."""
    found = {}
    for registration in registered_viewsets():
        viewset = registration.viewset
        if issubclass(viewset, OwnedRecordViewSet) and issubclass(
            viewset.serializer_class, OwnedRecordSerializer
        ):
            found[viewset.model] = viewset.serializer_class
    return sorted(found.items(), key=lambda item: item[0]._meta.label)


def test_every_owned_resource_reads_exactly_what_drf_reads(org):
    load_all_makers()
    checked = []
    for model, serializer_class in owned_serializers():
        maker = leak_maker(model)
        assert maker is not None, model
        record = maker(owner=org.rep1, label=f"fast-{model._meta.model_name}", actor=org.rep1)
        record = model.objects.get(pk=record.pk)
        serializer = serializer_class(context=serializer_context(org.admin))
        ours = OwnedRecordSerializer.to_representation(serializer, record)
        drf = serializers.Serializer.to_representation(serializer, record)
        assert ours == drf, model
        checked.append(model._meta.label)
    assert "customers.Account" in checked and "sales.Opportunity" in checked


def test_a_full_account_reads_the_same_both_ways(org):
    account = Account.objects.get(pk=full_account(org).pk)
    serializer = AccountSerializer(context=serializer_context(org.admin))
    ours = OwnedRecordSerializer.to_representation(serializer, account)
    assert ours == serializers.Serializer.to_representation(serializer, account)
    assert ours["industry"] == option("industry", "it").pk
    assert ours["parent"] == account.parent_id
    assert ours["account_manager_name"] == str(org.rep2)
    assert ours["annual_revenue"] == "1200000.50"
    assert ours["membership_level"] is None


def test_columns_and_ids_skip_drfs_generic_read(org, monkeypatch):
    account = Account.objects.get(pk=full_account(org).pk)
    generic_reads = []

    def counting(original):
        def get_attribute(field, instance):
            generic_reads.append(field.field_name)
            return original(field, instance)

        return get_attribute

    monkeypatch.setattr(Field, "get_attribute", counting(Field.get_attribute))
    monkeypatch.setattr(RelatedField, "get_attribute", counting(RelatedField.get_attribute))
    data = AccountSerializer(account, context=serializer_context(org.admin)).data

    assert data["name"] == "深圳南方电子有限公司" and data["owner"] == org.rep1.pk
    # Only what is not a column of the account goes DRF's way: a dotted source or a method.
    assert sorted(generic_reads) == sorted(
        [
            "owner_name",
            "industry_label",
            "source_label",
            "status_label",
            "credit_rating_label",
            "level_label",
        ]
    )


def test_the_account_list_reads_the_picklist_options_once(org):
    for _ in range(3):
        full_account(org)
    client = api_client(org.rep1)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/accounts/")
    assert response.status_code == 200
    option_reads = [q["sql"] for q in captured if 'FROM "core_picklistoption"' in q["sql"]]
    assert len(option_reads) == 1, option_reads
    rows = {row["name"]: row for row in response.json()["results"]}
    row = rows["深圳南方电子有限公司"]
    assert row["industry_label"] == option("industry", "it").label
    assert row["status_label"] == option("account_status", "deal").label
    assert row["source_label"] is None and rows["集团总部"]["industry_label"] is None


def test_prefetch_links_sets_missing_links_to_none_and_leaves_reverse_links_to_django(org):
    with_industry = full_account(org)
    bare = account_create(actor=org.rep1, data={"name": "无行业客户"})
    records = list(Account.objects.filter(pk__in=[with_industry.pk, bare.pk]).order_by("pk"))
    industry, level = option("industry", "it"), option("customer_level", "key")
    with CaptureQueriesContext(connection) as captured:
        prefetch_links(records, ["industry", "level", "children"])
    assert len(captured) == 2  # the options once, the child accounts once
    with CaptureQueriesContext(connection) as after:
        assert records[0].industry == industry and records[0].level == level
        assert records[1].industry is None
        assert list(records[1].children.all()) == []
    assert len(after) == 0


def test_a_list_without_filter_parameters_builds_no_filterset(org, monkeypatch):
    from guanxi.customers.api import AccountFilter

    full_account(org)
    account_create(actor=org.rep1, data={"name": "零售客户"})
    built = []
    original = AccountFilter.__init__

    def counting_init(self, *args, **kwargs):
        built.append(kwargs.get("data"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(AccountFilter, "__init__", counting_init)
    client = api_client(org.rep1)

    everything = client.get("/api/v1/accounts/?ordering=name&page_size=10")
    assert everything.status_code == 200 and len(everything.json()["results"]) == 3
    assert built == []

    it = option("industry", "it").pk
    filtered = client.get(f"/api/v1/accounts/?industry={it}")
    assert [row["name"] for row in filtered.json()["results"]] == ["深圳南方电子有限公司"]
    assert len(built) == 1
    after = client.get("/api/v1/accounts/?created_after=2020-01-01T00:00:00Z")
    assert len(after.json()["results"]) == 3
    assert client.get("/api/v1/accounts/?industry=abc").status_code == 400
