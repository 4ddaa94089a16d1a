import pytest
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

def test_explore(page, e2e_org, live_server):
    login(page, "admin")
    page.screenshot(path="/tmp/e2e-home.png", full_page=True)
    page.goto("/customers/accounts/")
    page.screenshot(path="/tmp/e2e-list.png", full_page=True)
    page.goto("/customers/accounts/new/")
    page.screenshot(path="/tmp/e2e-new.png", full_page=True)
    print(page.content()[:100])
