import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from guanxi.core.api.testing import api_client

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def test_token_for_good_credentials_authenticates_requests(org):
    response = api_client().post(TOKEN_URL, {"username": "rep1", "password": "pw"}, format="json")
    assert response.status_code == 200
    key = response.json()["token"]
    assert Token.objects.get(key=key).user == org.rep1

    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "rep1"


def test_bad_password_is_a_json_error_without_token(org):
    response = api_client().post(
        TOKEN_URL, {"username": "rep1", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert body["errors"]["non_field_errors"]
    assert "token" not in body
    assert not Token.objects.filter(user=org.rep1).exists()


def test_missing_fields_are_field_errors(org):
    response = api_client().post(TOKEN_URL, {"username": "rep1"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"password"}


def test_inactive_user_gets_no_token(org):
    org.rep2.is_active = False
    org.rep2.save()
    response = api_client().post(TOKEN_URL, {"username": "rep2", "password": "pw"}, format="json")
    assert response.status_code == 400


def test_lockout_after_repeated_failures_even_with_the_right_password(org):
    client = api_client()
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [
        client.post(TOKEN_URL, {"username": "rep3", "password": f"bad{n}"}, format="json")
        for n in range(limit)
    ]
    assert [r.status_code for r in statuses[:-1]] == [400] * (limit - 1)
    assert statuses[-1].status_code == 403  # the attempt that reaches the limit locks

    locked = client.post(TOKEN_URL, {"username": "rep3", "password": "pw"}, format="json")
    assert locked.status_code == 403
    assert locked["Content-Type"].startswith("application/json")
    assert locked.json()["detail"]
    assert locked.json()["errors"] == {}
    assert not Token.objects.filter(user=org.rep3).exists()

    # Another user from the same address is not locked out.
    other = client.post(TOKEN_URL, {"username": "rep1", "password": "pw"}, format="json")
    assert other.status_code == 200


def test_unauthenticated_requests_get_401_json(org):
    response = api_client().get("/api/v1/accounts/")
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response.json()["errors"] == {}


def test_bad_token_is_401(org):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/me/").status_code == 401


def test_session_authentication_also_works(org, client):
    client.force_login(org.rep1)
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "rep1"
