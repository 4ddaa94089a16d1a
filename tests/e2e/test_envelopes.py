"""Printing envelopes from an account's page gives a PDF with the Chinese address."""

from playwright.sync_api import expect

from tests.e2e.conftest import login


def _contains_utf16(pdf: bytes, text: str) -> bool:
    """Whether a content stream of the PDF draws `text` (CID font: UTF-16-BE strings)."""
    from guanxi.core.tests.test_pdf import contains_utf16

    return contains_utf16(pdf, text)


def test_print_envelope_from_the_account_page(page, e2e_org, tmp_path):
    from guanxi.customers.services import account_create, contact_create

    account = account_create(
        actor=e2e_org.manager,
        data={
            "name": "北京理想科技有限公司",
            "province": "北京市",
            "city": "北京市",
            "district": "海淀区",
            "address": "中关村大街1号",
            "postcode": "100080",
        },
    )
    contact_create(
        actor=e2e_org.manager,
        data={"name": "张伟"},
        account=account,
        is_primary=True,
    )
    login(page, "manager")
    page.goto(f"/customers/accounts/{account.pk}/")
    expect(page.locator("main h1")).to_contain_text("北京理想科技有限公司")

    page.locator("#account-more-actions").click()
    page.locator("#action-envelopes").click()
    dialog = page.locator("#action-envelopes-modal")
    expect(dialog).to_be_visible()
    dialog.locator("select[name=size]").select_option("C5")
    with page.expect_download() as download_info:
        dialog.locator("#envelopes-submit").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    pdf = target.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert _contains_utf16(pdf, "北京市海淀区中关村大街1号")
    assert _contains_utf16(pdf, "张伟")


def test_statistics_page_draws_charts_and_drills_down(page, e2e_org):
    from guanxi.customers.services import account_create

    account_create(actor=e2e_org.rep1, data={"name": "东方贸易", "province": "上海市"})
    account_create(actor=e2e_org.rep3, data={"name": "北方贸易", "province": "北京市"})
    login(page, "rep1")
    page.goto("/customers/accounts/")
    page.locator("#account-statistics-link").click()
    expect(page.locator("#dimension-province canvas")).to_have_count(1)
    rows = page.locator("#dimension-province tbody tr")
    expect(rows).to_have_count(1)  # rep1 only counts their own accounts
    rows.locator("a.gx-drilldown").click()
    expect(page.locator("#record-table tbody tr")).to_have_count(1)
    expect(page.locator("#record-table")).to_contain_text("东方贸易")


def test_print_labels_for_the_rows_selected_in_the_list(page, e2e_org, tmp_path):
    from guanxi.customers.services import account_create

    for name, district in (("上海东方贸易有限公司", "浦东新区"), ("上海西区商行", "长宁区")):
        account_create(
            actor=e2e_org.manager,
            data={"name": name, "province": "上海市", "city": "上海市", "district": district},
        )
    login(page, "manager")
    page.goto("/customers/accounts/")
    row = page.locator("#record-table tbody tr", has_text="上海东方贸易有限公司")
    row.locator("input[name=pk]").check()
    actions = page.locator("#account-actions-form")
    actions.locator("select[name=bulk_action]").select_option("labels")
    actions.locator("select[name=sheet]").select_option("A4-2x7")
    with page.expect_download() as download_info:
        actions.locator("button[type=submit]").click()
    target = tmp_path / "labels.pdf"
    download_info.value.save_as(target)
    pdf = target.read_bytes()
    assert _contains_utf16(pdf, "上海东方贸易有限公司")
    assert not _contains_utf16(pdf, "上海西区商行")  # only the selected row
