"""Duplicate warnings before saving, the live check, the administrator's scan, the merge bulk
action and the import's duplicate matching."""

import dataclasses

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from guanxi.core.imports import services as imports
from guanxi.core.models import ImportStatus
from guanxi.core.views.generic import RecordCreateView
from guanxi.core.views.registry import FormWarning, get_registration
from guanxi.customers import services
from guanxi.customers.models import Account, DuplicatePair, DuplicateScan

pytestmark = pytest.mark.django_db

CREATE = reverse("customers:account_create")
CHECK = reverse("customers:duplicate_check")
SCANS = reverse("customers:duplicate_scans")


@pytest.fixture
def en(org):
    for user in org.users().values():
        user.language = "en"
        user.save(update_fields=["language"])
    return org


def account(owner, name, **data):
    return services.account_create(actor=owner, data={"name": name, **data})


def detail_url(record):
    return reverse("customers:account_detail", args=[record.pk])


# --- The generic hook ------------------------------------------------------------------------
def _create_request(user, data):
    request = RequestFactory().post(CREATE, data)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_generic_create_shows_the_hooks_warnings_and_saves_only_when_confirmed(en):
    calls = []

    def warn(*, request, form, instance):
        calls.append((form.cleaned_data["name"], instance))
        return [
            FormWarning(message="Careful:", url="/somewhere/", link_text="Other", details=["x"])
        ]

    reg = dataclasses.replace(get_registration(Account), pre_save_warnings=warn)
    view = RecordCreateView.as_view(registration=reg)

    response = view(_create_request(en.rep1, {"name": "Hook Co", "kind": "company"}))
    response.render()
    html = response.content.decode()
    assert response.status_code == 200
    assert calls == [("Hook Co", None)]
    assert "Careful:" in html and 'href="/somewhere/"' in html and "Other" in html
    assert 'name="confirm_warnings" value="1"' in html
    assert not Account.objects.filter(name="Hook Co").exists()

    data = {"name": "Hook Co", "kind": "company", "confirm_warnings": "1"}
    response = view(_create_request(en.rep1, data))
    assert response.status_code == 302
    assert Account.objects.filter(name="Hook Co").exists()
    assert len(calls) == 1  # confirmed: the hook is not asked again


def test_generic_create_without_warnings_saves_at_once(en):
    reg = dataclasses.replace(get_registration(Account), pre_save_warnings=lambda **kwargs: [])
    response = RecordCreateView.as_view(registration=reg)(
        _create_request(en.rep1, {"name": "Quiet Co", "kind": "company"})
    )
    assert response.status_code == 302
    assert Account.objects.filter(name="Quiet Co").exists()


