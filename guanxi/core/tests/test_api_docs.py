import re

import pytest
from django.core.management import call_command

from guanxi.core.api.testing import api_client

pytestmark = pytest.mark.django_db

CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "fonts.googleapis.com")


def test_schema_lists_the_resources(org):
    response = api_client().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/accounts/",
        "/api/v1/accounts/{id}/assign/",
        "/api/v1/accounts/{id}/history/",
        "/api/v1/attachments/{id}/download/",
        "/api/v1/notifications/mark-read/",
        "/api/v1/recycle-bin/{model_label}/{id}/restore/",
        "/api/v1/users/",
        "/api/v1/departments/",
        "/api/v1/picklist-options/",
        "/api/v1/custom-fields/",
    ):
        assert path in paths, path


@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_load_their_assets_locally(org, url):
    response = api_client().get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar" in html
    for host in CDN_HOSTS:
        assert host not in html
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)
    assert external == []


def test_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    assert (tmp_path / "schema.yml").stat().st_size > 10_000


def test_error_shape_for_unknown_route_under_api(org):
    response = api_client(org.rep1).get("/api/v1/accounts/0/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "errors"}
