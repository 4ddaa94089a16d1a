"""A record's life in the browser: create, edit, history, delete, restore, stale edits."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import login


def _option(value: str):
    from guanxi.core.models import PicklistOption

    return PicklistOption.objects.get(picklist__code="industry", value=value)


def _after_inline_validation(page, change) -> None:
    """Run `change` (it changes one form field) and wait until the form's inline validation
    has answered and htmx has swapped the re-rendered form in.

    Each change posts the whole form to the validate URL and replaces the form with the
    answer, so a field changed while that request is in flight would be overwritten.
    """
    page.evaluate(
        """() => {
            if (window.gxSettled === undefined) {
                window.gxSettled = 0;
                // Only the form's own re-validation counts, not other swaps on the page
                // (the duplicate check under the name answers on its own schedule).
                document.body.addEventListener("htmx:afterSettle", (event) => {
                    const path = (event.detail.pathInfo || {}).requestPath || "";
                    if (path.endsWith("/validate/")) window.gxSettled++;
                });
            }
        }"""
    )
    before = page.evaluate("() => window.gxSettled")
    change()
    page.wait_for_function("count => window.gxSettled > count", arg=before)


def _fill(page, field, value: str) -> None:
    """Type into a text field and leave it, as a person does, letting validation finish."""
    field.fill(value)
    _after_inline_validation(page, lambda: field.press("Tab"))


def _save(form) -> None:
    form.locator("button[type=submit].btn-primary").last.click()


def _detail_path(pk: int) -> str:
    return f"/customers/accounts/{pk}/"


def test_create_edit_delete_and_restore_an_account(new_page, e2e_org):
    from guanxi.core.services.records import record_create
    from guanxi.customers.models import Account

    record_create(model=Account, data={"name": "杭州西湖茶业"}, actor=e2e_org.rep1)
    page = new_page()
    login(page, "rep1")
    page.goto("/customers/accounts/")
    page.locator("main .btn-toolbar a[href='/customers/accounts/new/']").click()
    expect(page).to_have_url(re.compile(r"/customers/accounts/new/$"))

    form = page.locator("#record-form")
    name = form.locator("input[name=name]")
    _fill(page, name, "上海星辰科技有限公司")
    _after_inline_validation(
        page, lambda: form.locator("select[name=kind]").select_option("company")
    )
    _after_inline_validation(
        page, lambda: form.locator("select[name=industry]").select_option(str(_option("it").pk))
    )
    expect(name).to_have_value("上海星辰科技有限公司")
    _save(form)

    expect(page).to_have_url(re.compile(r"/customers/accounts/\d+/$"))
    account = Account.objects.get(name="上海星辰科技有限公司")
    assert account.owner == e2e_org.rep1
    assert account.industry == _option("it")
    expect(page.locator("main h1")).to_contain_text("上海星辰科技有限公司")
    expect(page.locator("main dd", has_text="信息技术").first).to_be_visible()

    page.locator("#action-edit").click()
    expect(page).to_have_url(re.compile(rf"/customers/accounts/{account.pk}/edit/$"))
    _fill(page, form.locator("input[name=name]"), "上海星辰智能科技有限公司")
    _save(form)

    expect(page).to_have_url(re.compile(rf"{_detail_path(account.pk)}$"))
    expect(page.locator("main h1")).to_contain_text("上海星辰智能科技有限公司")
    feed = page.locator("#record-feed")
    # Newest first: the rename (old and new name), then the creation.
    expect(
        feed.locator("> li").first.locator("li.change-line", has_text="上海星辰智能科技有限公司")
    ).to_contain_text("上海星辰科技有限公司")
    expect(feed.locator("> li").nth(1)).to_contain_text("rep1")

    delete = page.locator("#action-delete")
    if not delete.is_visible():  # tucked away in the page's "More" menu
        page.locator("main .btn-toolbar .dropdown-toggle").first.click()
    delete.click()
    confirm = page.locator("#delete-confirm")
    expect(confirm).to_contain_text("上海星辰智能科技有限公司")
    confirm.locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/customers/accounts/$"))
    expect(page.locator("main .alert-success, #gx-toasts .toast").first).to_be_visible()
    table = page.locator("#record-table")
    expect(table).to_contain_text("杭州西湖茶业")
    expect(table.locator("a", has_text="上海星辰智能科技有限公司")).to_have_count(0)
    assert Account.all_objects.get(pk=account.pk).is_deleted
    # Gone for its owner too: the detail page answers 404.
    response = page.goto(_detail_path(account.pk))
    assert response is not None and response.status == 404

    admin = new_page()
    login(admin, "admin")
    admin.goto("/admin/recycle-bin/")
    row = admin.locator("main tr", has_text="上海星辰智能科技有限公司")
    expect(row).to_be_visible()
    questions = []

    def accept(dialog):
        questions.append(dialog.message)
        dialog.accept()

    admin.once("dialog", accept)
    row.locator("form[action$='/restore/'] button[type=submit]").click()
    expect(admin.locator("main tr", has_text="上海星辰智能科技有限公司")).to_have_count(0)
    assert questions and "上海星辰智能科技有限公司" in questions[0]
    assert not Account.objects.get(pk=account.pk).is_deleted

    page.goto("/customers/accounts/")
    expect(page.locator("#record-table a", has_text="上海星辰智能科技有限公司")).to_be_visible()
    page.locator("#record-table a", has_text="上海星辰智能科技有限公司").click()
    expect(page.locator("main h1")).to_contain_text("上海星辰智能科技有限公司")
    # The restore is the newest entry of the history, by the administrator.
    expect(page.locator("#record-feed > li").first).to_contain_text("admin")


def test_a_stale_edit_shows_the_conflict_and_keeps_the_first_change(new_page, e2e_org):
    from guanxi.core.services.records import record_create
    from guanxi.customers.models import Account

    account = record_create(model=Account, data={"name": "北京长城贸易"}, actor=e2e_org.rep1)
    edit_path = f"/customers/accounts/{account.pk}/edit/"
    first, second = new_page(), new_page()
    for page in (first, second):
        login(page, "rep1")
        page.goto(edit_path)
        expect(page.locator("#record-form input[name=name]")).to_have_value("北京长城贸易")

    _fill(first, first.locator("#record-form input[name=name]"), "北京长城贸易集团")
    first.locator("#record-form button[type=submit].btn-primary").last.click()
    expect(first).to_have_url(re.compile(rf"{_detail_path(account.pk)}$"))
    expect(first.locator("main h1")).to_contain_text("北京长城贸易集团")

    _fill(second, second.locator("#record-form input[name=name]"), "北京长城商贸")
    second.locator("#record-form button[type=submit].btn-primary").last.click()

    alert = second.locator("#record-form .alert-danger")
    expect(alert).to_be_visible()
    expect(alert.locator(f"a[href='{edit_path}']")).to_be_visible()
    expect(second).to_have_url(re.compile(rf"{edit_path}$"))
    account.refresh_from_db()
    assert account.name == "北京长城贸易集团"

    # Reloading shows the other person's change, ready to be edited again.
    alert.locator("a").click()
    expect(second.locator("#record-form input[name=name]")).to_have_value("北京长城贸易集团")
    expect(second.locator("#record-form .alert-danger")).to_have_count(0)


def test_the_filter_panel_and_the_bulk_values_load_when_opened(page, e2e_org):
    """The list page loads the filter fields when the panel opens and the bulk edit values
    when the bar is reached for; filtering, searching and bulk editing work as before."""
    from guanxi.core.services.records import record_create
    from guanxi.customers.models import Account

    accounts = (
        ("北京金融服务", "finance"),
        ("北京零售商店", "retail"),
        ("上海金融公司", "finance"),
    )
    for name, industry in accounts:
        record_create(
            model=Account, data={"name": name, "industry": _option(industry)}, actor=e2e_org.rep1
        )
    login(page, "rep1")
    page.goto("/customers/accounts/")
    expect(page.locator("select[name=industry]")).to_have_count(0)

    page.locator('button[data-bs-target="#list-filters"]').click()
    panel = page.locator("#list-filters")
    panel.locator("select[name=industry]").select_option(str(_option("finance").pk))
    table = page.locator("#record-table")
    expect(table).not_to_contain_text("北京零售商店")
    expect(table).to_contain_text("北京金融服务")
    expect(page).to_have_url(re.compile(r"industry="))

    # A reload keeps the filter; until the panel opens it travels as a hidden input, so a
    # quick search still filters by industry.
    page.reload()
    expect(page.locator("select[name=industry]")).to_have_count(0)
    expect(table).to_contain_text("上海金融公司")
    page.locator("#quick-search").fill("北京")
    expect(table).not_to_contain_text("上海金融公司")  # the search answered ...
    expect(table).not_to_contain_text("北京零售商店")  # ... within the industry filter
    expect(table).to_contain_text("北京金融服务")
    expect(page).to_have_url(re.compile(r"industry="))

    # Bulk edit: the value select arrives when the bar is used.
    row = table.locator("tbody tr", has_text="北京金融服务")
    row.locator("input[name=pk]").check()
    bulk = page.locator("#bulk-form")
    bulk.locator("select[name=action]").select_option("edit")
    bulk.locator("select[name=field]").select_option("industry")
    bulk.locator("select[name=bulk_industry]").select_option(str(_option("it").pk))
    bulk.locator("button[type=submit]").click()
    # Back on the filtered list, the account has left the "finance" rows.
    expect(page.locator("#record-table, #list-empty").first).not_to_contain_text("北京金融服务")
    account = Account.objects.get(name="北京金融服务")
    assert account.industry_id == _option("it").pk


def test_the_account_page_loads_its_lower_sections_when_scrolled_to(page, e2e_org):
    """Sections below the first screen arrive when they come into view; the relationship
    map still draws, and the opportunities section still lists the account's deals."""
    from guanxi.core.models import PicklistOption
    from guanxi.core.services.records import record_create
    from guanxi.customers.models import Account, ContactRelation
    from guanxi.customers.services import contact_create, contact_relation_add

    account = record_create(model=Account, data={"name": "宁波港务集团"}, actor=e2e_org.rep1)
    role = PicklistOption.objects.get(picklist__code="contact_role", value="decision_maker")
    boss, assistant = (
        contact_create(actor=e2e_org.rep1, data={"name": name}, account=account, role=role)
        for name in ("王总", "李秘书")
    )
    contact_relation_add(
        from_contact=assistant,
        to_contact=boss,
        kind=ContactRelation.Kind.ASSISTANT_OF,
        actor=e2e_org.rep1,
    )
    login(page, "rep1")
    page.goto(_detail_path(account.pk))
    expect(page.locator("#section-contacts")).to_contain_text("李秘书")

    relationships = page.locator("#section-relationships")
    relationships.scroll_into_view_if_needed()
    expect(relationships.locator("#relationship-graph canvas")).to_have_count(1)
    expect(relationships.locator("#relationship-list")).to_contain_text("李秘书")
    expect(relationships.locator("[aria-busy]")).to_have_count(0)
    history = page.locator("#section-activity_history")
    history.scroll_into_view_if_needed()
    expect(history.locator("[aria-busy]")).to_have_count(0)
    expect(history.locator(".card-body")).not_to_contain_text("Loading")
