"""Web-to-lead forms: the administrator's design (fields, labels, thank-you texts, target),
and the public submission with its protections.

A submission is checked in this order:
1. the per-IP rate limit (`GUANXI_WEB_FORM_RATE_LIMIT` submissions per
   `GUANXI_WEB_FORM_RATE_WINDOW` seconds and form; default 5 per 10 minutes) -> RateLimited;
2. the honeypot: a filled one is silently "accepted" but nothing is kept (logged refused);
3. the signed timestamp the form carries: missing, tampered, older than a day or sent
   within ~2 seconds of loading the form (a bot) -> SubmissionRefused;
4. the fields (required, e-mail, phone, lengths) -> ValidationError by field.
Then an open lead with the same e-mail or phone is filled in (and told so on its timeline)
instead of a second lead being created; otherwise a lead is created through `lead_create`
with the form's owner (or none, so the assignment rules or the pool decide).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import User
from guanxi.core.phones import email_normalise, phone_normalise
from guanxi.core.scope import is_administrator
from guanxi.core.services.records import timeline_add
from guanxi.leads.models import Lead, WebForm, WebFormSubmission
from guanxi.leads.selectors.leads import open_lead_matching
from guanxi.leads.services.leads import lead_create, lead_update

HONEYPOT_FIELD = "gx_homepage"
TIMESTAMP_FIELD = "gx_ts"
SIGNING_SALT = "guanxi.leads.web_form"
MAX_AGE = datetime.timedelta(days=1)
MIN_AGE = datetime.timedelta(seconds=2)
DEFAULT_RATE_LIMIT = 5
DEFAULT_RATE_WINDOW = 600  # seconds

# The lead fields a form may ask for.
FORM_FIELD_NAMES = (
    "name",
    "company",
    "title",
    "phone",
    "email",
    "wechat",
    "website",
    "province",
    "city",
    "address",
    "notes",
)

# Refusal reasons, as logged on WebFormSubmission.reason.
HONEYPOT = "honeypot"
NO_TIMESTAMP = "no_timestamp"
BAD_TIMESTAMP = "bad_timestamp"
EXPIRED = "expired"
TOO_FAST = "too_fast"
FORM_CLOSED = "form_closed"


class SubmissionRefused(Exception):
    """The submission is not from a person filling the form (or the form is closed)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class RateLimited(SubmissionRefused):
    def __init__(self) -> None:
        super().__init__(
            "rate_limited",
            _("Too many submissions from your address. Please try again in a few minutes."),
        )


@dataclass
class SubmissionResult:
    lead: Lead | None
    created: bool = False
    updated: bool = False
    # A honeypot submission looks accepted to the sender, but nothing was kept.
    discarded: bool = False


# --- hooks -----------------------------------------------------------------------------------
# Called after an accepted submission created or updated a lead (engagement scoring):
# fn(*, lead, form) -> None.
_submission_hooks: list[Callable[..., None]] = []


def register_submission_hook(fn: Callable[..., None]) -> None:
    if fn not in _submission_hooks:
        _submission_hooks.append(fn)


# --- the administrator's design --------------------------------------------------------------
def _require_admin(actor: User) -> None:
    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can design web forms."))


def web_form_fields_clean(fields: Any) -> list[dict]:
    if not isinstance(fields, list) or not fields:
        raise ValidationError({"fields": _("Choose at least one field for the form.")})
    cleaned, seen = [], set()
    for item in fields:
        name = item.get("field") if isinstance(item, dict) else None
        if name not in FORM_FIELD_NAMES:
            raise ValidationError({"fields": _("%(field)s is not a lead field.") % {"field": name}})
        if name in seen:
            raise ValidationError(
                {"fields": _("%(field)s is on the form twice.") % {"field": name}}
            )
        seen.add(name)
        cleaned.append(
            {
                "field": name,
                "label_zh": str(item.get("label_zh") or "")[:100],
                "label_en": str(item.get("label_en") or "")[:100],
                "required": bool(item.get("required")),
            }
        )
    if not seen & {"name", "phone", "email", "wechat"}:
        raise ValidationError(
            {"fields": _("Ask for a name, a phone, an e-mail or a WeChat id at least.")}
        )
    return cleaned


