"""Lead imports and exports through the core engine: Chinese headers, bad rows, duplicates
by phone and e-mail (in the scope and within the file)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.core.imports import services
from guanxi.leads.models import Lead
from guanxi.leads.tests.factories import make_lead

pytestmark = pytest.mark.django_db

HEADER = "姓名,公司,手机,邮箱,线索来源,状态,评级\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(user, text, policy="skip"):
    return services.import_job_upload(
        user=user,
        model_label="leads.lead",
        uploaded_file=SimpleUploadedFile("leads.csv", text.encode(), content_type="text/csv"),
        policy=policy,
    )


def test_dry_run_reports_bad_rows_and_duplicates(org):
    make_lead(owner=org.rep1, label="老客户", actor=org.rep1, phone="13800000009")
    make_lead(owner=org.rep1, label="老邮箱", actor=org.rep1, email="Old@example.com")
    text = (
        HEADER
        + "新线索,甲公司,13800000001,new@example.com,展会,新建,热\n"  # 2 create
        + ",乙公司,13800000002,,,,\n"  # 3 no name
        + "坏邮箱,,,not-an-email,,,\n"  # 4 bad e-mail
        + "坏来源,,,,外星,,\n"  # 5 unknown source
        + "已转化,,,,,converted,\n"  # 6 converted refused
        + "同号,,+86 138 0000 0009,,,,\n"  # 7 duplicate phone -> skip
        + "同邮箱,,,old@example.com,,,\n"  # 8 duplicate e-mail -> skip
        + "文件内重复,,13800000001,,,,\n"  # 9 duplicate of line 2 -> skip
    )
    job = upload(org.manager, text)
    assert job.mapping[:4] == ["name", "company", "phone", "email"]
    before = Lead.objects.count()
    report = services.import_dry_run(job=job, user=org.manager)
    assert (report.created, report.skipped, report.failed) == (1, 3, 4)
    assert {(p.line, p.field) for p in report.problems} == {
        (3, "name"),
        (4, "email"),
        (5, "source"),
        (6, "status"),
    }
    assert Lead.objects.count() == before


def test_import_creates_through_the_service_and_updates_duplicates(
    org, django_capture_on_commit_callbacks
):
    existing = make_lead(owner=org.rep1, label="老客户", actor=org.rep1, phone="13800000009")
    text = HEADER + "新线索,甲公司,13800000001,,展会,,热\n" + "老客户,新公司,13800000009,,,,\n"
    job = upload(org.manager, text, policy="update")
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_start(job=job, user=org.manager)
    job.refresh_from_db()
    assert (job.created_count, job.updated_count) == (1, 1)
    created = Lead.objects.get(name="新线索")
    assert created.owner == org.manager and created.phone_digits == "13800000001"
    assert created.source.value == "trade_show" and created.rating == "hot"
    existing.refresh_from_db()
    assert existing.company == "新公司"
