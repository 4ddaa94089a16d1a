"""The generic record views' machinery: registration, columns, forms, history, bulk.

Accounts are the first registered model, so the tests drive the machinery through them
(looked up by label, so core does not import a higher app).
"""

import dataclasses
import datetime
import decimal

import pytest
from django import forms
from django.apps import apps
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from guanxi.core.forms.generic import (
    RecordForm,
    apply_service_errors,
    custom_form_field,
    custom_json,
)
from guanxi.core.models import (
    ChangeAction,
    ChangeRecord,
    CustomField,
    CustomFieldType,
    PicklistOption,
    SavedView,
)
from guanxi.core.services.configuration import custom_field_create
from guanxi.core.services.records import record_create, record_update
from guanxi.core.services.saved_views import clean_query_string, saved_view_save
from guanxi.core.views import registry
from guanxi.core.views.generic import RecordBulkView, describe_changes
from guanxi.core.views.registry import Column, format_value, get_registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def account_model():
    return apps.get_model("customers", "Account")


@pytest.fixture
def reg(account_model):
    registration = get_registration(account_model)
    assert registration is not None, "customers registers Account with the generic views"
    return registration


def make(model, owner, name, custom_data=None, **data):
    return record_create(
        model=model, data={"name": name, **data}, custom_data=custom_data, actor=owner
    )


def industry(value):
    return PicklistOption.objects.get(picklist__code="industry", value=value)


# --- Registration ----------------------------------------------------------------------------
def test_registration_defaults_and_url_names(reg, account_model):
    assert reg.label == "customers.account"
    assert reg.url_name("list") == "customers:account_list"
    assert reg.url("list") == "/customers/accounts/"
    assert reg.url("detail", 7) == "/customers/accounts/7/"
    assert reg.template_names("list") == ["customers/account_list.html", "core/generic/list.html"]
    assert callable(reg.create) and callable(reg.update)
    assert callable(reg.delete) and callable(reg.assign)


def test_register_refuses_a_registration_of_another_model(reg):
    from guanxi.core.models import Tag

    with pytest.raises(ValueError):
        registry.register_model_views(Tag, reg)


def test_columns_resolve_choices_relations_and_callables(org, account_model):
    account = make(account_model, org.rep1, "Acme", kind="individual", industry=industry("retail"))
    assert Column("kind", "type").value(account) == "Individual"
    assert str(Column("industry", "industry").value(account)) == str(industry("retail"))
    assert Column("owner.department", "dept").value(account) == org.east
    assert Column("x", "x", accessor=lambda record: record.name.upper()).value(account) == "ACME"
    assert Column("name", "name", sortable=True).order_by == "name"
    assert Column("name", "name").order_by is None


@translation.override("en")
def test_format_value():
    assert format_value(None) == "—"
    assert format_value("") == "—"
    assert format_value(True) == "Yes"
    assert format_value(["a", "b"]) == "a, b"
    assert format_value(datetime.date(2025, 1, 2)) == "2025-01-02"
    assert format_value(decimal.Decimal("1.50")) == "1.50"


def test_custom_fields_shown_in_lists_become_columns(org, reg, account_model):
    custom_field_create(
        actor=org.admin,
        model=account_model,
        key="region",
        label_zh="区域",
        label_en="Region",
        field_type=CustomFieldType.CHOICE,
        choices=[{"value": "e", "label_zh": "华东", "label_en": "East"}],
        show_in_list=True,
    )
    custom_field_create(
        actor=org.admin,
        model=account_model,
        key="hidden",
        label_zh="隐藏",
        label_en="Hidden",
        field_type=CustomFieldType.TEXT,
    )
    fields = list(CustomField.objects.all())
    names = [column.name for column in reg.all_columns(fields)]
    assert "cf_region" in names
    assert "cf_hidden" not in names
    account = make(account_model, org.rep1, "Acme", custom_data={"region": "e"})
    column = next(column for column in reg.all_columns(fields) if column.name == "cf_region")
    assert column.value(account) == "East"  # tests run in English


def test_user_custom_column_looks_users_up_once(org, reg, account_model, django_assert_num_queries):
    field = custom_field_create(
        actor=org.admin,
        model=account_model,
        key="helper",
        label_zh="协助人",
        label_en="Helper",
        field_type=CustomFieldType.USER,
        show_in_list=True,
    )
    records = [
        make(account_model, org.rep1, f"A{index}", custom_data={"helper": org.rep2.pk})
        for index in range(5)
    ]
    column = next(column for column in reg.all_columns([field]) if column.name == "cf_helper")
    with django_assert_num_queries(1):
        column.prepare(records)
        values = [column.value(record) for record in records]
    assert values == [org.rep2] * 5


def test_related_list_hooks_render_on_the_detail_page(client, org, reg, account_model):
    parent = make(account_model, org.rep1, "Parent")
    make(account_model, org.rep1, "Sibling")

    def siblings(record, user):
        queryset = account_model.objects.visible_to(user).exclude(pk=record.pk)
        return "Siblings", queryset, [Column("name", "name")]

    registry.register_related_list(account_model, siblings)
    try:
        client.force_login(org.rep1)
        response = client.get(reg.url("detail", parent.pk))
        related = response.context["related"]
        assert [section["title"] for section in related] == ["Siblings"]
        assert related[0]["rows"] == [["Sibling"]]
    finally:
        registry._related_hooks[reg.label].remove(siblings)


