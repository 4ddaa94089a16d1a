"""The account pages: the generic record views as registered for Account."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from guanxi.core.models import (
    Attachment,
    ChangeAction,
    ChangeRecord,
    CustomFieldType,
    PicklistOption,
    RecordShare,
    SavedView,
)
from guanxi.core.services.configuration import custom_field_create
from guanxi.core.services.records import record_create, record_update
from guanxi.core.tests.factories import picklist_option as option
from guanxi.customers.models import Account

pytestmark = pytest.mark.django_db

LIST = reverse("customers:account_list")
CREATE = reverse("customers:account_create")


def detail_url(account):
    return reverse("customers:account_detail", args=[account.pk])


def make(owner, name, custom_data=None, **data):
    return record_create(
        model=Account, data={"name": name, **data}, custom_data=custom_data, actor=owner
    )


@pytest.fixture
def en(org):
    """Everybody reads the pages in English, so assertions do not depend on the catalogue."""
    for user in org.users().values():
        user.language = "en"
        user.save(update_fields=["language"])
    return org


def industry(value):
    return PicklistOption.objects.get(picklist__code="industry", value=value)


# --- List ------------------------------------------------------------------------------------
def test_list_shows_only_records_in_the_users_scope(client, en):
    make(en.rep1, "Rep1 Trading")
    make(en.rep3, "Rep3 Northern")
    client.force_login(en.rep1)
    response = client.get(LIST)
    assert response.status_code == 200
    names = [row["record"].name for row in response.context["rows"]]
    assert names == ["Rep1 Trading"]
    assert b"Rep3 Northern" not in response.content

    client.force_login(en.manager)  # manages east: sees rep1's, not north's rep3
    names = [row["record"].name for row in client.get(LIST).context["rows"]]
    assert names == ["Rep1 Trading"]


def _list_queries(client, django_assert_max_num_queries, count, limit):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(LIST)
    assert response.status_code == 200
    assert len(response.context["rows"]) == count
    return len(captured.captured_queries)


def test_list_query_count_is_bounded_and_does_not_grow_with_rows(
    client, en, django_assert_max_num_queries
):
    custom_field_create(
        actor=en.admin,
        model=Account,
        key="region",
        label_zh="区域",
        label_en="Region",
        field_type=CustomFieldType.TEXT,
        show_in_list=True,
    )
    for index in range(5):
        make(en.rep1, f"Few {index}", industry=industry("it"), custom_data={"region": "east"})
    client.force_login(en.rep1)
    client.get(LIST)  # warm the per-process caches (content types) first
    few = _list_queries(client, django_assert_max_num_queries, 5, 30)
    for index in range(35):
        make(en.rep1, f"Many {index}", industry=industry("retail"), custom_data={"region": "x"})
    client.get(LIST, {"per_page": 50})
    with django_assert_max_num_queries(few) as captured:
        response = client.get(LIST, {"per_page": 50})
    assert len(response.context["rows"]) == 40
    assert len(captured.captured_queries) <= few
    assert "Region" in [str(column.label) for column in response.context["columns"]]


def test_sorting_is_whitelisted(client, en):
    for name in ["Beta", "Alpha", "Gamma"]:
        make(en.rep1, name)
    client.force_login(en.rep1)

    def names(**params):
        return [row["record"].name for row in client.get(LIST, params).context["rows"]]

    assert names(sort="name") == ["Alpha", "Beta", "Gamma"]
    assert names(sort="-name") == ["Gamma", "Beta", "Alpha"]
    # Not a sortable column: the default order (newest first) is used, nothing breaks.
    assert names(sort="custom_data") == ["Gamma", "Alpha", "Beta"]
    assert names(sort="phone") == ["Gamma", "Alpha", "Beta"]


def test_filters_and_quick_search(client, en):
    make(en.rep1, "华东制造", industry=industry("manufacturing"), phone="13800000001")
    make(en.rep1, "Person One", kind=Account.Kind.INDIVIDUAL, phone="13900000002")
    make(en.rep1, "Retail Shop", industry=industry("retail"))
    client.force_login(en.rep1)

    def names(**params):
        return sorted(row["record"].name for row in client.get(LIST, params).context["rows"])

    assert names(kind="individual") == ["Person One"]
    assert names(industry=industry("retail").pk) == ["Retail Shop"]
    assert names(owner=en.rep1.pk) == ["Person One", "Retail Shop", "华东制造"]
    assert names(owner=en.rep3.pk) == []
    assert names(q="华东") == ["华东制造"]
    assert names(q="139") == ["Person One"]
    assert names(q="Shop") == []  # prefix search, not substring
    today = datetime.date.today()
    assert len(names(created_at_after=today.isoformat())) == 3
    tomorrow = today + datetime.timedelta(days=1)
    assert names(created_at_after=tomorrow.isoformat()) == []


def test_next_page_link_only_when_there_are_more_rows(client, en):
    for index in range(25):
        make(en.rep1, f"Account {index:02d}")
    client.force_login(en.rep1)
    response = client.get(LIST)
    assert response.context["has_next"] is False
    assert b'rel="next"' not in response.content

    make(en.rep1, "Account 25")
    response = client.get(LIST)
    assert response.context["has_next"] is True
    assert b'rel="next"' in response.content
    second = client.get(LIST, {"page": 2})
    assert [row["record"].name for row in second.context["rows"]] == ["Account 00"]
    assert second.context["has_next"] is False
    assert second.context["has_previous"] is True
    bigger = client.get(LIST, {"per_page": 50})
    assert len(bigger.context["rows"]) == 26
    assert bigger.context["has_next"] is False


def test_htmx_list_request_returns_only_the_table(client, en):
    make(en.rep1, "Partial Co")
    client.force_login(en.rep1)
    response = client.get(
        LIST, {"sort": "name"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-results"
    )
    assert response.status_code == 200
    assert b"Partial Co" in response.content
    assert b"<html" not in response.content
    assert b'id="record-table"' in response.content


def test_empty_state_offers_the_create_button(client, en):
    client.force_login(en.rep1)
    response = client.get(LIST)
    assert b"No accounts yet" in response.content
    assert CREATE.encode() in response.content


def test_list_refused_with_a_friendly_page_without_view_permission(client, en):
    role = en.agent.roles.get()
    role.permissions = {"customers.account": []}
    role.save()
    client.force_login(en.agent)
    response = client.get(LIST)
    assert response.status_code == 403
    assert b'id="forbidden"' in response.content


# --- Create / edit ---------------------------------------------------------------------------
def test_create_through_the_form_audits_and_redirects(client, en):
    client.force_login(en.rep1)
    response = client.post(
        CREATE,
        {
            "name": "New Co",
            "kind": "company",
            "industry": industry("it").pk,
            "phone": "021-62881234",
        },
    )
    account = Account.objects.get(name="New Co")
    assert response.status_code == 302
    assert response["Location"] == detail_url(account)
    assert account.owner == en.rep1
    assert account.industry.value == "it"
    record = ChangeRecord.objects.get(
        content_type=ContentType.objects.get_for_model(Account),
        object_id=account.pk,
        action=ChangeAction.CREATE,
    )
    assert record.actor == en.rep1
    assert record.after["name"] == "New Co"


def test_create_with_htmx_answers_with_hx_redirect(client, en):
    client.force_login(en.rep1)
    response = client.post(CREATE, {"name": "Htmx Co", "kind": "company"}, HTTP_HX_REQUEST="true")
    account = Account.objects.get(name="Htmx Co")
    assert response["HX-Redirect"] == detail_url(account)


def test_invalid_input_re_renders_with_the_error_and_creates_nothing(client, en):
    client.force_login(en.rep1)
    response = client.post(CREATE, {"name": "", "kind": "company", "email": "not-an-email"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "name" in form.errors
    assert "email" in form.errors
    assert Account.objects.count() == 0
    assert b"invalid-feedback" in response.content


def test_custom_fields_are_typed_and_required_in_the_form(client, en):
    custom_field_create(
        actor=en.admin,
        model=Account,
        key="employees",
        label_zh="员工数",
        label_en="Employees",
        field_type=CustomFieldType.INTEGER,
        required=True,
    )
    custom_field_create(
        actor=en.admin,
        model=Account,
        key="tier",
        label_zh="级别",
        label_en="Tier",
        field_type=CustomFieldType.CHOICE,
        choices=["a", "b"],
    )
    client.force_login(en.rep1)
    page = client.get(CREATE)
    assert "cf_employees" in page.context["form"].fields

    missing = client.post(CREATE, {"name": "Acme", "kind": "company"})
    assert "cf_employees" in missing.context["form"].errors
    wrong = client.post(CREATE, {"name": "Acme", "kind": "company", "cf_employees": "many"})
    assert "cf_employees" in wrong.context["form"].errors
    bad_choice = client.post(
        CREATE, {"name": "Acme", "kind": "company", "cf_employees": "5", "cf_tier": "z"}
    )
    assert "cf_tier" in bad_choice.context["form"].errors
    assert Account.objects.count() == 0

    client.post(CREATE, {"name": "Acme", "kind": "company", "cf_employees": "12", "cf_tier": "b"})
    account = Account.objects.get(name="Acme")
    assert account.custom_data == {"employees": 12, "tier": "b"}


def test_service_errors_on_custom_fields_land_on_the_field(client, en):
    field = custom_field_create(
        actor=en.admin,
        model=Account,
        key="code",
        label_zh="编码",
        label_en="Code",
        field_type=CustomFieldType.TEXT,
    )
    client.force_login(en.rep1)
    # The form is built before the field becomes required: the service still refuses.
    from guanxi.core.forms.generic import apply_service_errors
    from guanxi.customers.forms import AccountForm

    form = AccountForm({"name": "X", "kind": "company"}, custom_fields=[field])
    assert form.is_valid()
    from django.core.exceptions import ValidationError

    apply_service_errors(form, ValidationError({"custom.code": ["This field is required."]}))
    assert form.errors["cf_code"] == ["This field is required."]


def test_edit_with_a_stale_version_shows_the_conflict_and_changes_nothing(client, en):
    account = make(en.rep1, "Original")
    stale = account.version
    record_update(instance=account, data={"phone": "123"}, actor=en.rep2)  # someone else saved
    client.force_login(en.rep1)
    url = reverse("customers:account_edit", args=[account.pk])
    response = client.post(url, {"name": "Mine", "kind": "company", "version": stale})
    assert response.status_code == 200
    assert "changed by someone else" in " ".join(response.context["form"].non_field_errors())
    assert response.context["form"]["name"].value() == "Mine"  # the user's input is kept
    account.refresh_from_db()
    assert account.name == "Original"
    assert account.phone == "123"


def test_edit_saves_and_detail_shows_the_history(client, en):
    account = make(en.rep1, "Before", industry=industry("it"))
    client.force_login(en.rep1)
    url = reverse("customers:account_edit", args=[account.pk])
    page = client.get(url)
    assert page.context["form"]["version"].value() == account.version
    response = client.post(
        url,
        {
            "name": "After",
            "kind": "company",
            "industry": industry("retail").pk,
            "version": account.version,
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "After"

    detail = client.get(detail_url(account))
    html = detail.content.decode()
    assert "changed name from Before to After" in html
    assert "changed industry from Information technology to Retail" in html


def test_inline_validation_shows_errors_without_saving(client, en):
    client.force_login(en.rep1)
    response = client.post(
        reverse("customers:account_validate"),
        {"name": "Valid", "kind": "company", "email": "nope"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="record-form",
        HTTP_HX_TRIGGER_NAME="email",
    )
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="record-form"' in response.content
    assert b"invalid-feedback" in response.content
    assert Account.objects.count() == 0


def test_picklist_select_lists_active_options_in_order(client, en):
    retired = industry("other")
    retired.is_active = False
    retired.save()
    client.force_login(en.rep1)
    choices = list(client.get(CREATE).context["form"].fields["industry"].queryset)
    assert retired not in choices
    assert [option.sort_order for option in choices] == sorted(o.sort_order for o in choices)


# --- Detail / permissions --------------------------------------------------------------------
def test_detail_is_404_for_another_reps_account(client, en):
    other = make(en.rep3, "North Only")
    client.force_login(en.rep1)
    assert client.get(detail_url(other)).status_code == 404
    assert client.get(reverse("customers:account_edit", args=[other.pk])).status_code == 404
    assert client.post(reverse("customers:account_delete", args=[other.pk])).status_code == 404


def test_visible_but_not_editable_answers_403(client, en):
    account = make(en.rep1, "Read Me")
    client.force_login(en.read_only)
    detail = client.get(detail_url(account))
    assert detail.status_code == 200
    assert detail.context["can_edit"] is False
    assert detail.context["can_delete"] is False
    response = client.get(reverse("customers:account_edit", args=[account.pk]))
    assert response.status_code == 403
    assert client.get(CREATE).status_code == 403


def test_detail_actions_follow_permissions(client, en):
    account = make(en.rep1, "Mine")
    client.force_login(en.rep1)
    context = client.get(detail_url(account)).context
    assert context["can_edit"] and context["can_delete"] and context["can_share"]
    assert context["can_assign"] is False  # sales reps may not assign
    client.force_login(en.manager)
    assert client.get(detail_url(account)).context["can_assign"] is True


# --- Delete / assign -------------------------------------------------------------------------
def test_delete_confirm_get_does_nothing_and_post_soft_deletes(client, en):
    account = make(en.rep1, "Doomed")
    client.force_login(en.rep1)
    url = reverse("customers:account_delete", args=[account.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert Account.objects.filter(pk=account.pk).exists()
    response = client.post(url, {"version": account.version})
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not Account.objects.filter(pk=account.pk).exists()
    assert Account.all_objects.get(pk=account.pk).is_deleted is True


def test_assign_view_changes_owner_with_reason(client, en):
    account = make(en.rep1, "Handover")
    client.force_login(en.rep1)
    assert client.get(reverse("customers:account_assign", args=[account.pk])).status_code == 403
    client.force_login(en.manager)
    response = client.post(
        reverse("customers:account_assign", args=[account.pk]),
        {"owner": en.rep2.pk, "reason": "Holiday", "version": account.version},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.owner == en.rep2
    change = ChangeRecord.objects.get(
        content_type=ContentType.objects.get_for_model(Account),
        object_id=account.pk,
        action=ChangeAction.ASSIGN,
    )
    assert change.message == "Holiday"


# --- Bulk actions ----------------------------------------------------------------------------
def test_bulk_assign_only_affects_editable_records(client, en):
    east = make(en.rep1, "East Co")
    north = make(en.rep3, "North Co")
    client.force_login(en.manager)
    response = client.post(
        reverse("customers:account_bulk"),
        {"action": "assign", "pk": [east.pk, north.pk], "owner": en.rep2.pk, "reason": "x"},
    )
    assert response.status_code == 302
    east.refresh_from_db()
    north.refresh_from_db()
    assert east.owner == en.rep2
    assert north.owner == en.rep3
    texts = [str(message) for message in response.wsgi_request._messages]
    assert "1 record(s) changed." in texts
    assert any("skipped" in text for text in texts)


def test_bulk_assign_needs_the_assign_permission(client, en):
    account = make(en.rep1, "Mine")
    client.force_login(en.rep1)
    response = client.post(
        reverse("customers:account_bulk"),
        {"action": "assign", "pk": [account.pk], "owner": en.rep2.pk},
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.owner == en.rep1


def test_bulk_edit_one_field_and_bulk_delete(client, en):
    first = make(en.rep1, "First")
    second = make(en.rep1, "Second")
    client.force_login(en.rep1)
    client.post(
        reverse("customers:account_bulk"),
        {
            "action": "edit",
            "pk": [first.pk, second.pk],
            "field": "industry",
            "bulk_industry": industry("finance").pk,
        },
    )
    assert set(Account.objects.values_list("industry__value", flat=True)) == {"finance"}
    updates = ChangeRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(Account), action=ChangeAction.UPDATE
    )
    assert updates.count() == 2

    client.post(reverse("customers:account_bulk"), {"action": "delete", "pk": [first.pk]})
    assert list(Account.objects.values_list("name", flat=True)) == ["Second"]


def test_bulk_edit_offers_and_accepts_only_the_fields_own_picklist(client, en):
    account = make(en.rep1, "First")
    client.force_login(en.rep1)
    page = client.get(reverse("customers:account_list"))
    # The first page offers the fields; their value inputs come when the bar is used.
    assert ("status", "status") in [
        (name, str(label)) for name, label in page.context["bulk_form"].fields["field"].choices
    ]
    assert "bulk_status" not in page.context["bulk_form"].fields
    panel = client.get(reverse("customers:account_list"), {"_panel": "bulk"})
    choices = panel.context["bulk_form"].fields["bulk_status"].choices
    offered = {value.value for value, _label in choices if value}
    assert offered and offered == set(
        PicklistOption.objects.filter(picklist__code="account_status").values_list("pk", flat=True)
    )
    response = client.post(
        reverse("customers:account_bulk"),
        {
            "action": "edit",
            "pk": [account.pk],
            "field": "status",
            "bulk_status": industry("finance").pk,  # an industry is no status
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.status is None or account.status.picklist.code == "account_status"
    assert account.status_id != industry("finance").pk
    assert any("valid choice" in str(message) for message in response.wsgi_request._messages), [
        str(m) for m in response.wsgi_request._messages
    ]


# --- Saved views -----------------------------------------------------------------------------
def test_saved_view_save_apply_default_and_delete(client, en):
    make(en.rep1, "Person", kind=Account.Kind.INDIVIDUAL)
    make(en.rep1, "Company")
    client.force_login(en.rep1)
    response = client.post(
        reverse("customers:account_view_save"),
        {
            "name": "People",
            "query_string": "kind=individual&col=name&col=phone&page=3",
            "is_default": "on",
        },
    )
    view = SavedView.objects.get(user=en.rep1, name="People")
    assert view.query_string == "kind=individual&col=name&col=phone"
    assert view.columns == ["name", "phone"]
    assert response.status_code == 302
    applied = client.get(response["Location"])
    assert [row["record"].name for row in applied.context["rows"]] == ["Person"]
    assert applied.context["chosen_columns"] == ["name", "phone"]
    assert applied.context["active_view_id"] == view.pk

    # The default view opens when the list is opened bare; ?clear=1 shows everything.
    assert [row["record"].name for row in client.get(LIST).context["rows"]] == ["Person"]
    assert len(client.get(LIST, {"clear": 1}).context["rows"]) == 2

    # Nobody else can delete it.
    client.force_login(en.rep2)
    delete_url = reverse("customers:account_view_delete", args=[view.pk])
    assert client.post(delete_url).status_code == 404
    assert client.get(LIST).context["saved_views"] == []
    client.force_login(en.rep1)
    client.post(delete_url)
    assert not SavedView.objects.filter(pk=view.pk).exists()


# --- Attachments and shares ------------------------------------------------------------------
@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_attachment_upload_and_download(client, en, media):
    account = make(en.rep1, "With File")
    client.force_login(en.rep1)
    upload = SimpleUploadedFile("报价.txt", "价格表".encode(), content_type="text/plain")
    response = client.post(
        reverse("customers:account_attachment_upload", args=[account.pk]), {"file": upload}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get(object_id=account.pk)
    assert attachment.content_type == ContentType.objects.get_for_model(Account)
    download = reverse("customers:account_attachment_download", args=[account.pk, attachment.pk])
    assert download.encode() in client.get(detail_url(account)).content
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == "价格表".encode()
    assert "attachment" in response["Content-Disposition"]

    client.force_login(en.rep3)  # cannot see the account, so not its files either
    assert client.get(download).status_code == 404
    other = make(en.rep3, "Other")
    wrong_record = reverse("customers:account_attachment_download", args=[other.pk, attachment.pk])
    assert client.get(wrong_record).status_code == 404


def test_refused_attachment_shows_the_error(client, en, media):
    account = make(en.rep1, "No Scripts")
    client.force_login(en.rep1)
    upload = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(
        reverse("customers:account_attachment_upload", args=[account.pk]), {"file": upload}
    )
    assert response.status_code == 400
    assert response.context["attachment_form"].errors["file"]
    assert not Attachment.objects.exists()


def test_share_form_grants_access_and_unshare_removes_it(client, en):
    account = make(en.rep1, "Shared Co")
    client.force_login(en.rep3)
    assert client.get(detail_url(account)).status_code == 404

    client.force_login(en.rep1)
    response = client.post(
        reverse("customers:account_share", args=[account.pk]),
        {"user": en.rep3.pk, "access": "read"},
    )
    assert response.status_code == 302
    share = RecordShare.objects.get(object_id=account.pk)

    client.force_login(en.rep3)
    detail = client.get(detail_url(account))
    assert detail.status_code == 200
    assert detail.context["can_edit"] is False
    # rep3 may read, not re-share
    assert (
        client.post(
            reverse("customers:account_share", args=[account.pk]),
            {"user": en.rep2.pk, "access": "read"},
        ).status_code
        == 403
    )

    client.force_login(en.rep1)
    client.post(reverse("customers:account_unshare", args=[account.pk, share.pk]))
    client.force_login(en.rep3)
    assert client.get(detail_url(account)).status_code == 404


def test_share_form_needs_a_target(client, en):
    account = make(en.rep1, "Nobody")
    client.force_login(en.rep1)
    response = client.post(
        reverse("customers:account_share", args=[account.pk]), {"access": "read"}
    )
    assert response.status_code == 400
    assert response.context["share_form"].non_field_errors()
    assert not RecordShare.objects.exists()


# --- The full form through the customers services -------------------------------------------


def test_form_saves_every_field_through_the_services(client, en):
    parent = make(en.rep1, "Group HQ")
    client.force_login(en.rep1)
    page = client.get(CREATE)
    titles = [str(group["title"]) for group in page.context["form"].fieldsets()]
    assert titles[:5] == [
        "Basic information",
        "Classification",
        "Region and address",
        "Finance",
        "Notes",
    ]
    response = client.post(
        CREATE,
        {
            "name": "上海华东机械有限公司",
            "kind": "company",
            "phone": "+86 138-0013-8000",
            "email": "Sales@Example.COM",
            "website": "example.com",
            "account_manager": en.rep2.pk,
            "parent": parent.pk,
            "industry": industry("manufacturing").pk,
            "source": option(
                "source", PicklistOption.objects.filter(picklist__code="source").first().value
            ).pk,
            "status": option("account_status", "following").pk,
            "lifecycle_stage": "active",
            "credit_rating": option("credit_rating", "aa").pk,
            "level": option("customer_level", "key").pk,
            "province": "上海市",
            "city": "上海市",
            "district": "浦东新区",
            "address": "世纪大道 100 号",
            "postcode": "200120",
            "tax_number": "91310000MA1K000000",
            "invoice_title": "上海华东机械有限公司",
            "annual_revenue": "1200000.50",
            "currency": "cny",
            "employees": "250",
            "notes": "Key prospect",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    account = Account.objects.get(name="上海华东机械有限公司")
    assert account.phone == "138 0013 8000"  # normalised by account_create
    assert account.phone_digits == "13800138000"
    assert account.email == "Sales@example.com"
    assert account.website == "https://example.com"
    assert account.account_manager == en.rep2
    assert account.parent == parent
    assert account.status.value == "following"
    assert account.lifecycle_stage == "active"
    assert account.credit_rating.value == "aa"
    assert account.level.value == "key"
    assert (account.province, account.city, account.district) == ("上海市", "上海市", "浦东新区")
    assert account.postcode == "200120"
    assert account.tax_number == "91310000MA1K000000"
    assert str(account.annual_revenue) == "1200000.50"
    assert account.currency == "CNY"
    assert account.employees == 250
    assert account.notes == "Key prospect"
    # The duplicate keys come from the service, so a phone search finds it.
    from guanxi.customers.models import DuplicateKey

    assert DuplicateKey.objects.filter(object_id=account.pk).exists()


def test_service_validation_lands_on_the_phone_field(client, en):
    client.force_login(en.rep1)
    response = client.post(CREATE, {"name": "Bad Phone", "kind": "company", "phone": "12"})
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert not Account.objects.filter(name="Bad Phone").exists()


def test_city_must_belong_to_the_province(client, en):
    client.force_login(en.rep1)
    response = client.post(
        CREATE, {"name": "Wrong City", "kind": "company", "province": "北京市", "city": "广州市"}
    )
    assert "city" in response.context["form"].errors
    # A bound province offers its own cities.
    choices = [value for value, _label in response.context["form"].fields["city"].choices]
    assert "北京市" in choices and "广州市" not in choices
    ok = client.post(
        CREATE, {"name": "Right City", "kind": "company", "province": "广东省", "city": "广州市"}
    )
    assert ok.status_code == 302
    assert Account.objects.get(name="Right City").city == "广州市"


def test_parent_chooser_only_offers_visible_accounts(client, en):
    mine = make(en.rep1, "Mine Parent")
    theirs = make(en.rep3, "North Parent")
    client.force_login(en.rep1)
    response = client.post(CREATE, {"name": "Child", "kind": "company", "parent": theirs.pk})
    assert "parent" in response.context["form"].errors
    assert not Account.objects.filter(name="Child").exists()
    # The select renders the chosen account only, never the whole table.
    page = client.get(CREATE)
    assert b"Mine Parent" not in page.content
    lookup = client.get(reverse("customers:account_lookup"), {"account_lookup": "M"})
    assert b"Mine Parent" in lookup.content
    assert (
        client.get(reverse("customers:account_lookup"), {"q": "North"}).content.count(b"<option")
        == 1
    )  # only the empty choice
    child = make(en.rep1, "Child Co")
    edit = client.get(reverse("customers:account_edit", args=[child.pk]))
    assert edit.status_code == 200
    response = client.post(
        reverse("customers:account_edit", args=[child.pk]),
        {"name": "Child Co", "kind": "company", "parent": mine.pk, "version": child.version},
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.parent == mine
    page = client.get(reverse("customers:account_edit", args=[child.pk]))
    assert b"Mine Parent" in page.content  # the chosen parent is rendered


def test_account_cannot_become_its_own_ancestor(client, en):
    top = make(en.rep1, "Top")
    below = make(en.rep1, "Below", parent=top)
    client.force_login(en.rep1)
    response = client.post(
        reverse("customers:account_edit", args=[top.pk]),
        {"name": "Top", "kind": "company", "parent": below.pk, "version": top.version},
    )
    assert "parent" in response.context["form"].errors


def test_individual_account_form_edits_its_person(client, en):
    client.force_login(en.rep1)
    client.post(
        CREATE,
        {"name": "张伟", "kind": "individual", "phone": "13912345678", "email": "zw@example.com"},
    )
    account = Account.objects.get(name="张伟")
    person = account.person
    assert person is not None and person.name == "张伟"
    assert list(person.phones.values_list("digits", flat=True)) == ["13912345678"]
    response = client.post(
        reverse("customers:account_edit", args=[account.pk]),
        {
            "name": "张伟明",
            "kind": "individual",
            "phone": "13700000000",
            "email": "zwm@example.com",
            "version": account.version,
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.name == "张伟明"
    assert list(person.phones.values_list("digits", flat=True)) == ["13700000000"]
    assert list(person.emails.values_list("address", flat=True)) == ["zwm@example.com"]


def test_lifecycle_change_from_the_form_is_on_the_timeline(client, en):
    account = make(en.rep1, "Stage Co")
    client.force_login(en.rep1)
    client.post(
        reverse("customers:account_edit", args=[account.pk]),
        {
            "name": "Stage Co",
            "kind": "company",
            "lifecycle_stage": "active",
            "version": account.version,
        },
    )
    html = client.get(detail_url(account)).content.decode()
    assert "Lifecycle stage changed from Prospect to Active customer." in html


def test_delete_and_assign_use_the_customers_services(client, en):
    from guanxi.customers.services import account_contact_link, contact_create

    account = make(en.rep1, "Linked")
    contact = contact_create(actor=en.rep1, data={"name": "Li Lei"})
    link = account_contact_link(account=account, contact=contact, actor=en.rep1)
    client.force_login(en.manager)
    client.post(
        reverse("customers:account_assign", args=[account.pk]),
        {"owner": en.rep2.pk, "reason": "Rebalance", "version": account.version},
    )
    link.refresh_from_db()
    assert link.owner == en.rep2  # account_assign moves the contact links along
    account.refresh_from_db()
    client.post(
        reverse("customers:account_delete", args=[account.pk]), {"version": account.version}
    )
    from guanxi.customers.models import AccountContact

    assert not AccountContact.objects.filter(pk=link.pk).exists()  # account_delete unlinks


def test_the_list_reads_its_rows_without_joins_and_each_lookup_table_once(client, en):
    """The page's statement joins nothing (PostgreSQL plans joins to lookup tables for
    longer than it runs the page); owners, departments and picklist values come with one
    query per table and still show."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make(en.rep1, "Joinless One", industry=industry("it"))
    make(en.rep1, "Joinless Two", industry=industry("retail"))
    make(en.rep1, "Joinless Three")
    client.force_login(en.rep1)
    client.get(LIST)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST)
    page = response.content.decode()
    assert "Joinless Three" in page
    assert industry("it").label in page and industry("retail").label in page
    assert en.rep1.display_name in page
    statements = [query["sql"] for query in captured]
    rows = [sql for sql in statements if 'FROM "customers_account"' in sql]
    assert rows and not [sql for sql in rows if " JOIN " in sql]
    options = [sql for sql in statements if 'FROM "core_picklistoption"' in sql]
    assert len(options) == 1  # industry, status and level together
