"""Contact and account-contact imports and exports through the import engine."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from guanxi.core.imports import services
from guanxi.core.models import ImportJob, ImportStatus
from guanxi.customers.models import AccountContact, Contact, ContactPhone
from guanxi.customers.resources_contacts import split_phones
from guanxi.customers.services import account_create, contact_create

pytestmark = pytest.mark.django_db

HEADER = "姓名,职位,手机/电话,邮箱,微信,客户名称,角色\n"
ROWS = (
    "张伟,经理,13812345678/010-6512 3456,zhangwei@example.com,zw01,明达贸易,最终决策\n"
    "李娜,,12345,lina@example.com,,,\n"
    "王芳,,13900001111,wangfang@example.com,,,\n"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def reps_may_import(org):
    """Sales reps may not import or export by default; this office lets them."""
    for user in (org.rep1, org.rep2, org.rep3):
        for role in user.roles.all():
            role.permissions = {"*": ["view", "add", "change", "delete", "import", "export"]}
            role.save(update_fields=["permissions"])
        user.__dict__.pop("_guanxi_roles", None)


def csv_file(text: str, encoding: str = "utf-8", name: str = "contacts.csv"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def upload(user, uploaded, model_label="customers.contact", policy="skip"):
    return services.import_job_upload(
        user=user, model_label=model_label, uploaded_file=uploaded, policy=policy
    )


def run(job, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_start(job=job, user=user)
    job.refresh_from_db()
    return job


def test_split_phones_keeps_spaced_numbers_whole():
    assert split_phones("138 1234 5678, 010-6512 3456/13900001111 13900002222") == [
        "138 1234 5678",
        "010-6512 3456",
        "13900001111",
        "13900002222",
    ]


def test_chinese_headers_map_to_contact_fields(org):
    job = upload(org.rep1, csv_file(HEADER + ROWS))
    assert job.mapping == ["name", "title", "phones", "emails", "wechat", "account", "role"]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_dry_run_then_import_creates_contacts_with_phones_and_links(
    org, encoding, django_capture_on_commit_callbacks
):
    account = account_create(actor=org.rep1, data={"name": "明达贸易"})
    job = upload(org.rep1, csv_file(HEADER + ROWS, encoding=encoding))

    report = services.import_dry_run(job=job, user=org.rep1)
    assert (report.created, report.failed) == (2, 1)
    [problem] = report.problems
    assert (problem.line, problem.field) == (3, "phones")
    assert "12345" in problem.row and problem.reason
    assert not Contact.objects.filter(name="张伟").exists()  # a dry run writes nothing

    job = run(job, org.rep1, django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.failed_count) == (2, 1)
    assert job.row_errors.get().field == "phones"
    zhang = Contact.objects.get(name="张伟")
    assert zhang.owner == org.rep1 and zhang.title == "经理" and zhang.wechat == "zw01"
    assert sorted(zhang.phones.values_list("digits", flat=True)) == [
        "01065123456",
        "13812345678",
    ]
    assert list(zhang.emails.values_list("address", flat=True)) == ["zhangwei@example.com"]
    link = AccountContact.objects.get(contact=zhang)
    assert link.account == account and link.role.value == "decision_maker"
    assert link.job_title == "经理"
    assert not Contact.objects.filter(name="李娜").exists()
    wang = Contact.objects.get(name="王芳")
    assert not wang.links.exists()


def test_an_account_the_user_cannot_see_is_a_row_error(org, django_capture_on_commit_callbacks):
    account_create(actor=org.rep3, data={"name": "北方公司"})  # rep3's, north: not rep1's
    text = "姓名,手机,客户名称,角色\n赵六,13700001111,北方公司,User\n孙七,13700002222,,使用者\n"
    job = upload(org.rep1, csv_file(text))
    job = run(job, org.rep1, django_capture_on_commit_callbacks)
    reasons = {error.line: (error.field, error.reason) for error in job.row_errors.all()}
    assert reasons[2][0] == "account" and "北方公司" in reasons[2][1]
    assert reasons[3][0] == "account"  # a role without an account
    assert job.created_count == 0 and not Contact.objects.filter(name__in=["赵六", "孙七"]).exists()


def test_policy_skip_matches_any_phone_or_email_of_a_visible_contact(
    org, django_capture_on_commit_callbacks
):
    existing = contact_create(
        actor=org.rep1,
        data={"name": "张伟"},
        phones=[{"number": "13812345678"}, {"number": "13900009999"}],
    )
    contact_create(actor=org.rep3, data={"name": "北方"}, phones=[{"number": "13600001111"}])
    text = (
        "姓名,手机/电话,邮箱\n"
        "张伟（重复）,+86 139 0000 9999,\n"  # the existing contact's second phone
        "新人,13600001111,\n"  # rep3's contact: not in rep1's scope, so not a duplicate
        "又一个,13500001111;13500002222,a@x.cn\n"
        "同文件重复,13500002222,\n"  # duplicates the row before it
    )
    job = upload(org.rep1, csv_file(text))
    job = run(job, org.rep1, django_capture_on_commit_callbacks)
    assert (job.created_count, job.skipped_count, job.failed_count) == (2, 2, 0)
    assert job.imported_rows.get(line=2).object_id == existing.pk
    assert not Contact.objects.filter(name="张伟（重复）").exists()
    assert Contact.objects.filter(name="新人", owner=org.rep1).exists()
    assert not Contact.objects.filter(name="同文件重复").exists()


def test_policy_update_adds_phones_and_links(org, django_capture_on_commit_callbacks):
    account = account_create(actor=org.rep1, data={"name": "明达贸易"})
    existing = contact_create(
        actor=org.rep1, data={"name": "张伟"}, emails=[{"address": "zw@example.com"}]
    )
    text = "姓名,邮箱,手机,职位,客户名称\n张伟,ZW@example.com,13812345678,总监,明达贸易\n"
    job = upload(org.rep1, csv_file(text), policy="update")
    job = run(job, org.rep1, django_capture_on_commit_callbacks)
    assert job.updated_count == 1, list(job.row_errors.values_list("reason", flat=True))
    existing.refresh_from_db()
    assert existing.title == "总监"
    assert list(existing.phones.values_list("digits", flat=True)) == ["13812345678"]
    assert existing.emails.count() == 1
    assert AccountContact.objects.filter(account=account, contact=existing).exists()


def _export_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_export_obeys_the_scope_and_joins_phones(org):
    account = account_create(actor=org.rep1, data={"name": "明达贸易"})
    contact_create(
        actor=org.rep1,
        data={"name": "张伟"},
        phones=[{"number": "13812345678"}, {"number": "13900001111"}],
        emails=[{"address": "zw@example.com"}],
        account=account,
    )
    contact_create(actor=org.rep2, data={"name": "李娜"}, phones=[{"number": "13700001111"}])
    contact_create(actor=org.rep3, data={"name": "王芳"}, phones=[{"number": "13600001111"}])

    rows = _export_rows(services.export_queryset(user=org.rep1, model=Contact))
    header, body = rows[0], rows[1:]
    assert [row[header.index("Name")] for row in body] == ["张伟"]
    assert body[0][header.index("Phones")] == "138 1234 5678, 139 0000 1111"
    assert body[0][header.index("E-mails")] == "zw@example.com"
    assert body[0][header.index("Account")] == "明达贸易"

    names = {
        row[0] for row in _export_rows(services.export_queryset(user=org.admin, model=Contact))[1:]
    }
    assert names == {"张伟", "李娜", "王芳"}


def test_exported_contacts_import_back_as_duplicates(org, django_capture_on_commit_callbacks):
    contact_create(
        actor=org.rep1,
        data={"name": "张伟"},
        phones=[{"number": "13812345678"}, {"number": "13900001111"}],
    )
    rows = _export_rows(services.export_queryset(user=org.rep1, model=Contact))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    job = upload(org.rep1, csv_file(buffer.getvalue()))
    assert "phones" in job.mapping and "name" in job.mapping
    job = run(job, org.rep1, django_capture_on_commit_callbacks)
    assert (job.skipped_count, job.created_count, job.failed_count) == (1, 0, 0)


def test_contact_batch_costs_its_service_writes_plus_a_constant(org, settings):
    settings.GUANXI_IMPORT_BATCH_SIZE = 500
    account = account_create(actor=org.rep1, data={"name": "明达贸易"})
    with CaptureQueriesContext(connection) as single:
        contact_create(
            actor=org.rep1,
            data={"name": "Probe", "owner": org.rep1, "department_id": org.rep1.department_id},
            phones=[{"number": "13700000000"}, {"number": "13700000001"}],
            emails=[{"address": "probe@x.cn"}],
            account=account,
        )
    per_row = len(single)

    rows = 40
    text = "姓名,手机/电话,邮箱,客户名称,角色\n" + "".join(
        f"联系人{i},1380000{i:04d} 1390000{i:04d},c{i}@x.cn,明达贸易,影响决策\n"
        for i in range(rows)
    )
    job = upload(org.rep1, csv_file(text))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    with CaptureQueriesContext(connection) as whole:
        services.import_job_process(job.pk)
    job.refresh_from_db()
    assert job.created_count == rows, list(job.row_errors.values_list("reason", flat=True))
    assert ContactPhone.objects.filter(contact__name__startswith="联系人").count() == rows * 2
    assert len(whole) <= rows * per_row + 30, (len(whole), per_row)


# --- Links -------------------------------------------------------------------------------------
def test_links_import_by_names_and_phone(org, django_capture_on_commit_callbacks):
    mingda = account_create(actor=org.rep1, data={"name": "明达贸易"})
    hidden = account_create(actor=org.rep3, data={"name": "北方公司"})
    zhang = contact_create(
        actor=org.rep1, data={"name": "张伟"}, phones=[{"number": "13812345678"}]
    )
    contact_create(actor=org.rep1, data={"name": "张伟"}, phones=[{"number": "13900001111"}])
    li = contact_create(actor=org.rep1, data={"name": "李娜"})
    text = (
        "客户名称,联系人,联系人电话,角色,职位,主要联系人\n"
        f"明达贸易,张伟,138-1234-5678,最终决策,总经理,是\n"
        f"{mingda.pk},{li.pk},,Influencer,,否\n"
        "北方公司,李娜,,,,\n"  # not rep1's account
        "明达贸易,张伟,,,,\n"  # two contacts called 张伟 and no phone to tell them apart
        "明达贸易,无名氏,,,,\n"
        "明达贸易,张伟,13812345678,,,\n"  # the link of line 2: a duplicate
    )
    job = upload(org.rep1, csv_file(text, name="links.csv"), model_label="customers.accountcontact")
    assert job.mapping == ["account", "contact", "contact_phone", "role", "job_title", "is_primary"]

    report = services.import_dry_run(job=job, user=org.rep1)
    assert (report.created, report.skipped, report.failed) == (2, 1, 3)
    assert {(p.line, p.field) for p in report.problems} == {
        (4, "account"),
        (5, "contact"),
        (6, "contact"),
    }

    job = run(job, org.rep1, django_capture_on_commit_callbacks)
    assert (job.created_count, job.skipped_count, job.failed_count) == (2, 1, 3)
    link = AccountContact.objects.get(account=mingda, contact=zhang)
    assert link.role.value == "decision_maker" and link.job_title == "总经理" and link.is_primary
    assert AccountContact.objects.get(account=mingda, contact=li).role.value == "influencer"
    assert not AccountContact.objects.filter(account=hidden).exists()


def test_link_policy_update_changes_the_role(org, django_capture_on_commit_callbacks):
    account = account_create(actor=org.rep1, data={"name": "明达贸易"})
    contact_create(actor=org.rep1, data={"name": "张伟"}, account=account)
    text = "客户名称,联系人,角色\n明达贸易,张伟,使用者\n"
    job = upload(
        org.rep1,
        csv_file(text, name="links.csv"),
        model_label="customers.accountcontact",
        policy="update",
    )
    job = run(job, org.rep1, django_capture_on_commit_callbacks)
    assert job.updated_count == 1
    assert AccountContact.objects.get(account=account).role.value == "user"


# --- List pages --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/customers/contacts/", "customers.contact"),
        ("/customers/account-contacts/", "customers.accountcontact"),
    ],
)
def test_list_pages_offer_import_and_export(client, org, path, label):
    client.force_login(org.rep1)
    page = client.get(path).content.decode()
    assert f"/imports/{label}/new/" in page
    assert f"/exports/{label}/" in page
    client.force_login(org.read_only)
    response = client.get(path)
    assert response.status_code == 200
    assert f"/imports/{label}/new/" not in response.content.decode()
