"""Duplicates in the browser: the warning while creating an account, and merging two."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import login


def test_create_account_with_a_duplicate_warning(new_page, e2e_org):
    from guanxi.customers.models import Account
    from guanxi.customers.services import account_create

    account_create(actor=e2e_org.rep1, data={"name": "北京明达贸易有限公司"})
    page = new_page()
    login(page, "rep1")
    page.goto("/customers/accounts/new/")
    form = page.locator("#record-form")

    # Typing the name asks the live check, which names the look-alike under the field.
    form.locator("input[name=name]").press_sequentially("明达贸易", delay=30)
    live = page.locator("#duplicate-live-check")
    expect(live.locator("a", has_text="北京明达贸易有限公司")).to_be_visible()

    # Saving stops at the warning; nothing is created yet.
    form.locator("button[type=submit].btn-primary").click()
    warnings = page.locator("#record-form .gx-form-warnings")
    expect(warnings).to_contain_text("北京明达贸易有限公司")
    assert not Account.objects.filter(name="明达贸易").exists()

    # "Save anyway" creates it.
    page.locator("#record-form button[name=confirm_warnings]").click()
    expect(page).to_have_url(re.compile(r"/customers/accounts/\d+/$"))
    created = Account.objects.get(name="明达贸易")
    assert page.url.endswith(f"/customers/accounts/{created.pk}/")


def test_merge_two_accounts_from_the_list(new_page, e2e_org):
    from guanxi.customers.models import Account
    from guanxi.customers.services import account_create

    first = account_create(actor=e2e_org.rep1, data={"name": "华为技术有限公司"})
    second = account_create(
        actor=e2e_org.rep1,
        data={"name": "北京华为技术有限公司", "website": "https://hw.example"},
    )
    page = new_page()
    login(page, "rep1")
    page.goto("/customers/accounts/")
    for record in (first, second):
        page.locator(f"input[name=pk][form=bulk-form][value='{record.pk}']").check()
    bulk = page.locator("#bulk-form")
    bulk.locator("select[name=action]").select_option("merge")
    bulk.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/customers/accounts/merge/\?ids="))
    merge_form = page.locator("#merge-form")
    expect(merge_form).to_contain_text("https://hw.example")
    # Keep the second record, with the first one's name.
    merge_form.locator(f"#survivor-{second.pk}").check()
    merge_form.locator(f"#field_name-{first.pk}").check()
    page.once("dialog", lambda dialog: dialog.accept())
    merge_form.locator("button[type=submit].btn-primary").click()

    expect(page).to_have_url(re.compile(rf"/customers/accounts/{second.pk}/$"))
    expect(page.locator("main h1")).to_contain_text("华为技术有限公司")
    kept = Account.objects.get(pk=second.pk)
    assert kept.name == "华为技术有限公司" and kept.website == "https://hw.example"
    assert Account.all_objects.get(pk=first.pk).is_deleted
