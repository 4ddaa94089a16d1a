"""Import jobs: an uploaded file, how its columns map to fields, and the progress and
per-row outcome of the background run (restartable: `last_line` is the last committed line)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def import_file_path(instance: "ImportJob", filename: str) -> str:
    return f"imports/{instance.model_label}/{filename}"


class ImportStatus(models.TextChoices):
    DRAFT = "draft", _("Waiting for mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class DuplicatePolicy(models.TextChoices):
    SKIP = "skip", _("Skip rows that match an existing record")
    UPDATE = "update", _("Update the existing record")
    CREATE = "create", _("Create a new record anyway")


class ImportJob(models.Model):
    model_label = models.CharField(_("record type"), max_length=100)
    file = models.FileField(_("file"), upload_to=import_file_path, max_length=500)
    original_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=10)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=2, blank=True)
    headers = models.JSONField(_("columns"), default=list, blank=True)
    # One entry per column of `headers`: the field key it fills, or "" to ignore it.
    mapping = models.JSONField(_("mapping"), default=list, blank=True)
    policy = models.CharField(
        _("duplicates"),
        max_length=10,
        choices=DuplicatePolicy.choices,
        default=DuplicatePolicy.SKIP,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.DRAFT
    )
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    # The last line of the file (header = line 1) whose batch has been committed.
    last_line = models.PositiveIntegerField(default=1)
    error_message = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"])]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, int(self.processed * 100 / self.total))


class ImportRowError(models.Model):
    """One problem of one row: line as in the file, the field, the reason, the row itself."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField(_("line"))
    field = models.CharField(_("field"), max_length=100, blank=True)
    reason = models.TextField(_("reason"))
    row = models.JSONField(_("row"), default=list, blank=True)

    class Meta:
        verbose_name = _("import error")
        verbose_name_plural = _("import errors")
        ordering = ["job", "line", "id"]
        indexes = [models.Index(fields=["job", "line"])]


class ImportedRow(models.Model):
    """Idempotency marker: this line of this job has been handled (and what it became)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="imported_rows")
    line = models.PositiveIntegerField()
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=10)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "line"], name="imported_row_once"),
        ]
