"""The platform in a real browser: sign-in, language, navigation, search, small screens."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import login, submit_login

LANGUAGE_MENU = "header .nav-link.dropdown-toggle:has(.bi-translate)"


def test_sign_in_with_a_wrong_password_stays_on_the_sign_in_page(page, e2e_org):
    submit_login(page, "rep1", "not-the-password")

    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator("main .alert-danger")).to_be_visible()
    expect(page.locator("main form input[name=password]")).to_have_value("")
    expect(page.locator("header input[name=q]")).to_have_count(0)


def test_sign_in_as_a_sales_rep_opens_the_home_page(page, e2e_org):
    login(page, "rep1")

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("header .nav-link.dropdown-toggle:has(.bi-person-circle)")).to_contain_text(
        "rep1"
    )
    # Sales reps see the modules but not the administration menu.
    expect(page.locator("nav.gx-sidebar a[href='/customers/accounts/']")).to_be_visible()
    expect(page.locator("nav.gx-sidebar a[href='/admin/users/']")).to_have_count(0)


def test_language_switch_to_english_and_back(page, e2e_org):
    login(page, "rep1")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.locator(LANGUAGE_MENU)).to_contain_text("中文")

    page.goto("/customers/accounts/")
    page.locator(LANGUAGE_MENU).click()
    page.locator("header button[name=language][value=en]").click()

    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/customers/accounts/$"))  # back on the same page
    expect(page.locator(LANGUAGE_MENU)).to_contain_text("English")
    expect(page.locator("nav.gx-sidebar a[href='/customers/accounts/']")).to_have_text("Customers")
    expect(page.locator("main h1")).to_have_text("Accounts")

    page.locator(LANGUAGE_MENU).click()
    page.locator("header button[name=language][value=zh-hans]").click()

    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.locator(LANGUAGE_MENU)).to_contain_text("中文")
    # The choice is the user's: it holds on the next page too.
    page.goto("/")
    expect(html).to_have_attribute("lang", "zh-hans")


def _links(page, selector: str) -> list[str]:
    """Paths (with query) of the same-site links under `selector`, anchors left out."""
    return page.locator(selector).evaluate_all(
        """links => links
            .filter(link => link.origin === location.origin)
            .filter(link => !link.getAttribute("href").startsWith("#"))
            .map(link => link.pathname + link.search)"""
    )


def _open_without_errors(page, path: str) -> None:
    # Ask first: some buttons download a file (exports) rather than open a page.
    answer = page.request.get(path)
    assert answer.status < 500, f"{path} answered {answer.status}"
    if "text/html" not in answer.headers.get("content-type", ""):
        return
    response = page.goto(path)
    assert response is not None, path
    assert response.status < 500, f"{path} answered {response.status}"
    expect(page).to_have_title(re.compile(r"\S.* · Guanxi$"))
    expect(page.locator("main").first).to_be_visible()
    expect(page.get_by_text("Server Error")).to_have_count(0)
    expect(page.get_by_text("Traceback")).to_have_count(0)


def test_every_navigation_entry_opens_for_an_administrator(page, e2e_org):
    login(page, "admin")
    menu = _links(page, "nav.gx-sidebar a.nav-link")
    for expected in ("/", "/customers/accounts/", "/admin/users/", "/admin/recycle-bin/"):
        assert expected in menu, menu
    others = [
        *_links(page, "header .dropdown-menu a.dropdown-item"),
        "/notifications/",
        "/search/?q=rep",
    ]

    visited = set()
    for path in [*menu, *others]:
        _open_without_errors(page, path)
        visited.add(path)
        # Each screen's own buttons (New user, New department, …) open as well.
        for action in _links(page, "main .btn-toolbar a[href]"):
            if action not in visited:
                _open_without_errors(page, action)
                visited.add(action)
    assert {"/admin/users/new/", "/customers/accounts/new/", "/password/"} <= visited


def type_in_search(box, text: str) -> None:
    """Type as an input method does: the text arrives, then a key goes up.

    (Playwright inserts non-ASCII text without key events; the box searches on keyup.)
    """
    box.fill(text)
    box.press("End")


def test_global_search_finds_a_colleague_by_chinese_name_and_initials(page, e2e_org):
    from guanxi.core.services.organisation import user_create

    user_create(
        username="zhangwei",
        password="pw",
        actor=e2e_org.admin,
        display_name="张伟",
        department=e2e_org.north,
    )
    login(page, "rep1")
    box = page.locator("header input[name=q]")
    dropdown = page.locator("#search-dropdown")

    type_in_search(box, "张伟")
    expect(dropdown.locator(".list-group-item", has_text="张伟").first).to_be_visible()
    expect(dropdown).to_contain_text("华北销售部")

    box.fill("")
    box.press("Escape")
    expect(dropdown.locator(".list-group-item")).to_have_count(0)
    type_in_search(box, "zw")
    expect(dropdown.locator(".list-group-item", has_text="张伟").first).to_be_visible()

    # Enter opens the full results page.
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=zw"))
    expect(page.locator("main")).to_contain_text("张伟")


def test_phone_width_collapses_the_sidebar_into_a_menu_button(new_page, e2e_org):
    from guanxi.core.services.records import record_create
    from guanxi.customers.models import Account

    record_create(model=Account, data={"name": "小屏幕客户"}, actor=e2e_org.rep1)
    page = new_page(viewport={"width": 375, "height": 800}, is_mobile=True, has_touch=True)
    login(page, "rep1")
    page.goto("/customers/accounts/")

    menu_button = page.locator("header button[data-bs-target='#gx-sidebar']")
    accounts_link = page.locator("#gx-sidebar a[href='/customers/accounts/']")
    expect(menu_button).to_be_visible()
    expect(accounts_link).to_be_hidden()
    expect(page.locator("#record-table")).to_contain_text("小屏幕客户")
    # The page itself does not scroll sideways (wide tables scroll inside their box).
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    menu_button.click()
    expect(accounts_link).to_be_visible()
    accounts_link.click()
    expect(page).to_have_url(re.compile(r"/customers/accounts/$"))
    expect(page.locator("#record-table a", has_text="小屏幕客户")).to_be_visible()