def _check_target(data: dict[str, Any]) -> None:
    if data.get("owner") is not None and data.get("pool") is not None:
        raise ValidationError(
            _("Send the leads to a person or to a pool, not both (or to neither, for the rules).")
        )


@transaction.atomic
def web_form_create(*, actor: User, data: dict[str, Any], fields: list[dict]) -> WebForm:
    _require_admin(actor)
    _check_target(data)
    form = WebForm(**data, fields=web_form_fields_clean(fields), created_by=actor)
    form.full_clean()
    form.save()
    return form


@transaction.atomic
def web_form_update(
    *, form: WebForm, actor: User, data: dict[str, Any], fields: list[dict] | None = None
) -> WebForm:
    _require_admin(actor)
    _check_target({"owner": data.get("owner", form.owner), "pool": data.get("pool", form.pool)})
    for name, value in data.items():
        setattr(form, name, value)
    if fields is not None:
        form.fields = web_form_fields_clean(fields)
    form.full_clean()
    form.save()
    return form


def web_form_delete(*, form: WebForm, actor: User) -> None:
    _require_admin(actor)
    form.delete()


# --- the signed timestamp --------------------------------------------------------------------
def _signer() -> signing.Signer:
    return signing.Signer(salt=SIGNING_SALT)


def web_form_token(form: WebForm, *, now: datetime.datetime | None = None) -> str:
    """The value of the hidden timestamp field: when the form was served, signed."""
    moment = now or timezone.now()
    return _signer().sign(f"{form.key}:{int(moment.timestamp())}")


def _check_token(form: WebForm, token: str, now: datetime.datetime) -> None:
    if not token:
        raise SubmissionRefused(NO_TIMESTAMP, _("The form has expired. Please reload the page."))
    try:
        value = _signer().unsign(token)
        key, _sep, stamp = value.rpartition(":")
        served = datetime.datetime.fromtimestamp(int(stamp), tz=datetime.UTC)
    except (signing.BadSignature, ValueError, OverflowError, OSError):
        raise SubmissionRefused(
            BAD_TIMESTAMP, _("The form has expired. Please reload the page.")
        ) from None
    if key != form.key:
        raise SubmissionRefused(BAD_TIMESTAMP, _("The form has expired. Please reload the page."))
    age = now - served
    if age > MAX_AGE:
        raise SubmissionRefused(EXPIRED, _("The form has expired. Please reload the page."))
    if age < MIN_AGE:
        raise SubmissionRefused(
            TOO_FAST, _("That was too fast. Please check your entries and send the form again.")
        )


