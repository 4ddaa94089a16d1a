"""Browser tests: a real Chromium (Debian's, no browser download) driven by Playwright
against Django's live server."""

import importlib
import os
import re
import shutil

import pytest
from django.apps import apps as django_apps

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Generous waits: under `pytest -n auto` the live server and Chromium share a busy machine.
TIMEOUT_MS = 30_000

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    for candidate in (os.environ.get("GUANXI_CHROMIUM"), "/usr/bin/chromium", "chromium"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    raise RuntimeError(
        "Chromium is needed for the browser tests: apt-get install -y chromium "
        "(or set GUANXI_CHROMIUM to its path)."
    )


def pytest_collection_modifyitems(config, items):
    """Everything in this folder is a browser test (`-m "not e2e"` skips them)."""
    folder = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(folder):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def e2e_org(transactional_db):
    """The organisation, rebuilt after the transactional flush removed the default roles."""
    for data_migration in (
        "guanxi.core.migrations.0002_default_roles",
        "guanxi.customers.migrations.0003_customer_picklists",
    ):
        importlib.import_module(data_migration).create_defaults(django_apps, None)
    from guanxi.core.models import User
    from guanxi.core.tests.factories import OrganisationFactory

    org = OrganisationFactory.build_org()
    # The browser tests use the product's default language (the factory's users speak
    # English so that unit tests can assert on msgids).
    User.objects.update(language=User.Language.ZH_HANS)
    for user in org.users().values():
        user.refresh_from_db()
    return org


@pytest.fixture
def sales_defaults(e2e_org):
    """The lead sources, the default sales process, the lost reasons and the default price
    book (and the read-only catalogue for reps), which the transactional flush removed."""
    for module, function in (
        ("guanxi.leads.migrations.0002_lead_picklists", "create_sources"),
        ("guanxi.sales.migrations.0002_defaults", "create_defaults"),
        ("guanxi.sales.migrations.0003_catalogue_permissions", "restrict_catalogue"),
    ):
        getattr(importlib.import_module(module), function)(django_apps, None)


class PageProblems:
    """JavaScript errors and server errors (HTTP 5xx) seen by the pages of one test."""

    def __init__(self):
        self.problems: list[str] = []

    def watch(self, page) -> None:
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))
        page.on(
            "response",
            lambda response: (
                self.problems.append(f"HTTP {response.status} from {response.url}")
                if response.status >= 500
                else None
            ),
        )


@pytest.fixture
def new_page(browser, live_server):
    """A factory of pages, each in its own browser context (its own cookies and session).

    The test fails at teardown if any of them met a JavaScript error or a server error.
    """
    contexts = []
    problems = PageProblems()

    def make(locale: str = "zh-CN", **options):
        context = browser.new_context(base_url=live_server.url, locale=locale, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems.problems, f"Problems on the pages: {problems.problems}"


@pytest.fixture
def page(new_page):
    return new_page()


def submit_login(page, username: str, password: str = "pw") -> None:
    """Fill and submit the sign-in form (whatever the outcome)."""
    page.goto("/login/")
    form = page.locator("main form[method=post]")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()


def login(page, username: str, password: str = "pw") -> None:
    """Sign in and wait until the app has left the sign-in page."""
    from playwright.sync_api import expect

    submit_login(page, username, password)
    expect(page).not_to_have_url(re.compile(r"/login/"))
    expect(page.locator("header.gx-topbar input[name=q]")).to_be_visible()
