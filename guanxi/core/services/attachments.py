"""Files attached to records: size limit, content type check, audited."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from guanxi.core.models import Attachment, ChangeAction, User
from guanxi.core.services.records import audit_record, timeline_add

# Executable and script types are refused: an attachment must never run in a browser.
BLOCKED_EXTENSIONS = {
    ".exe",
    ".bat",
    ".cmd",
    ".com",
    ".msi",
    ".sh",
    ".js",
    ".html",
    ".htm",
    ".svg",
    ".php",
    ".jar",
    ".ps1",
    ".vbs",
    ".scr",
    ".dll",
}
ALLOWED_MIME_PREFIXES = ("image/", "text/plain", "text/csv", "audio/", "video/")
ALLOWED_MIME_TYPES = {
    "application/pdf",
    "application/zip",
    "application/x-zip-compressed",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/octet-stream",
}


def _mime_type(uploaded: UploadedFile) -> str:
    guessed, _encoding = mimetypes.guess_type(uploaded.name)
    return guessed or "application/octet-stream"


def attachment_validate(uploaded: UploadedFile) -> str:
    """Return the file's content type, or raise ValidationError saying why it is refused."""
    name = uploaded.name or ""
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if extension in BLOCKED_EXTENSIONS:
        raise ValidationError({"file": [_("Files of this type cannot be attached.")]})
    if uploaded.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            {
                "file": [
                    _("The file is too large; the limit is %(limit)s.")
                    % {"limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}
                ]
            }
        )
    if uploaded.size == 0:
        raise ValidationError({"file": [_("The file is empty.")]})
    mime = _mime_type(uploaded)
    if not (mime in ALLOWED_MIME_TYPES or mime.startswith(ALLOWED_MIME_PREFIXES)):
        raise ValidationError({"file": [_("Files of this type cannot be attached.")]})
    return mime


@transaction.atomic
def attachment_upload(*, record: models.Model, uploaded_file: UploadedFile, actor: User):
    mime = attachment_validate(uploaded_file)
    attachment = Attachment(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        filename=uploaded_file.name[:255],
        size=uploaded_file.size,
        mime_type=mime,
        uploaded_by=actor,
    )
    attachment.file.save(uploaded_file.name, uploaded_file, save=False)
    attachment.save()
    audit_record(
        instance=record,
        action=ChangeAction.UPDATE,
        actor=actor,
        after={"attachment_added": attachment.filename},
    )
    timeline_add(
        record=record,
        kind="attachment",
        text=_("Attached %(name)s.") % {"name": attachment.filename},
        actor=actor,
        data={"attachment": attachment.pk},
    )
    return attachment


@transaction.atomic
def attachment_delete(*, attachment: Attachment, actor: User) -> None:
    attachment.is_deleted = True
    attachment.save(update_fields=["is_deleted"])
    if attachment.record is not None:
        audit_record(
            instance=attachment.record,
            action=ChangeAction.UPDATE,
            actor=actor,
            before={"attachment_removed": attachment.filename},
        )


def attachments_of(record: models.Model):
    content_type = ContentType.objects.get_for_model(record)
    return Attachment.objects.filter(
        content_type=content_type, object_id=record.pk, is_deleted=False
    ).select_related("uploaded_by")