# --- Forms -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field_type", "form_class", "raw", "stored"),
    [
        (CustomFieldType.TEXT, forms.CharField, "hello", "hello"),
        (CustomFieldType.LONG_TEXT, forms.CharField, "a\nb", "a\nb"),
        (CustomFieldType.INTEGER, forms.IntegerField, "42", 42),
        (CustomFieldType.DECIMAL, forms.DecimalField, "1.5", "1.5"),
        (CustomFieldType.MONEY, forms.DecimalField, "9.99", "9.99"),
        (CustomFieldType.DATE, forms.DateField, "2025-03-01", "2025-03-01"),
        (CustomFieldType.BOOLEAN, forms.TypedChoiceField, "true", True),
        (CustomFieldType.CHOICE, forms.ChoiceField, "b", "b"),
        (CustomFieldType.MULTI_CHOICE, forms.MultipleChoiceField, ["a", "b"], ["a", "b"]),
    ],
)
def test_custom_form_fields_are_typed(field_type, form_class, raw, stored):
    field = CustomField(
        key="k", label_zh="k", label_en="k", field_type=field_type, choices=["a", "b"]
    )
    form_field = custom_form_field(field)
    assert isinstance(form_field, form_class)
    assert custom_json(form_field.clean(raw)) == stored


def test_custom_form_field_rejects_bad_input_and_honours_required():
    integer = custom_form_field(
        CustomField(key="n", label_zh="n", label_en="n", field_type="integer", required=True)
    )
    with pytest.raises(ValidationError):
        integer.clean("twelve")
    with pytest.raises(ValidationError):
        integer.clean("")
    optional = custom_form_field(
        CustomField(key="n", label_zh="n", label_en="n", field_type="date", required=False)
    )
    assert custom_json(optional.clean("")) is None


def test_user_custom_field_stores_the_user_id(org):
    form_field = custom_form_field(
        CustomField(key="u", label_zh="u", label_en="u", field_type=CustomFieldType.USER)
    )
    assert custom_json(form_field.clean(str(org.rep2.pk))) == org.rep2.pk


def test_record_form_does_not_touch_the_instance_before_the_service(org, reg, account_model):
    account = make(account_model, org.rep1, "Untouched")
    form = reg.form_class(
        {"name": "Changed", "kind": "company", "version": account.version},
        instance=account,
        with_version=True,
        custom_fields=[],
    )
    assert isinstance(form, RecordForm)
    assert form.is_valid(), form.errors
    assert account.name == "Untouched"  # the service snapshots it before applying changes
    assert form.model_data()["name"] == "Changed"
    assert "version" not in form.model_data()


def test_apply_service_errors_maps_fields_custom_fields_and_the_rest(reg):
    field = CustomField(key="code", label_zh="c", label_en="c", field_type="text")
    form = reg.form_class({"name": "X", "kind": "company"}, custom_fields=[field])
    assert form.is_valid()
    apply_service_errors(
        form,
        ValidationError(
            {
                "name": ["Taken."],
                "custom.code": ["Required."],
                "owner": ["Not active."],
                "__all__": ["Whole record."],
            }
        ),
    )
    assert form.errors["name"] == ["Taken."]
    assert form.errors["cf_code"] == ["Required."]
    assert "Whole record." in form.non_field_errors()
    assert "owner: Not active." in form.non_field_errors()


# --- History ---------------------------------------------------------------------------------
def test_describe_changes_uses_names_labels_and_few_queries(
    org, account_model, django_assert_max_num_queries
):
    field = custom_field_create(
        actor=org.admin,
        model=account_model,
        key="tier",
        label_zh="级别",
        label_en="Tier",
        field_type=CustomFieldType.CHOICE,
        choices=[{"value": "a", "label": "Gold"}, {"value": "b", "label": "Silver"}],
    )
    account = make(
        account_model, org.rep1, "Old", industry=industry("it"), custom_data={"tier": "a"}
    )
    record_update(
        instance=account,
        data={"name": "New", "kind": "individual", "industry": industry("retail")},
        custom_data={"tier": "b"},
        actor=org.rep1,
    )
    changes = list(ChangeRecord.objects.filter(object_id=account.pk, action=ChangeAction.UPDATE))
    with django_assert_max_num_queries(1), translation.override("en"):
        described = describe_changes(account_model, changes, [field])
    lines = {line["label"]: (line["old"], line["new"]) for line in described[changes[0].pk]}
    assert lines["name"] == ("Old", "New")
    assert lines["type"] == ("Company", "Individual")
    assert lines["industry"] == ("Information technology", "Retail")
    assert lines["Tier"] == ("Gold", "Silver")


# --- Saved views -----------------------------------------------------------------------------
def test_clean_query_string_drops_page_and_empty_params():
    assert clean_query_string("?q=&page=2&kind=company&view=3") == "kind=company"