# --- validation of the visitor's fields ------------------------------------------------------
def _clean_fields(form: WebForm, data: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for spec in form.fields:
        name = spec["field"]
        raw = data.get(name)
        if isinstance(raw, list):
            raw = raw[0] if raw else ""
        value = str(raw or "").strip()
        if not value:
            if spec.get("required"):
                errors[name] = [_("This field is required.")]
            continue
        model_field = Lead._meta.get_field(name)
        max_length = getattr(model_field, "max_length", None)
        if max_length and len(value) > max_length:
            errors[name] = [
                _("Enter at most %(count)d characters.") % {"count": max_length},
            ]
            continue
        try:
            if name == "email":
                value = email_normalise(value)
            elif name == "phone":
                value = phone_normalise(value).display
            elif name == "website":
                if "://" not in value:
                    value = f"https://{value}"
                URLValidator()(value)
        except ValidationError as error:
            errors[name] = (
                [_("Enter a valid web address.")] if name == "website" else error.messages
            )
            continue
        values[name] = value
    if errors:
        raise ValidationError(errors)
    return values


def _lead_name(values: dict[str, str]) -> str:
    return (
        values.get("name")
        or values.get("company")
        or values.get("email")
        or values.get("phone")
        or values.get("wechat")
        or _("Web visitor")
    )[:100]


def _form_actor(form: WebForm) -> User:
    """Who creates the form's leads: its designer, or any active administrator."""
    if form.created_by is not None and form.created_by.is_active:
        return form.created_by
    for user in User.objects.filter(is_active=True).order_by("-is_superuser", "pk"):
        if is_administrator(user):
            return user
    raise ActionNotAllowed(_("Nobody may receive this form's leads."))


def _count_recent(form: WebForm, ip: str | None, now: datetime.datetime) -> int:
    window = int(getattr(settings, "GUANXI_WEB_FORM_RATE_WINDOW", DEFAULT_RATE_WINDOW))
    return WebFormSubmission.objects.filter(
        form=form, ip=ip, created_at__gte=now - datetime.timedelta(seconds=window)
    ).count()


def _log(form, ip, *, accepted, reason="", lead=None, data=None, now=None) -> None:
    submission = WebFormSubmission.objects.create(
        form=form, ip=ip, lead=lead, accepted=accepted, reason=reason, data=data or {}
    )
    if now is not None:
        # A submission "at" a given moment (tests, replays) counts in that moment's window.
        WebFormSubmission.objects.filter(pk=submission.pk).update(created_at=now)


def _fill_in(lead: Lead, values: dict[str, str], actor: User) -> list[str]:
    """Fill the lead's empty fields from the submission; answers the names filled."""
    data = {
        name: value
        for name, value in values.items()
        if name != "notes" and value and not getattr(lead, name)
    }
    if not lead.notes and values.get("notes"):
        data["notes"] = values["notes"]
    if data:
        lead_update(lead=lead, actor=actor, data=data)
    return sorted(data)


def _run_hooks(lead: Lead, form: WebForm) -> None:
    for hook in _submission_hooks:
        hook(lead=lead, form=form)


def web_form_submit(
    *,
    form: WebForm,
    data: dict[str, Any],
    ip: str | None,
    now: datetime.datetime | None = None,
) -> SubmissionResult:
    """Take one submission of the public form (see the module docstring for the rules).

    Raises RateLimited, SubmissionRefused or ValidationError (by field)."""
    moment = now or timezone.now()
    refused: SubmissionRefused | None = None
    with transaction.atomic():
        # One submission of a form at a time: the rate-limit count cannot be raced.
        form = WebForm.objects.select_for_update().get(pk=form.pk)
        if not form.is_active:
            raise SubmissionRefused(FORM_CLOSED, _("This form no longer accepts submissions."))
        limit = int(getattr(settings, "GUANXI_WEB_FORM_RATE_LIMIT", DEFAULT_RATE_LIMIT))
        if _count_recent(form, ip, moment) >= limit:
            raise RateLimited()
        kept = {name: str(data.get(name) or "")[:500] for name in FORM_FIELD_NAMES if name in data}
        if str(data.get(HONEYPOT_FIELD) or "").strip():
            _log(form, ip, accepted=False, reason=HONEYPOT, data=kept, now=now)
            return SubmissionResult(lead=None, discarded=True)
        try:
            _check_token(form, str(data.get(TIMESTAMP_FIELD) or ""), moment)
        except SubmissionRefused as error:
            # Logged (it counts towards the rate limit), then refused outside the transaction.
            _log(form, ip, accepted=False, reason=error.reason, data=kept, now=now)
            refused = error
        else:
            return _accept(form=form, values=_clean_fields(form, data), ip=ip, kept=kept, now=now)
    raise refused


def _accept(*, form: WebForm, values: dict[str, str], ip, kept: dict, now) -> SubmissionResult:
    actor = _form_actor(form)
    existing = open_lead_matching(email=values.get("email", ""), phone=values.get("phone", ""))
    if existing is not None:
        filled = _fill_in(existing, values, actor)
        timeline_add(
            record=existing,
            kind="web_form",
            text=_("Submitted the form “%(form)s” again.") % {"form": form.name},
            actor=None,
            data={"web_form": form.pk, "filled": filled, "message": values.get("notes", "")},
        )
        _log(form, ip, accepted=True, reason="updated", lead=existing, data=kept, now=now)
        _run_hooks(existing, form)
        return SubmissionResult(lead=existing, updated=True)
    lead_data: dict[str, Any] = {
        **values,
        "name": _lead_name(values),
        "owner": form.owner if form.owner_id and form.owner.is_active else None,
        "web_form": form,
    }
    if form.source_id:
        lead_data["source"] = form.source
    lead = lead_create(actor=actor, data=lead_data, origin="web_form")
    timeline_add(
        record=lead,
        kind="web_form",
        text=_("Came in through the web form “%(form)s”.") % {"form": form.name},
        actor=None,
        data={"web_form": form.pk},
    )
    _log(form, ip, accepted=True, reason="created", lead=lead, data=kept, now=now)
    _run_hooks(lead, form)
    return SubmissionResult(lead=lead, created=True)
