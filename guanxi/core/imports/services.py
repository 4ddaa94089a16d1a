"""Every write of the import/export engine: upload, mapping, dry run, the batched background
run (restartable), the bad-rows file and audited exports.

A run processes the file in batches (GUANXI_IMPORT_BATCH_SIZE, default 500 rows), each in its
own transaction that also records the batch's outcome (row errors, `ImportedRow` markers,
counters, `last_line`). A worker that dies mid-batch loses only that batch's uncommitted work;
running the job again resumes after `last_line` and skips every line already marked, so no
record is created twice. Bad rows never block good ones: each row's service call runs in its
own savepoint.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, models, transaction
from django.db.models import F
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from guanxi.core.exceptions import ActionNotAllowed, VersionConflict
from guanxi.core.imports.parsing import data_rows, read_table
from guanxi.core.imports.resources import (
    ImportContext,
    ImportRow,
    ModelResource,
    PendingRecord,
    get_resource,
)
from guanxi.core.models import (
    ChangeAction,
    ChangeRecord,
    DuplicatePolicy,
    ImportedRow,
    ImportJob,
    ImportRowError,
    ImportStatus,
    User,
)
from guanxi.core.request_context import current_request_id
from guanxi.core.scope import can, is_administrator

logger = logging.getLogger(__name__)

ROW_FAILURES = (ValidationError, ActionNotAllowed, VersionConflict, DatabaseError, ValueError)


def batch_size() -> int:
    return max(1, int(getattr(settings, "GUANXI_IMPORT_BATCH_SIZE", 500)))


def stale_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=int(getattr(settings, "GUANXI_IMPORT_STALE_SECONDS", 600)))


# --- Permission and lookup ---------------------------------------------------------------------
def resource_for(model_label: str) -> ModelResource:
    resource = get_resource(model_label)
    if resource is None:
        raise ValidationError(_("This kind of record cannot be imported."))
    return resource


def require_import(*, user: User, resource: ModelResource) -> None:
    if not can(user, resource.model, "import"):
        raise ActionNotAllowed(_("Your role does not allow importing these records."))


def require_export(*, user: User, model: type[models.Model]) -> None:
    if not can(user, model, "export"):
        raise ActionNotAllowed(_("Your role does not allow exporting these records."))


def job_is_visible(*, job: ImportJob, user: User) -> bool:
    return user.is_authenticated and (job.created_by_id == user.pk or is_administrator(user))


# --- Upload and mapping --------------------------------------------------------------------
@transaction.atomic
def import_job_upload(
    *,
    user: User,
    model_label: str,
    uploaded_file,
    policy: str = DuplicatePolicy.SKIP,
    mapping: Sequence[str] | dict[str, str] | None = None,
) -> ImportJob:
    """Keep the upload, read its headers and row count, and match headers to fields."""
    resource = resource_for(model_label)
    require_import(user=user, resource=resource)
    name = getattr(uploaded_file, "name", "") or "import.csv"
    raw = uploaded_file.read()
    table = read_table(raw, name)
    job = ImportJob(
        model_label=resource.label,
        original_name=name[:255],
        file_format=table.file_format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        headers=table.headers,
        total=table.total,
        created_by=user,
    )
    job.mapping = resource.match_headers(table.headers)
    job.policy = _clean_policy(policy)
    if mapping:
        job.mapping = _clean_mapping(resource=resource, headers=table.headers, mapping=mapping)
    job.file.save(get_valid_filename(name) or "import", ContentFile(raw), save=False)
    job.save()
    return job


def _clean_policy(policy: str | None) -> str:
    policy = policy or DuplicatePolicy.SKIP
    if policy not in DuplicatePolicy.values:
        raise ValidationError({"policy": [_("Choose skip, update or create.")]})
    return policy


def _clean_mapping(
    *, resource: ModelResource, headers: Sequence[str], mapping: Sequence[str] | dict[str, str]
) -> list[str]:
    """A list aligned with the headers. A dict maps header text to a field key."""
    if isinstance(mapping, dict):
        mapping = [mapping.get(header, "") or "" for header in headers]
    mapping = [str(key or "") for key in mapping]
    if len(mapping) != len(headers):
        raise ValidationError({"mapping": [_("Give one field (or nothing) per column.")]})
    keys = {spec.key for spec in resource.field_specs()}
    errors = []
    seen: set[str] = set()
    for header, key in zip(headers, mapping, strict=True):
        if not key:
            continue
        if key not in keys:
            errors.append(_("%(key)s is not a field you can import.") % {"key": key})
        elif key in seen:
            errors.append(
                _("Two columns fill %(key)s; keep one. (%(header)s)")
                % {"key": key, "header": header}
            )
        seen.add(key)
    if not seen:
        errors.append(_("Map at least one column to a field."))
    if errors:
        raise ValidationError({"mapping": errors})
    return mapping


def import_job_set_mapping(
    *, job: ImportJob, user: User, mapping: Sequence[str] | dict[str, str], policy: str
) -> ImportJob:
    if job.status != ImportStatus.DRAFT:
        raise ActionNotAllowed(_("This import has already started."))
    resource = resource_for(job.model_label)
    require_import(user=user, resource=resource)
    job.mapping = _clean_mapping(resource=resource, headers=job.headers, mapping=mapping)
    job.policy = _clean_policy(policy)
    job.save(update_fields=["mapping", "policy", "updated_at"])
    return job


# --- The row engine ----------------------------------------------------------------------------
@dataclass
class RowProblem:
    line: int
    field: str
    reason: str
    row: list[str]


@dataclass
class BatchOutcome:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    handled: list[tuple[int, int | None, str]] = field(default_factory=list)

    def add(self, other: BatchOutcome) -> None:
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped
        self.failed += other.failed
        self.problems.extend(other.problems)


def _problems(line: int, values: list[str], error: Exception) -> list[RowProblem]:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        found = []
        for name, messages in error.message_dict.items():
            name = "" if name == "__all__" else name
            found.append(RowProblem(line, name, " ".join(messages), values))
        return found
    if isinstance(error, ValidationError):
        return [RowProblem(line, "", " ".join(error.messages), values)]
    if isinstance(error, VersionConflict):
        return [RowProblem(line, "", _("Someone changed the record meanwhile."), values)]
    if isinstance(error, DatabaseError):
        return [RowProblem(line, "", _("The database refused the row."), values)]
    return [RowProblem(line, "", str(error) or error.__class__.__name__, values)]


def process_rows(
    *,
    resource: ModelResource,
    context: ImportContext,
    mapping: Sequence[str],
    policy: str,
    batch: Sequence[tuple[int, list[str]]],
) -> BatchOutcome:
    """Validate and save one batch through the resource's services. Must run inside a
    transaction; every row's write is its own savepoint (the services are atomic).

    Where the resource writes in bulk, the batch's new records are created in one write at
    the end; a row duplicating one of them waits for that write, then is skipped or updates
    the new record as the policy says."""
    outcome = BatchOutcome()
    rows = []
    for line, values in batch:
        row = ImportRow(line=line, values=values)
        resource.convert(row, mapping, context)
        rows.append(row)
    if policy != DuplicatePolicy.CREATE:
        resource.prefetch_duplicates([row for row in rows if not row.errors], context)
    actor = context.user
    pending: list[PendingRecord] = []  # rows to create in one bulk write
    waiting: list[tuple[ImportRow, PendingRecord]] = []  # their duplicates

    def write(row: ImportRow, existing) -> None:
        try:
            if existing is not None and policy == DuplicatePolicy.SKIP:
                outcome.skipped += 1
                outcome.handled.append((row.line, existing.pk, "skipped"))
            elif existing is not None:
                if existing.pk not in context.editable_ids:
                    raise ActionNotAllowed(
                        _("The matching record %(record)s is not yours to change.")
                        % {"record": existing}
                    )
                resource.update(
                    instance=existing, data=row.data, custom_data=row.custom_data, actor=actor
                )
                outcome.updated += 1
                outcome.handled.append((row.line, existing.pk, "updated"))
            else:
                record = resource.create(data=row.data, custom_data=row.custom_data, actor=actor)
                resource.remember(record, context)
                outcome.created += 1
                outcome.handled.append((row.line, record.pk, "created"))
        except ROW_FAILURES as error:
            outcome.failed += 1
            outcome.problems.extend(_problems(row.line, row.values, error))

    for row in rows:
        if row.errors:
            outcome.failed += 1
            outcome.problems.extend(
                RowProblem(row.line, name, reason, row.values) for name, reason in row.errors
            )
            continue
        existing = None if policy == DuplicatePolicy.CREATE else resource.duplicate_finder(row)
        if isinstance(existing, PendingRecord):
            waiting.append((row, existing))
        elif existing is None and resource.supports_bulk_create:
            pending.append(PendingRecord(row))
            if policy != DuplicatePolicy.CREATE:
                resource.remember_pending(pending[-1], context)
        else:
            write(row, existing)
    if pending:
        results = resource.bulk_create(
            items=[(item.row.data, item.row.custom_data) for item in pending], actor=actor
        )
        for item, result in zip(pending, results, strict=True):
            if isinstance(result, Exception):
                outcome.failed += 1
                outcome.problems.extend(_problems(item.row.line, item.row.values, result))
            else:
                item.record = result
                outcome.created += 1
                outcome.handled.append((item.row.line, result.pk, "created"))
            resource.settle_pending(item, context)
    for row, duplicate_of in waiting:
        # The row it duplicates was refused: this one stands on its own.
        write(row, duplicate_of.record)
    return outcome


def _batches(rows: Iterable[tuple[int, list[str]]], size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _job_rows(job: ImportJob, *, after_line: int = 1):
    with job.file.open("rb") as handle:
        raw = handle.read()
    return data_rows(
        raw,
        file_format=job.file_format,
        encoding=job.encoding,
        delimiter=job.delimiter,
        width=len(job.headers),
        after_line=after_line,
    )


class _DryRunRollback(Exception):
    pass


@dataclass
class DryRunReport:
    total: int
    created: int
    updated: int
    skipped: int
    failed: int
    problems: list[RowProblem]


def import_dry_run(*, job: ImportJob, user: User) -> DryRunReport:
    """Everything a real run would do, inside a transaction that is rolled back: the counts
    to create / update / skip and every bad row. Nothing is written."""
    resource = resource_for(job.model_label)
    require_import(user=user, resource=resource)
    context = resource.context(user=user, mapping=job.mapping)
    total = BatchOutcome()
    try:
        with transaction.atomic():
            for batch in _batches(_job_rows(job), batch_size()):
                total.add(
                    process_rows(
                        resource=resource,
                        context=context,
                        mapping=job.mapping,
                        policy=job.policy,
                        batch=batch,
                    )
                )
            raise _DryRunRollback
    except _DryRunRollback:
        pass
    return DryRunReport(
        total=job.total,
        created=total.created,
        updated=total.updated,
        skipped=total.skipped,
        failed=total.failed,
        problems=total.problems,
    )


# --- The background run ----------------------------------------------------------------------
def _enqueue(job_id: int) -> None:
    from guanxi.core.imports.tasks import import_job_task

    import_job_task(job_id)


def import_job_start(*, job: ImportJob, user: User) -> ImportJob:
    """Queue the run; the worker picks it up once this transaction commits."""
    resource = resource_for(job.model_label)
    require_import(user=user, resource=resource)
    if job.status != ImportStatus.DRAFT:
        raise ActionNotAllowed(_("This import has already started."))
    _clean_mapping(resource=resource, headers=job.headers, mapping=job.mapping)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.QUEUED, updated_at=timezone.now()
    )
    job.status = ImportStatus.QUEUED
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def import_job_resume(*, job: ImportJob, user: User) -> ImportJob:
    """Run an interrupted job again: it continues after its last committed line."""
    if not job_is_visible(job=job, user=user):
        raise ActionNotAllowed(_("This import is not yours."))
    if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.FAILED):
        raise ActionNotAllowed(_("Only an unfinished import can be resumed."))
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.QUEUED, error_message="", updated_at=timezone.now()
    )
    job.status = ImportStatus.QUEUED
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _mark(job_id: int, **fields: Any) -> None:
    ImportJob.objects.filter(pk=job_id).update(updated_at=timezone.now(), **fields)


def import_job_process(job_id: int) -> ImportJob | None:
    """The worker's body: process the rows after `last_line` in committed batches."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return job
    actor = job.created_by
    resource = get_resource(job.model_label)
    if actor is None or not actor.is_active or resource is None:
        _mark(job_id, status=ImportStatus.FAILED, error_message=_("The import cannot run."))
        return job
    if not can(actor, resource.model, "import"):
        _mark(
            job_id,
            status=ImportStatus.FAILED,
            error_message=_("Your role does not allow importing these records."),
        )
        return job
    _mark(job_id, status=ImportStatus.RUNNING, started_at=job.started_at or timezone.now())
    try:
        context = resource.context(user=actor, mapping=job.mapping)
        for batch in _batches(_job_rows(job, after_line=job.last_line), batch_size()):
            if not _process_batch(job_id=job_id, resource=resource, context=context, batch=batch):
                return ImportJob.objects.get(pk=job_id)
    except Exception as error:
        logger.exception("Import job %s failed", job_id)
        _mark(job_id, status=ImportStatus.FAILED, error_message=str(error)[:2000])
        return ImportJob.objects.get(pk=job_id)
    _mark(job_id, status=ImportStatus.DONE, finished_at=timezone.now())
    return ImportJob.objects.get(pk=job_id)


