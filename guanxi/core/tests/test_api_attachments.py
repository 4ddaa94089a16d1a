import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.core.api.testing import api_client
from guanxi.core.models import Attachment, ChangeRecord
from guanxi.core.services.records import record_create, record_delete
from guanxi.customers.models import Account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(client, record, name="合同.pdf", content=b"%PDF-1.4 test", content_type=None):
    file = SimpleUploadedFile(name, content, content_type=content_type or "application/pdf")
    return client.post(
        f"/api/v1/accounts/{record.pk}/attachments/", {"file": file}, format="multipart"
    )


def test_upload_list_and_download(org):
    record = record_create(model=Account, data={"name": "Acme"}, actor=org.rep1)
    client = api_client(org.rep1)
    response = upload(client, record)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["filename"] == "合同.pdf"
    assert body["mime_type"] == "application/pdf"
    assert body["size"] == len(b"%PDF-1.4 test")
    assert body["uploaded_by"] == org.rep1.pk
    assert ChangeRecord.objects.filter(
        object_id=record.pk, after={"attachment_added": "合同.pdf"}
    ).exists()

    listed = client.get(f"/api/v1/accounts/{record.pk}/attachments/").json()
    assert [item["id"] for item in listed] == [body["id"]]

    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E5%90%88%E5%90%8C.pdf" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"


def test_download_with_any_accept_header(org):
    record = record_create(model=Account, data={"name": "Acme"}, actor=org.rep1)
    client = api_client(org.rep1)
    attachment_id = upload(client, record).json()["id"]
    response = client.get(
        f"/api/v1/attachments/{attachment_id}/download/", HTTP_ACCEPT="application/octet-stream"
    )
    assert response.status_code == 200


def test_download_outside_scope_is_404(org):
    record = record_create(model=Account, data={"name": "Acme"}, actor=org.rep1)
    attachment_id = upload(api_client(org.rep1), record).json()["id"]
    url = f"/api/v1/attachments/{attachment_id}/download/"
    assert api_client(org.rep3).get(url).status_code == 404
    assert api_client(org.manager).get(url).status_code == 200
    assert api_client(org.rep3).get(f"/api/v1/accounts/{record.pk}/attachments/").status_code == 404
    # Once the record is deleted, even its owner cannot fetch the file.
    record_delete(instance=record, actor=org.rep1)
    assert api_client(org.rep1).get(url).status_code == 404


def test_executable_is_refused_with_a_field_error(org):
    record = record_create(model=Account, data={"name": "Acme"}, actor=org.rep1)
    response = upload(
        api_client(org.rep1), record, name="setup.exe", content=b"MZ", content_type=None
    )
    assert response.status_code == 400
    assert "file" in response.json()["errors"]
    assert not Attachment.objects.exists()


def test_missing_file_is_400(org):
    record = record_create(model=Account, data={"name": "Acme"}, actor=org.rep1)
    response = api_client(org.rep1).post(
        f"/api/v1/accounts/{record.pk}/attachments/", {}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_read_only_user_cannot_upload_or_remove(org):
    record = record_create(model=Account, data={"name": "Acme"}, actor=org.rep1)
    attachment_id = upload(api_client(org.rep1), record).json()["id"]
    reader = api_client(org.read_only)
    assert upload(reader, record).status_code == 403
    assert reader.delete(f"/api/v1/attachments/{attachment_id}/").status_code == 403
    assert Attachment.objects.filter(pk=attachment_id, is_deleted=False).exists()


def test_owner_removes_an_attachment(org):
    record = record_create(model=Account, data={"name": "Acme"}, actor=org.rep1)
    client = api_client(org.rep1)
    attachment_id = upload(client, record).json()["id"]
    assert client.delete(f"/api/v1/attachments/{attachment_id}/").status_code == 204
    assert Attachment.objects.get(pk=attachment_id).is_deleted
    assert client.get(f"/api/v1/attachments/{attachment_id}/download/").status_code == 404
