"""The import engine through its services: parsing, mapping, dry run, the batched and
restartable run, duplicate policies, row errors and bounded queries — proven on Account."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.imports import parsing, services
from guanxi.core.imports.resources import get_resource
from guanxi.core.models import (
    ChangeRecord,
    CustomFieldType,
    ImportedRow,
    ImportJob,
    ImportRowError,
    ImportStatus,
    PicklistOption,
)
from guanxi.core.services.configuration import custom_field_create
from guanxi.customers.models import Account
from guanxi.customers.services import account_create

pytestmark = pytest.mark.django_db

HEADER = "客户名称,电话,邮箱,行业,负责人,类型\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield


def csv_file(text: str, encoding: str = "utf-8", name: str = "accounts.csv"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def upload(user, uploaded, policy="skip", mapping=None):
    return services.import_job_upload(
        user=user,
        model_label="customers.account",
        uploaded_file=uploaded,
        policy=policy,
        mapping=mapping,
    )


def run(job, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_start(job=job, user=user)
    job.refresh_from_db()
    return job


def make(owner, name, **data):
    return account_create(actor=owner, data={"name": name, **data})


# --- Parsing ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ("名称,电话\n华为,1\n".encode(), "utf-8"),
        ("\ufeff名称,电话\n华为,1\n".encode(), "utf-8-sig"),
        ("名称,电话\n华为,1\n".encode("gbk"), "gb18030"),
        ("名称,电话\n𠀀华为,1\n".encode("gb18030"), "gb18030"),
    ],
)
def test_decode_detects_utf8_bom_and_gbk(raw, encoding):
    text, found = parsing.decode(raw)
    assert found == encoding
    assert text.lstrip("\ufeff").startswith("名称,电话")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["名称", "电话", "邮箱"]) + "\n" + delimiter.join(["甲", "1", "a@b.cn"])
    table = parsing.read_table(text.encode(), "x.csv")
    assert table.delimiter == delimiter
    assert table.headers == ["名称", "电话", "邮箱"]
    assert table.total == 1


def test_size_and_row_limits_say_what_the_limit_is(settings):
    settings.GUANXI_IMPORT_MAX_ROWS = 3
    rows = "name\n" + "".join(f"a{i}\n" for i in range(4))
    with pytest.raises(ValidationError, match="more than 3 rows"):
        parsing.read_table(rows.encode(), "x.csv")
    settings.GUANXI_IMPORT_MAX_BYTES = 1024 * 1024
    with pytest.raises(ValidationError, match="larger than 1 MB"):
        parsing.read_table(b"name\n" + b"a" * (1024 * 1024), "x.csv")
    with pytest.raises(ValidationError, match="CSV file or an Excel"):
        parsing.read_table(b"name\na\n", "x.pdf")


# --- Mapping ---------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_chinese_headers_auto_map_in_every_encoding(
    org, encoding, django_capture_on_commit_callbacks
):
    text = HEADER + "华为技术,+86 138-0013-8000,info@huawei.cn,信息技术,rep1,公司\n"
    job = upload(org.manager, csv_file(text, encoding))
    assert job.mapping == ["name", "phone", "email", "industry", "owner", "kind"]
    assert job.total == 1
    job = run(job, org.manager, django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.DONE
    account = Account.objects.get(name="华为技术")
    assert account.phone_digits == "13800138000"  # through the account service
    assert account.industry.value == "it"
    assert account.owner == org.rep1
    assert account.department == org.east
    assert account.kind == Account.Kind.COMPANY


def test_english_and_chinese_verbose_names_and_custom_fields_map(org):
    custom_field_create(
        actor=org.admin,
        model=Account,
        key="level",
        label_zh="客户等级",
        label_en="Level",
        field_type=CustomFieldType.CHOICE,
        choices=["A", "B"],
    )
    resource = get_resource("customers.account")
    headers = ["Name", "E-mail", "电子邮件", "网站", "level", "客户等级", "Whatever"]
    assert resource.match_headers(headers) == [
        "name",
        "email",
        "",  # e-mail is already taken by the column before
        "website",
        "custom.level",
        "",
        "",
    ]


def test_xlsx_upload(org, django_capture_on_commit_callbacks):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["公司名称", "手机", "电子邮件", "备注"])
    sheet.append(["阿里巴巴", 13900001111, "a@alibaba.cn", "电商"])
    sheet.append([None, None, None, None])
    sheet.append(["腾讯", "075586013388", "bad-email", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = upload(org.manager, SimpleUploadedFile("客户.xlsx", buffer.getvalue()))
    assert job.file_format == "xlsx"
    assert job.mapping == ["name", "phone", "email", "notes"]
    assert job.total == 2
    job = run(job, org.manager, django_capture_on_commit_callbacks)
    assert Account.objects.get(name="阿里巴巴").phone_digits == "13900001111"
    assert (job.created_count, job.failed_count) == (1, 1)
    error = job.row_errors.get()
    assert (error.line, error.field) == (4, "email")


# --- Dry run ---------------------------------------------------------------------------------
def test_dry_run_writes_nothing_and_reports_every_bad_row(org):
    make(org.manager, "已有客户", phone="010-12345678")
    text = (
        HEADER
        + "新客户,13800000001,ok@x.cn,制造业,manager,公司\n"  # line 2: create
        + ",13800000002,ok@x.cn,,,\n"  # line 3: missing name
        + "坏邮箱,13800000003,not-an-email,,,\n"  # line 4: bad e-mail
        + "未知行业,13800000004,,航天,,\n"  # line 5: unknown industry
        + "已有客户,,,,,\n"  # line 6: duplicate -> skip
    )
    job = upload(org.manager, csv_file(text))
    accounts, history = Account.objects.count(), ChangeRecord.objects.count()
    report = services.import_dry_run(job=job, user=org.manager)
    assert (report.created, report.updated, report.skipped, report.failed) == (1, 0, 1, 3)
    found = {(problem.line, problem.field) for problem in report.problems}
    assert found == {(3, "name"), (4, "email"), (5, "industry")}
    reasons = {problem.line: problem.reason for problem in report.problems}
    assert "航天" in reasons[5]
    assert Account.objects.count() == accounts
    assert ChangeRecord.objects.count() == history
    assert not ImportRowError.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportStatus.DRAFT


def test_import_needs_the_import_permission(org):
    with pytest.raises(ActionNotAllowed):
        upload(org.rep1, csv_file(HEADER + "甲,1,,,,\n"))
    assert not ImportJob.objects.exists()


# --- A thousand rows, five percent bad ------------------------------------------------------
def test_thousand_rows_with_five_percent_bad_keep_every_good_row(
    org, settings, django_capture_on_commit_callbacks
):
    settings.GUANXI_IMPORT_BATCH_SIZE = 200
    lines, bad = [], {}
    for index in range(1000):
        line = index + 2
        name, email, industry = f"客户{index:04d}", f"c{index}@example.cn", "零售"
        if index % 20 == 3:
            kind = ("email", "name", "industry")[index % 3]
            bad[line] = kind
            if kind == "email":
                email = "no-at-sign"
            elif kind == "name":
                name = ""
            else:
                industry = "不存在的行业"
        lines.append(f"{name},1390000{index:04d},{email},{industry},,\n")
    job = upload(org.manager, csv_file(HEADER + "".join(lines)))
    assert job.total == 1000
    job = run(job, org.manager, django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.DONE
    assert len(bad) == 50
    assert (job.processed, job.created_count, job.failed_count) == (1000, 950, 50)
    assert Account.objects.filter(name__startswith="客户").count() == 950
    reported = dict(job.row_errors.values_list("line", "field"))
    assert reported == bad
    assert job.last_line == 1001


# --- Duplicate policies ----------------------------------------------------------------------
def test_policy_skip_matches_normalised_phone_and_exact_name(
    org, django_capture_on_commit_callbacks
):
    make(org.manager, "华为", phone="13800138000")
    text = HEADER + "华为技术,+86 138 0013 8000,,,,\n" + "华为,,,,,\n" + "中兴,,,,,\n"
    job = run(
        upload(org.manager, csv_file(text), policy="skip"),
        org.manager,
        django_capture_on_commit_callbacks,
    )
    assert (job.created_count, job.skipped_count, job.updated_count) == (1, 2, 0)
    assert Account.objects.filter(name__startswith="华为").count() == 1


def test_policy_update_changes_the_match_and_keeps_empty_cells(
    org, django_capture_on_commit_callbacks
):
    account = make(org.manager, "华为", phone="13800138000", email="old@x.cn")
    text = HEADER + "华为,13800138000,,金融,,\n"
    job = run(
        upload(org.manager, csv_file(text), policy="update"),
        org.manager,
        django_capture_on_commit_callbacks,
    )
    assert job.updated_count == 1
    account.refresh_from_db()
    assert account.industry == PicklistOption.objects.get(value="finance")
    assert account.email == "old@x.cn"
    assert account.version == 2


def test_policy_update_changes_an_account_found_by_a_similar_name_only(
    org, django_capture_on_commit_callbacks
):
    """The similar-name candidates are read as bare values; the matched one is built and
    fully reloaded before it is changed."""
    account = make(org.manager, "北京明达贸易有限公司", phone="13800138000", email="old@x.cn")
    text = HEADER + "明达贸易,,,金融,,\n"
    job = run(
        upload(org.manager, csv_file(text), policy="update"),
        org.manager,
        django_capture_on_commit_callbacks,
    )
    assert (job.created_count, job.updated_count, job.failed_count) == (0, 1, 0)
    account.refresh_from_db()
    assert account.industry == PicklistOption.objects.get(value="finance")
    assert (account.phone_digits, account.email, account.version) == ("13800138000", "old@x.cn", 2)


def test_policy_create_always_creates(org, django_capture_on_commit_callbacks):
    make(org.manager, "华为", phone="13800138000")
    text = HEADER + "华为,13800138000,,,,\n"
    job = run(
        upload(org.manager, csv_file(text), policy="create"),
        org.manager,
        django_capture_on_commit_callbacks,
    )
    assert job.created_count == 1
    assert Account.objects.filter(name="华为").count() == 2


def test_duplicates_inside_the_file_are_caught_too(org, django_capture_on_commit_callbacks):
    text = HEADER + "华为,13800138000,,,,\n" + "华为,13800138000,,,,\n"
    job = run(upload(org.manager, csv_file(text)), org.manager, django_capture_on_commit_callbacks)
    assert (job.created_count, job.skipped_count) == (1, 1)


def test_a_near_duplicate_inside_the_batch_is_caught_like_one_in_the_database(
    org, django_capture_on_commit_callbacks
):
    """The batch's new accounts are written together at its end; a later row resembling
    one of them (similar name, same e-mail) waits for that write and is then skipped."""
    text = (
        HEADER
        + "北京明达贸易有限公司,13800138000,,,,\n"
        + "明达贸易,,,,,\n"
        + "中兴通讯,,info@zte.cn,,,\n"
        + "中兴,,INFO@zte.cn,,,\n"
    )
    job = run(upload(org.manager, csv_file(text)), org.manager, django_capture_on_commit_callbacks)
    assert (job.created_count, job.skipped_count) == (2, 2)
    created = {row.line: row.object_id for row in ImportedRow.objects.filter(job=job)}
    assert created[3] == created[2] and created[5] == created[4]
    assert Account.objects.filter(pk=created[2], name="北京明达贸易有限公司").exists()


def test_update_of_a_duplicate_inside_the_batch_changes_the_new_record(
    org, django_capture_on_commit_callbacks
):
    text = HEADER + "华为,13800138000,,,,\n" + "华为,13800138000,new@huawei.com,金融,,\n"
    job = run(
        upload(org.manager, csv_file(text), policy="update"),
        org.manager,
        django_capture_on_commit_callbacks,
    )
    assert (job.created_count, job.updated_count) == (1, 1)
    account = Account.objects.get(name="华为")
    assert (account.email, account.version) == ("new@huawei.com", 2)
    assert account.industry == PicklistOption.objects.get(value="finance")


def test_a_duplicate_of_a_refused_row_is_created_on_its_own(
    org, django_capture_on_commit_callbacks
):
    """The second row waits for the first; the write refuses the first, so the second is
    no longer a duplicate and is created by itself."""
    text = HEADER + "华为,13800138000,,,,\n" + "华为,13800138000,,,,\n"
    with pytest.MonkeyPatch.context() as patch:
        from guanxi.customers import services as account_services

        real = account_services.record_bulk_create

        def refuse_first(*, model, items, actor):
            results = real(model=model, items=items[1:], actor=actor)
            return [ValidationError({"name": "refused"}), *results]

        patch.setattr(account_services, "record_bulk_create", refuse_first)
        job = run(
            upload(org.manager, csv_file(text)), org.manager, django_capture_on_commit_callbacks
        )
    assert (job.created_count, job.failed_count) == (1, 1)
    error = ImportRowError.objects.get(job=job)
    assert (error.line, error.field) == (2, "name")
    assert Account.objects.filter(name="华为").count() == 1


def test_duplicates_are_only_looked_for_in_the_users_scope(org, django_capture_on_commit_callbacks):
    make(org.rep3, "北方客户")  # north: outside the manager's subtree
    job = run(
        upload(org.manager, csv_file(HEADER + "北方客户,,,,,\n")),
        org.manager,
        django_capture_on_commit_callbacks,
    )
    assert job.created_count == 1


def test_owner_of_another_user_needs_the_assign_permission(org, django_capture_on_commit_callbacks):
    # Marketing may import but not assign.
    from guanxi.core.models import Role

    org.rep1.roles.set([Role.objects.get(code="marketing")])
    text = HEADER + "甲公司,,,,rep2,\n" + "乙公司,,,,rep1,\n"
    job = run(upload(org.rep1, csv_file(text)), org.rep1, django_capture_on_commit_callbacks)
    assert (job.created_count, job.failed_count) == (1, 1)
    assert job.row_errors.get().field == "owner"
    assert Account.objects.get(name="乙公司").owner == org.rep1


def test_custom_fields_are_imported_and_validated(org, django_capture_on_commit_callbacks):
    custom_field_create(
        actor=org.admin,
        model=Account,
        key="level",
        label_zh="客户等级",
        label_en="Level",
        field_type=CustomFieldType.CHOICE,
        choices=["A", "B"],
    )
    text = "客户名称,客户等级\n甲,A\n乙,Z\n"
    job = run(upload(org.manager, csv_file(text)), org.manager, django_capture_on_commit_callbacks)
    assert Account.objects.get(name="甲").custom_data == {"level": "A"}
    error = job.row_errors.get()
    assert (error.line, error.field) == (3, "custom.level")


# --- Restartable -----------------------------------------------------------------------------
class Crash(BaseException):
    """What a killed worker looks like from inside: nothing after it runs."""


def test_resume_after_a_crash_creates_no_duplicates(
    org, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.GUANXI_IMPORT_BATCH_SIZE = 10
    text = HEADER + "".join(f"客户{index:02d},,,,,\n" for index in range(25))
    job = upload(org.manager, csv_file(text))
    resource = get_resource("customers.account")
    original = resource.bulk_create

    def crash_on_line_15(*, items, actor):
        if any(data["name"] == "客户13" for data, _custom in items):  # in the second batch
            raise Crash
        return original(items=items, actor=actor)

    monkeypatch.setattr(resource, "bulk_create", crash_on_line_15)
    with pytest.raises(Crash), django_capture_on_commit_callbacks(execute=True):
        services.import_job_start(job=job, user=org.manager)
    job.refresh_from_db()
    # The first batch (lines 2-11) is committed; the second was rolled back with the crash.
    assert job.status == ImportStatus.RUNNING
    assert (job.last_line, job.processed, job.created_count) == (11, 10, 10)
    assert Account.objects.count() == 10

    monkeypatch.setattr(resource, "bulk_create", original)
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_resume(job=job, user=org.manager)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.processed, job.created_count, job.last_line) == (25, 25, 26)
    names = list(Account.objects.values_list("name", flat=True))
    assert len(names) == len(set(names)) == 25


def test_markers_stop_a_rerun_from_creating_twice_even_if_last_line_was_lost(
    org, settings, django_capture_on_commit_callbacks
):
    settings.GUANXI_IMPORT_BATCH_SIZE = 4
    text = HEADER + "".join(f"客户{index},,,,,\n" for index in range(9))
    job = run(
        upload(org.manager, csv_file(text), policy="create"),
        org.manager,
        django_capture_on_commit_callbacks,
    )
    assert Account.objects.count() == 9
    assert ImportedRow.objects.filter(job=job).count() == 9
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, last_line=1)
    services.import_job_process(job.pk)
    assert Account.objects.count() == 9


def test_stale_running_jobs_are_queued_again(org, settings, django_capture_on_commit_callbacks):
    settings.GUANXI_IMPORT_STALE_SECONDS = 0
    job = upload(org.manager, csv_file(HEADER + "甲,,,,,\n"))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    assert services.import_jobs_resume_stale() == [job.pk]
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert Account.objects.filter(name="甲").exists()


# --- Queries ---------------------------------------------------------------------------------
def test_the_engine_adds_no_queries_per_row_beyond_the_service_writes(org, settings):
    """A batch costs what its record_create calls cost, plus a constant."""
    settings.GUANXI_IMPORT_BATCH_SIZE = 500
    industry = PicklistOption.objects.get(value="it")

    with CaptureQueriesContext(connection) as single:
        account_create(
            actor=org.manager,
            data={
                "name": "Probe",
                "phone": "13900000000",
                "email": "p@x.cn",
                "industry": industry,
                "owner": org.rep1,
                "department_id": org.rep1.department_id,
            },
        )
    per_row = len(single)

    rows = 50
    # Names far apart, so none is a near-duplicate of another (客户1 and 客户10 would be).
    names = [
        "".join(chr(0x4E00 + (i * 389 + k * 7919) % 20000) for k in range(4)) for i in range(rows)
    ]
    text = HEADER + "".join(
        f"{names[i]},1380000{i:04d},c{i}@x.cn,信息技术,rep1,\n" for i in range(rows)
    )
    job = upload(org.manager, csv_file(text))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    with CaptureQueriesContext(connection) as whole:
        services.import_job_process(job.pk)
    job.refresh_from_db()
    assert job.created_count == rows
    assert len(whole) <= rows * per_row + 30, len(whole)
