"""Browser tests: a real Chromium (Debian's, no browser download) driven by Playwright
against Django's live server."""

import importlib
import os
import shutil

import pytest
from django.apps import apps as django_apps

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

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


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

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
    from guanxi.core.tests.factories import OrganisationFactory

    return OrganisationFactory.build_org()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def login(page, username: str, password: str = "pw") -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