def test_saved_view_same_name_overwrites_and_one_default(org):
    first = saved_view_save(
        user=org.rep1,
        model_label="customers.account",
        name="Mine",
        query_string="kind=company",
        columns=[],
        is_default=True,
    )
    saved_view_save(
        user=org.rep1,
        model_label="customers.account",
        name="Mine",
        query_string="kind=individual",
        columns=["name"],
        is_default=True,
    )
    other = saved_view_save(
        user=org.rep1,
        model_label="customers.account",
        name="Other",
        query_string="",
        columns=[],
        is_default=True,
    )
    first.refresh_from_db()
    assert first.query_string == "kind=individual"
    assert first.columns == ["name"]
    assert SavedView.objects.filter(user=org.rep1).count() == 2
    assert list(SavedView.objects.filter(is_default=True)) == [other]
    with pytest.raises(ValidationError):
        saved_view_save(
            user=org.rep1, model_label="customers.account", name=" ", query_string="", columns=[]
        )


# --- Bulk actions are all-or-nothing ---------------------------------------------------------
def test_bulk_action_rolls_back_every_record_when_one_fails(org, reg, account_model):
    first = make(account_model, org.rep1, "First")
    second = make(account_model, org.rep1, "Second")

    def failing_update(*, instance, data, custom_data, actor, version):
        if instance.pk == second.pk:
            raise ValidationError({"industry": ["Not for this one."]})
        return reg.update(
            instance=instance, data=data, custom_data=custom_data, actor=actor, version=version
        )

    failing = dataclasses.replace(reg, update=failing_update)
    request = RequestFactory().post(
        reverse("customers:account_bulk"),
        {
            "action": "edit",
            "pk": [first.pk, second.pk],
            "field": "industry",
            "bulk_industry": industry("finance").pk,
        },
    )
    request.user = org.rep1
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    response = RecordBulkView.as_view(registration=failing)(request)
    assert response.status_code == 302
    assert not account_model.objects.filter(industry__value="finance").exists()
    assert any("Nothing was changed" in str(message) for message in request._messages)


@pytest.mark.parametrize(
    ("post", "get", "expected"),
    [
        ({"next": "/customers/accounts/?page=2"}, {}, "/customers/accounts/?page=2"),
        ({}, {"next": "/leads/"}, "/leads/"),
        ({"next": "https://evil.example/"}, {}, "/home/"),
        ({"next": "//evil.example/"}, {}, "/home/"),
        ({}, {}, "/home/"),
    ],
)
def test_safe_next_url_stays_on_the_site(rf, post, get, expected):
    from guanxi.core.views.generic import safe_next_url

    request = rf.post("/x/?" + "&".join(f"{k}={v}" for k, v in get.items()), post)
    assert safe_next_url(request, "/home/") == expected


def test_record_rows_escape_texts_link_the_first_column_and_offer_selection():
    from types import SimpleNamespace

    from django.utils.safestring import mark_safe

    from guanxi.core.templatetags.generic_tags import record_rows

    name = SimpleNamespace(link=True)
    badge = SimpleNamespace(link=False)
    rows = [
        {
            "record": SimpleNamespace(pk=7),
            "url": "/customers/accounts/7/",
            "cells": [(name, "<b>A&B</b>"), (badge, mark_safe('<span class="badge">VIP</span>'))],
        }
    ]
    assert str(record_rows(rows, None)) == (
        '<tr><td><a href="/customers/accounts/7/">&lt;b&gt;A&amp;B&lt;/b&gt;</a></td>'
        '<td><span class="badge">VIP</span></td></tr>'
    )
    selectable = str(record_rows(rows, object()))
    assert selectable.startswith(
        '<tr><td><input class="form-check-input" type="checkbox" name="pk" value="7"'
        ' form="bulk-form" aria-label="Select"></td>'
    )


def test_record_url_maker_matches_reverse():
    from guanxi.core.views.registry import get_registration
    from guanxi.customers.models import Account

    registration = get_registration(Account)
    make = registration.record_url_maker("detail")
    assert make(42) == registration.url("detail", 42) == "/customers/accounts/42/"


def test_describe_changes_reads_only_the_related_records_it_is_not_given(
    org, account_model, django_assert_num_queries
):
    it, retail = industry("it"), industry("retail")
    account = make(account_model, org.rep1, "Known", industry=it)
    record_update(instance=account, data={"industry": retail}, actor=org.rep1)
    changes = list(ChangeRecord.objects.filter(object_id=account.pk, action=ChangeAction.UPDATE))
    with django_assert_num_queries(0), translation.override("en"):
        described = describe_changes(account_model, changes, [], known=[it, retail])
    lines = {line["label"]: (line["old"], line["new"]) for line in described[changes[0].pk]}
    assert lines["industry"] == ("Information technology", "Retail")
    with django_assert_num_queries(1), translation.override("en"):
        described = describe_changes(account_model, changes, [], known=[retail])
    lines = {line["label"]: (line["old"], line["new"]) for line in described[changes[0].pk]}
    assert lines["industry"] == ("Information technology", "Retail")
