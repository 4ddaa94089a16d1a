"""An account import with bad rows in the browser: upload, column matching, the trial run
listing the bad rows, the run itself (the job page polls until done) and the bad-rows file."""

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import login

CSV_TEXT = (
    "客户名称,电话,邮箱\n"
    "华东机械制造,13811110001,hd@example.com\n"
    ",13811110002,noname@example.com\n"  # line 3: no name
    "星辰软件,13811110003,xc@example.com\n"
    "蓝海物流,13811110004,not-an-email\n"  # line 5: bad e-mail
    "青松教育,13811110005,qs@example.com\n"
    "金桥餐饮,13811110006,jq@example.com\n"
)


def test_import_accounts_with_bad_rows(page, e2e_org, settings, tmp_path):
    from guanxi.customers.models import Account

    settings.MEDIA_ROOT = tmp_path / "media"
    rep1 = e2e_org.rep1
    for role in rep1.roles.all():  # this office lets its reps import
        role.permissions = {"*": ["view", "add", "change", "delete", "import", "export"]}
        role.save(update_fields=["permissions"])

    login(page, "rep1")
    page.goto("/customers/accounts/")
    page.locator("a[href='/imports/customers.account/new/']").click()
    expect(page).to_have_url(re.compile(r"/imports/customers\.account/new/$"))

    page.set_input_files(
        "#import-upload-form input[type=file]",
        files=[
            {"name": "accounts.csv", "mimeType": "text/csv", "buffer": CSV_TEXT.encode("utf-8")}
        ],
    )
    page.locator("#import-upload-form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/imports/\d+/mapping/$"))
    mapping = page.locator("#import-mapping-form")
    expect(mapping.locator("select").nth(0)).to_have_value("name")
    expect(mapping.locator("select").nth(2)).to_have_value("email")
    mapping.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/imports/\d+/preview/$"))
    expect(page.locator("#dry-run-counts [data-count=create]")).to_have_text("4")
    expect(page.locator("#dry-run-counts [data-count=fail]")).to_have_text("2")
    errors = page.locator("#dry-run-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0).locator("td").first).to_have_text("3")
    expect(errors.nth(1).locator("td").first).to_have_text("5")
    expect(errors.nth(1)).to_contain_text("邮箱")
    assert Account.objects.count() == 0  # the trial run saved nothing

    page.locator("#import-start-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    expect(page.locator("#import-progress")).to_have_attribute("data-status", "done")
    expect(page.locator("#import-counts [data-count=created]")).to_have_text("4")
    expect(page.locator("#import-counts [data-count=failed]")).to_have_text("2")
    bad = page.locator("#import-errors tbody tr")
    expect(bad).to_have_count(2)
    expect(bad.nth(0).locator("td").first).to_have_text("3")
    expect(bad.nth(1).locator("td").first).to_have_text("5")
    expect(bad.nth(1).locator("td").nth(2)).not_to_be_empty()

    with page.expect_download() as info:
        page.locator("#import-progress a[href$='errors.csv']").click()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["客户名称", "电话", "邮箱"] and len(header) == 4
    assert [row[1] for row in body] == ["13811110002", "13811110004"]
    assert all(row[3] for row in body)  # the "error" column says what to fix

    assert set(Account.objects.values_list("name", flat=True)) == {
        "华东机械制造",
        "星辰软件",
        "青松教育",
        "金桥餐饮",
    }
    assert set(Account.objects.values_list("owner_id", flat=True)) == {rep1.pk}