# --- Accounts: warnings before saving --------------------------------------------------------
def test_similar_name_warns_and_saves_nothing_until_confirmed(client, en):
    existing = account(en.rep1, "北京明达贸易有限公司")
    client.force_login(en.rep1)
    response = client.post(CREATE, {"name": "明达贸易", "kind": "company"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Possible duplicate" in html
    assert "北京明达贸易有限公司" in html and detail_url(existing) in html
    assert "Save anyway" in html
    assert not Account.objects.filter(name="明达贸易").exists()

    response = client.post(CREATE, {"name": "明达贸易", "kind": "company", "confirm_warnings": "1"})
    created = Account.objects.get(name="明达贸易")
    assert response.status_code == 302 and response["Location"] == detail_url(created)


def test_same_phone_warns(client, en):
    account(en.rep1, "Alpha Trading", phone="13812345678")
    client.force_login(en.rep1)
    response = client.post(CREATE, {"name": "Zeta", "kind": "company", "phone": "138-1234-5678"})
    assert response.status_code == 200
    assert "Alpha Trading" in response.content.decode()
    assert not Account.objects.filter(name="Zeta").exists()


def test_invisible_duplicate_shows_its_owner_only(client, en):
    hidden = account(en.rep3, "上海明达贸易有限公司")
    client.force_login(en.rep1)
    response = client.post(CREATE, {"name": "明达贸易", "kind": "company"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f"A duplicate exists, owned by {en.rep3}" in html
    assert "上海明达贸易有限公司" not in html
    assert detail_url(hidden) not in html


def test_no_warning_without_a_duplicate(client, en):
    account(en.rep1, "华夏银行股份有限公司")
    client.force_login(en.rep1)
    response = client.post(CREATE, {"name": "明达贸易", "kind": "company"})
    assert response.status_code == 302
    assert Account.objects.filter(name="明达贸易").exists()


def test_edit_warns_only_when_the_name_or_phone_changes(client, en):
    account(en.rep1, "北京明达贸易有限公司")
    mine = account(en.rep1, "完全无关公司")
    edit = reverse("customers:account_edit", args=[mine.pk])
    client.force_login(en.rep1)
    form = client.get(edit).context["form"]
    data = {
        name: value
        for name, value in ((name, form[name].value()) for name in form.fields)
        if value is not None
    }
    response = client.post(edit, {**data, "notes": "hello"})
    assert response.status_code == 302  # nothing identifying changed: no warning
    mine.refresh_from_db()
    assert mine.notes == "hello"
    response = client.post(edit, {**data, "version": mine.version, "name": "明达贸易"})
    assert response.status_code == 200
    assert "Possible duplicate" in response.content.decode()
    mine.refresh_from_db()
    assert mine.name == "完全无关公司"


# --- The live check --------------------------------------------------------------------------
def test_form_carries_the_live_check(client, en):
    client.force_login(en.rep1)
    html = client.get(CREATE).content.decode()
    assert 'id="duplicate-live-check"' in html
    assert f'hx-get="{CHECK}"' in html
    assert 'data-duplicate-check="1"' in html and 'hx-preserve="true"' in html


def test_live_check_lists_visible_and_invisible_duplicates(client, en):
    visible = account(en.rep1, "北京明达贸易有限公司")
    account(en.rep3, "明达贸易（上海）有限公司", phone="13912345678")
    client.force_login(en.rep1)
    html = client.get(CHECK, {"name": "明达贸易", "kind": "company"}).content.decode()
    assert "北京明达贸易有限公司" in html and detail_url(visible) in html
    assert f"A duplicate exists, owned by {en.rep3}" in html
    assert "明达贸易（上海）有限公司" not in html
    html = client.get(CHECK, {"name": "", "phone": "139 1234 5678"}).content.decode()
    assert "Same phone number" in html
    assert client.get(CHECK, {"name": "x"}).content.decode().strip() == ""


def test_live_check_excludes_the_record_being_edited(client, en):
    mine = account(en.rep1, "北京明达贸易有限公司")
    client.force_login(en.rep1)
    exclude = f"customers.account:{mine.pk}"
    html = client.get(CHECK, {"name": "明达贸易", "exclude": exclude}).content.decode()
    assert "北京明达贸易有限公司" not in html


def test_live_check_needs_a_signed_in_user(client, en):
    assert client.get(CHECK, {"name": "明达"}).status_code == 302


# --- The administrator's scan ----------------------------------------------------------------
def test_scan_pages_are_for_administrators_only(client, en):
    client.force_login(en.rep1)
    assert client.get(SCANS).status_code == 403
    assert client.post(SCANS, {"model": "customers.account"}).status_code == 403
    assert not DuplicateScan.objects.exists()


def test_scan_runs_and_lists_clusters_with_merge_links(
    client, en, django_capture_on_commit_callbacks
):
    a = account(en.rep1, "北京华为技术有限公司")
    b = account(en.rep3, "华为技术有限公司")
    c = account(en.rep1, "华为技术（深圳）有限公司")
    account(en.rep1, "完全无关公司")
    client.force_login(en.admin)
    assert client.get(SCANS).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SCANS, {"model": "customers.account"})
    scan = DuplicateScan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:duplicate_scan", args=[scan.pk])
    assert scan.status == DuplicateScan.Status.DONE and scan.pairs_found == 3

    response = client.get(response["Location"])
    assert response.status_code == 200
    [cluster] = response.context["clusters"]
    assert [record.pk for record in cluster.records] == sorted([a.pk, b.pk, c.pk])
    html = response.content.decode()
    ids = ",".join(str(pk) for pk in sorted([a.pk, b.pk, c.pk]))
    assert f"{reverse('customers:account_merge')}?ids={ids}" in html
    assert str(en.rep3) in html and detail_url(b) in html
    assert "every 1s" not in html  # done: no more polling
    assert client.get(SCANS).context["scans"][0].pk == scan.pk


def test_running_scan_polls_its_progress(client, en):
    scan = DuplicateScan.objects.create(
        model_label="customers.account",
        created_by=en.admin,
        status=DuplicateScan.Status.RUNNING,
        blocks_total=4,
        blocks_done=1,
    )
    url = reverse("customers:duplicate_scan", args=[scan.pk])
    client.force_login(en.admin)
    html = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in html and "25%" in html
    partial = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="scan-progress")
    body = partial.content.decode()
    assert "<html" not in body and 'id="scan-progress"' in body and "every 1s" in body


def test_scan_results_query_count_does_not_grow_with_pairs(
    client, en, django_assert_max_num_queries
):
    def scan_with(pairs: int) -> str:
        scan = DuplicateScan.objects.create(
            model_label="customers.account", created_by=en.admin, status="done"
        )
        for number in range(pairs):
            first = account(en.rep1 if number % 2 else en.rep3, f"甲{number}号公司")
            second = account(en.rep2, f"乙{number}号公司")
            DuplicatePair.objects.create(
                scan=scan, first_id=first.pk, second_id=second.pk, score=90, reasons=["x"]
            )
        return reverse("customers:duplicate_scan", args=[scan.pk])

    few, many = scan_with(2), scan_with(12)
    client.force_login(en.admin)
    client.get(few)
    with django_assert_max_num_queries(40) as captured:
        response = client.get(few)
    assert len(response.context["clusters"]) == 2
    with django_assert_max_num_queries(len(captured)):
        response = client.get(many)
    assert len(response.context["clusters"]) == 12


def test_scan_leaves_out_pairs_whose_record_was_merged_away(client, en):
    a = account(en.rep1, "甲公司")
    b = account(en.rep1, "乙公司")
    scan = DuplicateScan.objects.create(
        model_label="customers.account", created_by=en.admin, status="done"
    )
    DuplicatePair.objects.create(scan=scan, first_id=a.pk, second_id=b.pk, score=95)
    services.account_delete(account=b, actor=en.rep1)
    client.force_login(en.admin)
    response = client.get(reverse("customers:duplicate_scan", args=[scan.pk]))
    assert response.context["clusters"] == []
    assert "No duplicates found" in response.content.decode()


# --- The "Merge selected" bulk action --------------------------------------------------------
def test_list_offers_merge_selected_and_it_opens_the_merge_screen(client, en):
    a = account(en.rep1, "甲公司")
    b = account(en.rep1, "乙公司")
    client.force_login(en.rep1)
    response = client.get(reverse("customers:account_list"))
    choices = dict(response.context["bulk_form"].fields["action"].choices)
    assert "merge" in choices
    response = client.post(
        reverse("customers:account_bulk"), {"action": "merge", "pk": [a.pk, b.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('customers:account_merge')}?ids={a.pk},{b.pk}"
    response = client.post(reverse("customers:account_bulk"), {"action": "merge", "pk": [a.pk]})
    assert response["Location"] == reverse("customers:account_list")


def test_merge_bulk_action_is_not_offered_without_the_change_permission(client, en):
    account(en.rep1, "甲公司")
    client.force_login(en.read_only)
    response = client.get(reverse("customers:account_list"))
    bulk_form = response.context["bulk_form"]
    assert bulk_form is None or "merge" not in dict(bulk_form.fields["action"].choices)
    response = client.post(reverse("customers:account_bulk"), {"action": "merge", "pk": [1, 2]})
    assert response.status_code == 403


# --- Imports use the duplicate matching ------------------------------------------------------
def test_import_skips_rows_that_match_by_similar_name_or_e_mail(
    en, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    account(en.manager, "北京明达贸易有限公司")
    account(en.manager, "Acme Ltd", email="hello@acme.example")
    account(en.rep3, "上海远景科技有限公司")  # rep3's: out of the manager's sight
    text = (
        "客户名称,邮箱\n"
        "明达贸易,\n"  # similar name -> skipped
        "Totally Different,HELLO@acme.example\n"  # same e-mail -> skipped
        "远景科技,\n"  # its look-alike is invisible -> created
        "全新公司,\n"  # -> created
    )
    job = imports.import_job_upload(
        user=en.manager,
        model_label="customers.account",
        uploaded_file=SimpleUploadedFile("a.csv", text.encode(), content_type="text/csv"),
        policy="skip",
    )
    with django_capture_on_commit_callbacks(execute=True):
        imports.import_job_start(job=job, user=en.manager)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.skipped_count, job.failed_count) == (2, 2, 0)
    assert not Account.objects.filter(name__in=["明达贸易", "Totally Different"]).exists()
    assert Account.objects.filter(name="远景科技").exists()


# --- Contacts ----------------------------------------------------------------------------------
def test_contact_form_warns_about_a_contact_with_the_same_phone(client, en):
    from guanxi.customers.models import Contact

    services.contact_create(
        actor=en.rep1, data={"name": "张伟"}, phones=[{"number": "13812345678"}]
    )
    create = reverse("customers:contact_create")
    data = {
        "name": "王芳",
        "phones-value": ["138 1234 5678"],
        "phones-kind": ["mobile"],
        "phones-primary": "0",
    }
    client.force_login(en.rep1)
    html = client.get(create).content.decode()
    assert 'id="duplicate-live-check"' in html and "&quot;kind&quot;: &quot;person&quot;" in html
    response = client.post(create, data)
    assert response.status_code == 200
    assert "张伟" in response.content.decode()
    assert not Contact.objects.filter(name="王芳").exists()
    response = client.post(create, {**data, "confirm_warnings": "1"})
    assert response.status_code == 302
    assert Contact.objects.filter(name="王芳").exists()
