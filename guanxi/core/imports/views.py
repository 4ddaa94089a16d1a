"""Import pages (upload -> mapping -> dry run -> progress and report) and the export download.
Thin: every decision is in services.py / selectors.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.imports import services
from guanxi.core.imports.forms import MappingForm, UploadForm
from guanxi.core.imports.resources import get_resource
from guanxi.core.imports.selectors import import_job_errors, import_job_get_visible
from guanxi.core.models import ImportStatus
from guanxi.core.scope import can

ERRORS_SHOWN = 500


def _forbidden(request, message: str):
    return TemplateResponse(
        request, "core/generic/forbidden.html", {"message": message}, status=403
    )


def _resource_or_404(model_label: str):
    resource = get_resource(model_label)
    if resource is None:
        raise Http404
    return resource


def _list_url(resource) -> str:
    from guanxi.core.views.registry import get_registration

    registration = get_registration(resource.model)
    return registration.url("list") if registration is not None else reverse("home")


def _error_messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [message for messages_ in error.message_dict.values() for message in messages_]
    return list(error.messages)


@login_required
def upload_view(request, model_label):
    resource = _resource_or_404(model_label)
    if not can(request.user, resource.model, "import"):
        return _forbidden(request, _("Your role does not allow importing these records."))
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_upload(
                user=request.user,
                model_label=resource.label,
                uploaded_file=form.cleaned_data["file"],
            )
        except ValidationError as error:
            for message in _error_messages(error):
                form.add_error("file", message)
        else:
            return redirect("imports:mapping", pk=job.pk)
    context = {
        "form": form,
        "resource": resource,
        "verbose_name_plural": resource.verbose_name_plural,
        "list_url": _list_url(resource),
        "specs": resource.field_specs(),
    }
    return TemplateResponse(request, "core/imports/upload.html", context)


def _job_context(job, resource, **extra):
    return {
        "job": job,
        "resource": resource,
        "verbose_name_plural": resource.verbose_name_plural,
        "list_url": _list_url(resource),
        **extra,
    }


def _draft_job(request, pk):
    job = import_job_get_visible(user=request.user, pk=pk)
    resource = _resource_or_404(job.model_label)
    return job, resource


@login_required
def mapping_view(request, pk):
    job, resource = _draft_job(request, pk)
    if job.status != ImportStatus.DRAFT:
        return redirect("imports:job", pk=job.pk)
    if not can(request.user, resource.model, "import"):
        return _forbidden(request, _("Your role does not allow importing these records."))
    specs = resource.field_specs()
    form = MappingForm(
        request.POST or None,
        headers=job.headers,
        specs=specs,
        mapping=job.mapping,
        policy=job.policy,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.import_job_set_mapping(
                job=job,
                user=request.user,
                mapping=form.mapping(),
                policy=form.cleaned_data["policy"],
            )
        except ValidationError as error:
            for message in _error_messages(error):
                form.add_error(None, message)
        else:
            return redirect("imports:preview", pk=job.pk)
    with job.file.open("rb") as handle:
        from guanxi.core.imports.parsing import data_rows

        sample = []
        for _line, values in data_rows(
            handle.read(),
            file_format=job.file_format,
            encoding=job.encoding,
            delimiter=job.delimiter,
            width=len(job.headers),
        ):
            sample.append(values)
            if len(sample) == 3:
                break
    columns = [
        {
            "field": bound,
            "header": header,
            "samples": [row[index] for row in sample if index < len(row)],
        }
        for index, (header, bound) in enumerate(zip(job.headers, form.column_fields(), strict=True))
    ]
    return TemplateResponse(
        request,
        "core/imports/mapping.html",
        _job_context(job, resource, form=form, columns=columns),
    )


@login_required
def preview_view(request, pk):
    job, resource = _draft_job(request, pk)
    if job.status != ImportStatus.DRAFT:
        return redirect("imports:job", pk=job.pk)
    if request.method == "POST":
        try:
            services.import_job_start(job=job, user=request.user)
        except ActionNotAllowed as error:
            return _forbidden(request, str(error))
        except ValidationError as error:
            for message in _error_messages(error):
                messages.error(request, message)
            return redirect("imports:mapping", pk=job.pk)
        return redirect("imports:job", pk=job.pk)
    try:
        report = services.import_dry_run(job=job, user=request.user)
    except ActionNotAllowed as error:
        return _forbidden(request, str(error))
    labels = {spec.key: spec.label for spec in resource.field_specs()}
    headers = {key: header for header, key in zip(job.headers, job.mapping, strict=False) if key}
    problems = [
        {
            "line": problem.line,
            "field": labels.get(problem.field, problem.field),
            "column": headers.get(problem.field, ""),
            "reason": problem.reason,
        }
        for problem in report.problems
    ]
    mapped = [
        (header, labels.get(key, key))
        for header, key in zip(job.headers, job.mapping, strict=False)
    ]
    return TemplateResponse(
        request,
        "core/imports/preview.html",
        _job_context(job, resource, report=report, problems=problems, mapped=mapped),
    )


@login_required
def job_view(request, pk):
    job = import_job_get_visible(user=request.user, pk=pk)
    resource = _resource_or_404(job.model_label)
    errors = import_job_errors(job=job, limit=ERRORS_SHOWN) if not job.is_active else []
    context = _job_context(
        job,
        resource,
        errors=errors,
        errors_truncated=job.failed_count > 0 and len(errors) >= ERRORS_SHOWN,
    )
    if getattr(request, "htmx", False):
        return TemplateResponse(request, "core/imports/_progress.html", context)
    return TemplateResponse(request, "core/imports/job.html", context)


@login_required
@require_POST
def resume_view(request, pk):
    job = import_job_get_visible(user=request.user, pk=pk)
    try:
        services.import_job_resume(job=job, user=request.user)
    except ActionNotAllowed as error:
        messages.error(request, str(error))
    return redirect("imports:job", pk=job.pk)


@login_required
def errors_view(request, pk, fmt):
    job = import_job_get_visible(user=request.user, pk=pk)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    return services.error_file_response(job=job, fmt=fmt)


@login_required
def export_view(request, model_label):
    """The current list (its filters and quick search) as CSV or Excel."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    resource = _resource_or_404(model_label)
    model = resource.model
    if not can(request.user, model, "export"):
        return _forbidden(request, _("Your role does not allow exporting these records."))
    fmt = request.GET.get("fmt", "csv")
    if fmt not in ("csv", "xlsx"):
        raise Http404
    from guanxi.core.views.registry import get_registration

    queryset = (
        model.objects.visible_to(request.user)
        if hasattr(model.objects, "visible_to")
        else model.objects.all()
    )
    registration = get_registration(model)
    params = request.GET.copy()
    for key in ("fmt", "page", "per_page", "col", "view"):
        params.pop(key, None)
    if registration is not None:
        if registration.filterset_class is not None:
            filterset = registration.filterset_class(params, queryset=queryset, request=request)
            queryset = filterset.qs
        q = params.get("q", "").strip()
        if q and registration.search_fields:
            condition = Q()
            for lookup in registration.search_fields:
                condition |= Q(**{lookup: q})
            queryset = queryset.filter(condition)
        queryset = queryset.order_by(registration.default_sort, "pk")
    columns = [name for name in request.GET.getlist("field") if name]
    return services.export_queryset(
        user=request.user,
        model=model,
        queryset=queryset,
        columns=columns or None,
        fmt=fmt,
        filters=params.urlencode()[:300],
    )
