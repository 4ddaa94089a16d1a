"""Contacts and groups in the browser: several phones on one contact, the condition builder
of a dynamic group with its live member count."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import login


def _settled(page, change) -> None:
    """Run `change` and wait until the htmx request it starts has been swapped in."""
    page.evaluate(
        """() => {
            if (window.gxSettled === undefined) {
                window.gxSettled = 0;
                document.body.addEventListener("htmx:afterSettle", () => window.gxSettled++);
            }
        }"""
    )
    before = page.evaluate("() => window.gxSettled")
    change()
    page.wait_for_function("count => window.gxSettled > count", arg=before)


def test_create_a_contact_with_two_phones(new_page, e2e_org):
    from guanxi.customers.models import Contact

    e2e_org.rep1.language = "en"
    e2e_org.rep1.save(update_fields=["language"])
    page = new_page(locale="en")
    login(page, "rep1")
    page.goto("/customers/contacts/new/")
    form = page.locator("#record-form")
    name = form.locator("input[name=name]")
    name.fill("周杰")
    _settled(page, lambda: name.press("Tab"))

    phones = form.locator("#id_phones")
    phones.locator("input[name=phones-value]").first.fill("13812345678")
    phones.locator(".gx-point-add").click()
    expect(phones.locator(".gx-point-row")).to_have_count(2)
    second = phones.locator(".gx-point-row").nth(1)
    second.locator("input[name=phones-value]").fill("010-6512 3456")
    second.locator("select[name=phones-kind]").select_option("work")
    second.locator("input[name=phones-primary]").check()
    form.locator("#id_emails input[name=emails-value]").first.fill("zhoujie@example.com")
    form.locator("button[type=submit].btn-primary").click()

    expect(page).to_have_url(re.compile(r"/customers/contacts/\d+/$"))
    expect(page.locator("#contact-phones")).to_contain_text("138 1234 5678")
    expect(page.locator("#contact-phones")).to_contain_text("010 6512 3456")
    contact = Contact.objects.get(name="周杰")
    primary = contact.phones.get(is_primary=True)
    assert (primary.digits, primary.kind) == ("01065123456", "work")
    assert list(contact.emails.values_list("address", flat=True)) == ["zhoujie@example.com"]


def test_dynamic_group_builder_counts_and_saves(new_page, e2e_org):
    from guanxi.core.services.records import record_create
    from guanxi.customers.models import Account, Group

    for name, city in (("沪一", "上海市"), ("沪二", "上海市"), ("京一", "北京市")):
        record_create(model=Account, data={"name": name, "city": city}, actor=e2e_org.rep1)
    e2e_org.rep1.language = "en"
    e2e_org.rep1.save(update_fields=["language"])
    page = new_page(locale="en")
    login(page, "rep1")
    page.goto("/customers/groups/new/")
    form = page.locator("#record-form")
    name = form.locator("input[name=name]")
    name.fill("Shanghai customers")
    _settled(page, lambda: name.press("Tab"))
    kind = form.locator("select[name=kind]")
    _settled(page, lambda: kind.select_option("dynamic"))

    builder = form.locator(".gx-conditions")
    builder.locator(".gx-condition-add").click()
    row = builder.locator(".gx-condition-row").first
    row.locator("select").first.select_option("city")
    row.locator("input").fill("上海市")
    expect(builder.locator(".gx-member-count")).to_contain_text("2 accounts")

    form.locator("button[type=submit].btn-primary").click()
    expect(page).to_have_url(re.compile(r"/customers/groups/\d+/$"))
    expect(page.locator("#group-members")).to_contain_text("沪一")
    expect(page.locator("#group-members")).not_to_contain_text("京一")
    group = Group.objects.get(name="Shanghai customers")
    assert group.conditions == {
        "match": "all",
        "conditions": [{"field": "city", "op": "eq", "value": "上海市"}],
    }
