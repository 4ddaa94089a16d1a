"""Web-to-lead forms: the administrators' designer (list, create, edit, delete, preview,
embeddable snippet) and the public side: the hosted page `/leads/f/<key>/` (no login, in
the visitor's language), and the token URL the embedded snippet asks for a fresh signed
timestamp. The public endpoint is CSRF-exempt: the signed timestamp, the honeypot and the
per-IP rate limit protect it instead (see `services/capture.py`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.forms.generic import apply_service_errors
from guanxi.core.scope import is_administrator
from guanxi.leads.forms import WebFormDesignForm, field_label
from guanxi.leads.models import WebForm
from guanxi.leads.selectors.capture import web_form_by_key, web_form_list, web_form_submissions
from guanxi.leads.services.capture import (
    HONEYPOT_FIELD,
    TIMESTAMP_FIELD,
    RateLimited,
    SubmissionRefused,
    web_form_create,
    web_form_delete,
    web_form_submit,
    web_form_token,
    web_form_update,
)

INPUT_TYPES = {"email": "email", "phone": "tel", "website": "url"}
PUBLIC_LANGUAGES = ("zh-hans", "en")


# --- The public side ---------------------------------------------------------------------------
def visitor_language(request) -> str:
    """`?lang=` when given, else what the browser asked for (LocaleMiddleware)."""
    wanted = (request.GET.get("lang") or request.POST.get("lang") or "").lower()
    if wanted in PUBLIC_LANGUAGES:
        return wanted
    if wanted.startswith("zh"):
        return "zh-hans"
    current = translation.get_language() or "zh-hans"
    return "zh-hans" if current.startswith("zh") else "en"


def public_fields(form: WebForm, language: str, values=None, errors=None) -> list[dict]:
    values = values or {}
    errors = errors or {}
    return [
        {
            "name": spec["field"],
            "label": field_label(spec, language),
            "required": bool(spec.get("required")),
            "type": INPUT_TYPES.get(spec["field"], "text"),
            "textarea": spec["field"] in ("notes", "address"),
            "value": values.get(spec["field"], ""),
            "errors": errors.get(spec["field"], []),
        }
        for spec in form.fields
    ]


def _texts(form: WebForm, language: str) -> dict[str, str]:
    zh = language.startswith("zh")
    title = (form.title_zh or form.title_en) if zh else (form.title_en or form.title_zh)
    thanks = (
        (form.thank_you_zh or form.thank_you_en) if zh else (form.thank_you_en or form.thank_you_zh)
    )
    return {
        "title": title or form.name,
        "thank_you": thanks or _("Thank you. We will be in touch soon."),
    }


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _public_page(request, form, language, *, status=200, values=None, errors=None, **extra):
    context = {
        "form": form,
        "language": language,
        "fields": public_fields(form, language, values, errors),
        "token": web_form_token(form),
        "honeypot_field": HONEYPOT_FIELD,
        "timestamp_field": TIMESTAMP_FIELD,
        "action": request.path,
        "other_language": "en" if language.startswith("zh") else "zh-hans",
        **_texts(form, language),
        **extra,
    }
    return TemplateResponse(request, "leads/capture/hosted.html", context, status=status)


@csrf_exempt
@xframe_options_exempt
@never_cache
def hosted_form(request, key: str):
    """The hosted page: GET shows the form, POST submits it."""
    form = web_form_by_key(key)
    if form is None:
        raise Http404
    language = visitor_language(request)
    with translation.override(language):
        if not form.is_active:
            return _public_page(
                request, form, language, status=410, closed=_("This form is closed.")
            )
        if request.method != "POST":
            return _public_page(request, form, language)
        values = {spec["field"]: request.POST.get(spec["field"], "") for spec in form.fields}
        try:
            result = web_form_submit(form=form, data=request.POST.dict(), ip=_client_ip(request))
        except RateLimited as error:
            return _public_page(
                request, form, language, status=429, values=values, refused=error.message
            )
        except SubmissionRefused as error:
            return _public_page(
                request, form, language, status=400, values=values, refused=error.message
            )
        except ValidationError as error:
            errors = error.message_dict if hasattr(error, "error_dict") else {}
            extra = {} if errors else {"refused": " ".join(error.messages)}
            return _public_page(
                request, form, language, status=400, values=values, errors=errors, **extra
            )
        return TemplateResponse(
            request,
            "leads/capture/thanks.html",
            {"form": form, "language": language, "submitted": result, **_texts(form, language)},
        )


@never_cache
def form_token(request, key: str):
    """A fresh signed timestamp for the embedded snippet (any origin may ask)."""
    form = web_form_by_key(key)
    if form is None or not form.is_active:
        raise Http404
    response = JsonResponse({"field": TIMESTAMP_FIELD, "token": web_form_token(form)})
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- The administrators' designer --------------------------------------------------------------
def _forbidden(request):
    return TemplateResponse(
        request,
        "core/generic/forbidden.html",
        {"message": _("Only an administrator can design web forms.")},
        status=403,
    )


def embed_snippet(request, form: WebForm, language: str) -> str:
    """The HTML a website pastes in: a form posting to the hosted endpoint, with the labels,
    the hidden honeypot and timestamp, and a small script that fetches a fresh timestamp."""
    with translation.override(language):
        return render_to_string(
            "leads/capture/embed_snippet.html",
            {
                "form": form,
                "fields": public_fields(form, language),
                "action": request.build_absolute_uri(
                    reverse("leads:web_form_hosted", args=[form.key])
                )
                + f"?lang={language}",
                "token_url": request.build_absolute_uri(
                    reverse("leads:web_form_token", args=[form.key])
                ),
                "token": web_form_token(form),
                "honeypot_field": HONEYPOT_FIELD,
                "timestamp_field": TIMESTAMP_FIELD,
                "submit_label": _("Submit"),
                **_texts(form, language),
            },
        ).strip()


@login_required
def web_form_index(request):
    if not is_administrator(request.user):
        return _forbidden(request)
    return TemplateResponse(request, "leads/capture/list.html", {"forms": list(web_form_list())})


def _design_page(request, design_form, record=None, status=200) -> TemplateResponse:
    context: dict[str, Any] = {"design_form": design_form, "record": record}
    if record is not None:
        language = visitor_language(request)
        context.update(
            {
                "snippet": embed_snippet(request, record, language),
                "snippet_language": language,
                "hosted_url": request.build_absolute_uri(
                    reverse("leads:web_form_hosted", args=[record.key])
                ),
                "submissions": web_form_submissions(form=record),
            }
        )
    return TemplateResponse(request, "leads/capture/design.html", context, status=status)


@login_required
def web_form_new(request):
    if not is_administrator(request.user):
        return _forbidden(request)
    design_form = WebFormDesignForm(request.POST or None)
    if request.method == "POST" and design_form.is_valid():
        try:
            record = web_form_create(
                actor=request.user,
                data=design_form.model_data(),
                fields=design_form.fields_spec(),
            )
        except ValidationError as error:
            apply_service_errors(design_form, error)
        except ActionNotAllowed:
            return _forbidden(request)
        else:
            messages.success(request, _("Web form “%(name)s” created.") % {"name": record.name})
            return redirect("leads:web_form_edit", pk=record.pk)
    status = 400 if request.method == "POST" else 200
    return _design_page(request, design_form, status=status)


@login_required
def web_form_edit(request, pk: int):
    if not is_administrator(request.user):
        return _forbidden(request)
    record = get_object_or_404(WebForm, pk=pk)
    design_form = WebFormDesignForm(request.POST or None, instance=record)
    if request.method == "POST" and design_form.is_valid():
        try:
            web_form_update(
                form=record,
                actor=request.user,
                data=design_form.model_data(),
                fields=design_form.fields_spec(),
            )
        except ValidationError as error:
            apply_service_errors(design_form, error)
        else:
            messages.success(request, _("Web form “%(name)s” saved.") % {"name": record.name})
            return redirect("leads:web_form_edit", pk=record.pk)
    status = 400 if request.method == "POST" else 200
    record.refresh_from_db()
    return _design_page(request, design_form, record, status=status)


@login_required
def web_form_preview(request, pk: int):
    if not is_administrator(request.user):
        return _forbidden(request)
    record = get_object_or_404(WebForm, pk=pk)
    language = visitor_language(request)
    with translation.override(language):
        return _public_page(request, record, language, preview=True)


@login_required
def web_form_remove(request, pk: int):
    if not is_administrator(request.user):
        return _forbidden(request)
    record = get_object_or_404(WebForm, pk=pk)
    if request.method != "POST":
        return redirect("leads:web_form_edit", pk=record.pk)
    web_form_delete(form=record, actor=request.user)
    messages.success(request, _("Web form “%(name)s” deleted.") % {"name": record.name})
    return redirect("leads:web_form_list")


urlpatterns = [
    path("f/<str:key>/", hosted_form, name="web_form_hosted"),
    path("f/<str:key>/token/", form_token, name="web_form_token"),
    path("forms/", web_form_index, name="web_form_list"),
    path("forms/new/", web_form_new, name="web_form_create"),
    path("forms/<int:pk>/", web_form_edit, name="web_form_edit"),
    path("forms/<int:pk>/preview/", web_form_preview, name="web_form_preview"),
    path("forms/<int:pk>/delete/", web_form_remove, name="web_form_delete"),
]