@transaction.atomic
def _process_batch(
    *, job_id: int, resource: ModelResource, context: ImportContext, batch: list
) -> bool:
    """One committed batch. False when the job is no longer running (stop)."""
    job = ImportJob.objects.select_for_update().get(pk=job_id)
    if job.status != ImportStatus.RUNNING:
        return False
    last_line = batch[-1][0]
    todo = [(line, values) for line, values in batch if line > job.last_line]
    if todo:
        done = set(
            ImportedRow.objects.filter(
                job_id=job_id, line__in=[line for line, _values in todo]
            ).values_list("line", flat=True)
        )
        todo = [(line, values) for line, values in todo if line not in done]
    outcome = process_rows(
        resource=resource, context=context, mapping=job.mapping, policy=job.policy, batch=todo
    )
    ImportRowError.objects.bulk_create(
        ImportRowError(
            job_id=job_id,
            line=problem.line,
            field=problem.field[:100],
            reason=problem.reason,
            row=problem.row,
        )
        for problem in outcome.problems
    )
    failed_lines = sorted({problem.line for problem in outcome.problems})
    ImportedRow.objects.bulk_create(
        [
            *(
                ImportedRow(job_id=job_id, line=line, object_id=object_id, action=action)
                for line, object_id, action in outcome.handled
            ),
            *(ImportedRow(job_id=job_id, line=line, action="failed") for line in failed_lines),
        ]
    )
    ImportJob.objects.filter(pk=job_id).update(
        processed=F("processed") + len(todo),
        created_count=F("created_count") + outcome.created,
        updated_count=F("updated_count") + outcome.updated,
        skipped_count=F("skipped_count") + outcome.skipped,
        failed_count=F("failed_count") + outcome.failed,
        last_line=max(last_line, job.last_line),
        updated_at=timezone.now(),
    )
    return True


def import_jobs_resume_stale() -> list[int]:
    """Queue again the jobs whose worker went silent (crashed) while running."""
    cutoff = timezone.now() - stale_after()
    ids = list(
        ImportJob.objects.filter(status=ImportStatus.RUNNING, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for job_id in ids:
        _enqueue(job_id)
    return ids


# --- Files for download ------------------------------------------------------------------------
def _csv_line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value
    if isinstance(value, str | int | float | datetime.date) or value is None:
        return value
    return str(value)


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).isoformat(sep=" ", timespec="seconds")
    return value


def _xlsx_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(list(header))
    for row in rows:
        sheet.append([_xlsx_value(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def _csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str):
    def stream():
        yield "\ufeff" + _csv_line(header)
        for row in rows:
            yield _csv_line([_csv_value(value) for value in row])

    response = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in stream()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def error_rows(job: ImportJob) -> tuple[list[str], list[list[Any]]]:
    """The bad rows as they were in the file, plus an "error" column saying what to fix."""
    header_of = {key: header for header, key in zip(job.headers, job.mapping, strict=False) if key}
    by_line: dict[int, tuple[list[str], list[str]]] = {}
    for problem in job.row_errors.order_by("line", "id").iterator():
        values, reasons = by_line.setdefault(problem.line, (list(problem.row), []))
        column = header_of.get(problem.field, problem.field)
        reasons.append(f"{column}: {problem.reason}" if column else problem.reason)
    header = [*job.headers, _("error")]
    rows = [[*values, "; ".join(reasons)] for values, reasons in by_line.values()]
    return header, rows


def error_file_response(*, job: ImportJob, fmt: str):
    header, rows = error_rows(job)
    filename = f"import-{job.pk}-errors"
    if fmt == "xlsx":
        return _xlsx_response(header, rows, filename)
    return _csv_response(header, rows, filename)


# --- Export ------------------------------------------------------------------------------------
def audit_export(
    *, model: type[models.Model], actor: User, count: int, filters: str = "", fmt: str = ""
) -> ChangeRecord:
    """One history entry per export: who exported how many records of which kind, filtered
    how. There is no single record, so it hangs off the model with object id 0."""
    message = _("Exported %(count)d records") % {"count": count}
    if fmt:
        message = f"{message} ({fmt})"
    if filters:
        message = f"{message}; {_('filters')}: {filters}"
    return ChangeRecord.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_id=0,
        object_repr=str(model._meta.verbose_name_plural)[:200],
        action=ChangeAction.EXPORT,
        actor=actor if actor and actor.pk else None,
        request_id=current_request_id(),
        message=message[:500],
    )


def export_queryset(
    *,
    user: User,
    model: type[models.Model],
    queryset=None,
    columns: Sequence[str] | None = None,
    fmt: str = "csv",
    filters: str = "",
):
    """A CSV (streamed, UTF-8 with BOM so Excel reads Chinese) or XLSX download of the
    records of `queryset` the user may see. Needs the role action "export"; audited."""
    require_export(user=user, model=model)
    resource = get_resource(model._meta.label_lower)
    if resource is None:
        raise ValidationError(_("This kind of record cannot be exported."))
    if fmt not in ("csv", "xlsx"):
        raise ValidationError({"fmt": [_("Choose csv or xlsx.")]})
    # Shared master data (products) has no data scope: every record is visible.
    visible = (
        model.objects.visible_to(user)
        if hasattr(model.objects, "visible_to")
        else model.objects.all()
    )
    if queryset is not None:
        visible = visible.filter(pk__in=queryset.values("pk"))
    specs = resource.export_specs()
    if columns:
        wanted = list(columns)
        by_key = {spec.key: spec for spec in specs}
        specs = [by_key[key] for key in wanted if key in by_key]
    ordering = (queryset.query.order_by if queryset is not None else None) or ["pk"]
    visible = visible.select_related(*resource.export_related()).order_by(*ordering)
    prefetch = getattr(resource, "export_prefetch", None)
    if prefetch is not None:  # related lists (a contact's phones), per chunk of the iterator
        visible = visible.prefetch_related(*prefetch())
    count = visible.count()
    audit_export(model=model, actor=user, count=count, filters=filters, fmt=fmt)
    header = [spec.label for spec in specs]

    def rows():
        for record in visible.iterator(chunk_size=2000):
            yield [resource.export_value(record, spec) for spec in specs]

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"{model._meta.model_name}s-{stamp}"
    if fmt == "xlsx":
        return _xlsx_response(header, rows(), filename)
    return _csv_response(header, rows(), filename)
