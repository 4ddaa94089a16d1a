"""Activity and follow-up screens: the generic record views registered for both models,
"my activities" with its filters, and the in-place actions (complete, reschedule,
reassign, cancel, reopen, check in, appointment outcome) and the quick follow-up form that
the lists on customer pages use over htmx.

Thin: every write goes through `guanxi.activities.services`; every read starts from the
user's data scope; a record the user may not see answers 404.
"""

from __future__ import annotations

import json
from typing import Any

import django_filters
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from guanxi.activities import selectors, services
from guanxi.activities.forms import (
    ActivityForm,
    AppointmentOutcomeForm,
    CancelForm,
    CheckInForm,
    CompleteForm,
    FollowUpForm,
    QuickFollowUpForm,
    ReassignForm,
    RescheduleForm,
    validation_text,
)
from guanxi.activities.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    FollowUp,
    Priority,
    Reaction,
)
from guanxi.activities.regarding import regarding_types
from guanxi.core.exceptions import ActionNotAllowed, NotVisible, VersionConflict
from guanxi.core.forms.generic import apply_service_errors, enable_inline_validation
from guanxi.core.scope import can
from guanxi.core.selectors import record_get_visible
from guanxi.core.services.custom_fields import custom_fields_for
from guanxi.core.views import generic
from guanxi.core.views.generic import safe_next_url
from guanxi.core.views.registry import (
    Column,
    ModelRegistration,
    get_registration,
    register_model_views,
)

PAGE_SIZE = 25


# --- registration services ---------------------------------------------------------------------
def _extra(data) -> dict[str, Any]:
    return getattr(data, "extra", {}) or {}


def _visible_or_error(call):
    try:
        return call()
    except NotVisible:
        raise ValidationError(_("You cannot see the record this is about.")) from None


def activity_create_hook(*, data, custom_data, actor):
    extra = _extra(data)
    return _visible_or_error(
        lambda: services.activity_create(
            actor=actor,
            data=dict(data),
            regarding=extra.get("regarding"),
            assignee_ids=extra.get("assignee_ids") or (),
            recurrence=extra.get("recurrence"),
            custom_data=custom_data,
        )
    )


def activity_update_hook(*, instance, data, custom_data, actor, version):
    extra = _extra(data)
    return _visible_or_error(
        lambda: services.activity_update(
            activity=instance,
            actor=actor,
            data=dict(data),
            version=version,
            assignee_ids=extra.get("assignee_ids"),
            regarding=extra.get("regarding", services.UNSET),
            custom_data=custom_data,
        )
    )


def activity_delete_hook(*, instance, actor, version):
    services.activity_delete(activity=instance, actor=actor, version=version)


def activity_assign_hook(*, instance, owner, actor, reason, version=None):
    return services.activity_reassign(
        activity=instance, actor=actor, owner=owner, reason=reason, version=version
    )


def follow_up_create_hook(*, data, custom_data, actor):
    extra = _extra(data)
    return _visible_or_error(
        lambda: services.follow_up_create(
            actor=actor,
            regarding=extra["regarding"],
            channel=data.get("channel") or "",
            content=data.get("content") or "",
            reaction=data.get("reaction") or "",
            reaction_note=data.get("reaction_note") or "",
            followed_up_at=extra.get("followed_up_at"),
            next_follow_up_at=extra.get("next_follow_up_at"),
            next_subject=extra.get("next_subject") or "",
        )
    )


def follow_up_update_hook(*, instance, data, custom_data, actor, version):
    return services.follow_up_update(
        follow_up=instance, actor=actor, data=dict(data), version=version
    )


def follow_up_delete_hook(*, instance, actor, version):
    services.follow_up_delete(follow_up=instance, actor=actor, version=version)


# --- columns and filters -----------------------------------------------------------------------
def _kind_column() -> Column:
    kinds: dict[str, selectors.KindOption] = {}

    def prepare(records):
        kinds.clear()
        kinds.update(selectors.activity_kinds(include_inactive=True))

    def accessor(activity):
        return selectors.kind_display(activity.kind, kinds).label

    return Column("kind", gettext_lazy("type"), accessor=accessor, prepare=prepare, sortable=True)


def _channel_column() -> Column:
    channels: dict[str, str] = {}

    def prepare(records):
        channels.clear()
        channels.update(dict(selectors.follow_up_channels()))

    def accessor(follow_up):
        return channels.get(follow_up.channel, follow_up.channel)

    return Column("channel", gettext_lazy("channel"), accessor=accessor, prepare=prepare)


def _kind_choices(request=None):
    return [(value, kind.label) for value, kind in selectors.activity_kinds().items()]


class ActivityFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("status"), choices=ActivityStatus.choices
    )
    kind = django_filters.ChoiceFilter(label=gettext_lazy("type"), choices=_kind_choices)
    priority = django_filters.ChoiceFilter(label=gettext_lazy("priority"), choices=Priority.choices)
    due = django_filters.DateFromToRangeFilter(field_name="due_at", label=gettext_lazy("due"))

    class Meta:
        model = Activity
        fields = ["status", "kind", "priority"]


class FollowUpFilterSet(django_filters.FilterSet):
    reaction = django_filters.ChoiceFilter(
        label=gettext_lazy("customer's reaction"), choices=Reaction.choices
    )
    followed_up = django_filters.DateFromToRangeFilter(
        field_name="followed_up_at", label=gettext_lazy("followed up at")
    )

    class Meta:
        model = FollowUp
        fields = ["reaction"]


activity_registration = ModelRegistration(
    model=Activity,
    columns=[
        Column("subject", gettext_lazy("subject"), sortable=True, link=True),
        _kind_column(),
        Column("due_at", gettext_lazy("due"), sortable=True),
        Column("status", gettext_lazy("status"), sortable=True),
        Column("priority", gettext_lazy("priority"), sortable=True),
        Column("account", gettext_lazy("account")),
        Column("owner", gettext_lazy("owner"), sortable=True, order_by="owner__display_name"),
        Column("start_at", gettext_lazy("start"), sortable=True, default=False),
        Column("location", gettext_lazy("location"), default=False),
        Column("contact", gettext_lazy("contact"), default=False),
        Column("created_at", gettext_lazy("created at"), sortable=True, default=False),
    ],
    form_class=ActivityForm,
    filterset_class=ActivityFilterSet,
    search_fields=["subject__startswith"],
    detail_sections=[
        (gettext_lazy("Description"), ["description", "outcome"]),
    ],
    bulk_edit_fields=["priority"],
    list_select_related=["owner", "account", "contact"],
    default_sort="-start_at",
    namespace="activities",
    url_base="activity",
    path_prefix="items",
    tags=False,
    create=activity_create_hook,
    update=activity_update_hook,
    delete=activity_delete_hook,
    assign=activity_assign_hook,
    list_parts=True,
)
register_model_views(Activity, activity_registration)

followup_registration = ModelRegistration(
    model=FollowUp,
    columns=[
        Column(
            "content",
            gettext_lazy("what was said"),
            accessor=lambda follow_up: follow_up.content[:80],
            link=True,
        ),
        _channel_column(),
        Column("reaction", gettext_lazy("customer's reaction"), sortable=True),
        Column("followed_up_at", gettext_lazy("followed up at"), sortable=True),
        Column("next_follow_up_at", gettext_lazy("next follow-up"), sortable=True),
        Column("account", gettext_lazy("account")),
        Column("owner", gettext_lazy("owner"), sortable=True, order_by="owner__display_name"),
        Column("contact", gettext_lazy("contact"), default=False),
    ],
    form_class=FollowUpForm,
    filterset_class=FollowUpFilterSet,
    search_fields=["content__startswith"],
    detail_sections=[
        (
            gettext_lazy("Follow-up"),
            ["content", "reaction", "reaction_note", "followed_up_at", "next_follow_up_at"],
        ),
        (gettext_lazy("Customer"), ["account", "contact", "next_activity"]),
    ],
    list_select_related=["owner", "account"],
    default_sort="-followed_up_at",
    namespace="activities",
    url_base="followup",
    path_prefix="follow-ups",
    tags=False,
    create=follow_up_create_hook,
    update=follow_up_update_hook,
    delete=follow_up_delete_hook,
)
register_model_views(FollowUp, followup_registration)


# --- helpers -----------------------------------------------------------------------------------


def forbidden(request, message: str | None = None) -> TemplateResponse:
    return TemplateResponse(
        request,
        "core/generic/forbidden.html",
        {"message": message or _("Your role does not allow this.")},
        status=403,
    )


def with_message(response: HttpResponse, text: str, level: str = "success") -> HttpResponse:
    """Ask the page to show a toast (see static/js/guanxi.js)."""
    response["HX-Trigger"] = json.dumps(
        # ASCII only: a header is latin-1, and \u escapes are still JSON.
        {"showMessage": {"message": str(text), "level": level}}
    )
    return response


def regarding_model(label: str):
    for kind in regarding_types():
        if kind.model._meta.label_lower == label:
            return kind.model
    raise Http404


def record_url(record) -> str:
    registration = get_registration(type(record))
    return registration.url("detail", record.pk) if registration else "/"


def _prefill_record(request):
    """The account or contact named by ?account= / ?contact=, if the user sees it."""
    from guanxi.customers.models import Account, Contact

    for name, model in (("contact", Contact), ("account", Account)):
        raw = request.GET.get(name) or request.POST.get(f"prefill_{name}")
        if raw:
            try:
                return record_get_visible(model=model, pk=raw, user=request.user)
            except Http404:
                return None
    return None


# --- create / edit / detail ----------------------------------------------------------------------
class UserFormMixin(generic.RecordFormMixin):
    """The activity and follow-up forms get the user (scoped pickers, default reminder),
    the record to pre-fill from the customer page, and go back where they came from."""

    def build_form(self, record=None, data=None, files=None, validate_url: str | None = None):
        kwargs: dict[str, Any] = {
            "custom_fields": custom_fields_for(self.model),
            "with_version": record is not None,
            "user": self.request.user,
        }
        if record is not None:
            kwargs["instance"] = record
        else:
            kwargs["regarding"] = _prefill_record(self.request)
            initial = {}
            start = parse_datetime(self.request.GET.get("start") or "")
            if start is not None:
                initial["start_at"] = start
            if self.request.GET.get("kind"):
                initial["kind"] = self.request.GET["kind"]
            kwargs["initial"] = initial
        form = self.reg.form_class(data, files, **kwargs)
        if validate_url:
            enable_inline_validation(form, validate_url, target=f"#{generic.FORM_TARGET}")
        return form

    def form_response(self, form, record=None, status=200, **kwargs):
        response = super().form_response(form, record, status=status, **kwargs)
        if hasattr(response, "context_data"):
            response.context_data["next_url"] = safe_next_url(self.request, "")
            if record is None:
                response.context_data["cancel_url"] = safe_next_url(
                    self.request, self.reg.url("list")
                )
        return response

    def redirect_to(self, url: str):
        return super().redirect_to(safe_next_url(self.request, url))


class ActivityCreateView(UserFormMixin, generic.RecordCreateView):
    pass


class ActivityUpdateView(UserFormMixin, generic.RecordUpdateView):
    pass


class ActivityValidateView(UserFormMixin, generic.RecordValidateView):
    pass


class ActivityDetailView(generic.RecordDetailView):
    def detail_context(self, record, **extra: Any) -> dict[str, Any]:
        context = super().detail_context(record, **extra)
        user = self.request.user
        selectors.decorate_activities([record], user=user)
        regarding = None
        if record.regarding_id and record.regarding_type_id:
            model = record.regarding_type.model_class()
            manager = getattr(model, "objects", None)
            if manager is not None and hasattr(manager, "visible_to"):
                regarding = manager.visible_to(user).filter(pk=record.regarding_id).first()
        if record.gx_hidden:  # someone else's private activity: only "busy"
            context["sections"] = []
            context["feed"] = []
        context.update(
            {
                "activity": record,
                "regarding": regarding,
                "regarding_url": record_url(regarding) if regarding else "",
                "assignees": list(record.assignees.all()),
                "can_act": context["can_edit"],
                "row_prefix": "d",
                "next_url": self.request.get_full_path(),
                "follow_up_source": FollowUp.objects.visible_to(user)
                .filter(next_activity=record)
                .first(),
            }
        )
        return context


class FollowUpCreateView(UserFormMixin, generic.RecordCreateView):
    pass


class FollowUpUpdateView(UserFormMixin, generic.RecordUpdateView):
    pass


class FollowUpValidateView(UserFormMixin, generic.RecordValidateView):
    pass


class FollowUpDetailView(generic.RecordDetailView):
    def detail_context(self, record, **extra: Any) -> dict[str, Any]:
        context = super().detail_context(record, **extra)
        channels = dict(selectors.follow_up_channels())
        channel = (_("channel"), channels.get(record.channel, record.channel))
        sections = context["sections"]
        if sections:
            title, items = sections[0]
            sections[0] = (title, [channel, *items])
        return context


# --- my activities -----------------------------------------------------------------------------
class MyActivitiesView(LoginRequiredMixin, View):
    """The user's own and assigned activities with filters; managers may pick someone
    below them. Sorted by due time, paged without counting."""

    def get(self, request):
        user = request.user
        if not can(user, Activity, "view"):
            return forbidden(request, _("Your role does not allow you to see these records."))
        filters = selectors.ActivityFilters.from_params(request.GET)
        try:
            page = max(int(request.GET.get("page") or 1), 1)
        except ValueError:
            page = 1
        offset = (page - 1) * PAGE_SIZE
        rows = list(
            selectors.my_activities(user=user, filters=filters)[offset : offset + PAGE_SIZE + 1]
        )
        has_next = len(rows) > PAGE_SIZE
        activities = selectors.decorate_activities(rows[:PAGE_SIZE], user=user)
        owners = list(selectors.owners_below(user))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "activities": activities,
            "filters": filters,
            "kinds": selectors.activity_kinds(),
            "owners": owners,
            "periods": [
                ("", _("Any time")),
                ("today", _("Today")),
                ("week", _("This week")),
                ("overdue", _("Overdue")),
            ],
            "statuses": [("", _("Any status")), *ActivityStatus.choices],
            "page": page,
            "has_next": has_next,
            "has_previous": page > 1,
            "query": query.urlencode(),
            "can_add": can(user, Activity, "add"),
            "next_url": request.get_full_path(),
            "list_url": activity_registration.url("list"),
        }
        htmx = getattr(request, "htmx", False)
        if htmx and request.htmx.target == "activity-results":
            return TemplateResponse(request, "activities/_my_results.html", context)
        return TemplateResponse(request, "activities/my_activities.html", context)


# --- in-place actions --------------------------------------------------------------------------
def render_row(request, activity: Activity, **extra: Any) -> str:
    selectors.decorate_activities([activity], user=request.user)
    context = {
        "activity": activity,
        "next_url": safe_next_url(request, ""),
        **extra,
    }
    return render_to_string("activities/_activity_row.html", context, request=request)


class ActivityActionView(LoginRequiredMixin, View):
    """POST an action on one activity. Over htmx the answer is the activity's row again
    (with the error, e.g. someone else's change, shown in it); otherwise a redirect."""

    form_class: type = CompleteForm
    success_message = gettext_lazy("Saved.")

    def act(self, activity: Activity, form, user) -> None:
        raise NotImplementedError

    def post(self, request, pk):
        user = request.user
        activity = record_get_visible(model=Activity, pk=pk, user=user)
        editable = Activity.objects.editable_by(user).filter(pk=activity.pk).exists()
        if not (editable and can(user, Activity, "change")):
            return forbidden(request, _("You may see this activity but not change it."))
        form = self.form_class(request.POST, auto_id=f"x{activity.pk}_%s")
        error = ""
        conflict = False
        if form.is_valid():
            try:
                with transaction.atomic():
                    self.act(activity, form, user)
            except VersionConflict as problem:
                error, conflict = str(problem), True
            except ValidationError as problem:
                error = validation_text(problem)
            except ActionNotAllowed as problem:
                return forbidden(request, str(problem))
        else:
            error = "; ".join(
                f"{form.fields[name].label}: {message}" if name in form.fields else message
                for name, messages_ in form.errors.items()
                for message in messages_
            )
        return self.respond(request, pk, error=error, conflict=conflict)

    def respond(self, request, pk, *, error: str, conflict: bool):
        user = request.user
        fresh = Activity.objects.visible_to(user).filter(pk=pk)
        activity = (
            fresh.select_related("owner", "account", "contact")
            .prefetch_related("assignees")
            .first()
        )
        message = error or str(self.success_message)
        if not getattr(request, "htmx", False):
            if error:
                messages.error(request, error)
            else:
                messages.success(request, message)
            default = (
                activity_registration.url("detail", pk) if activity else reverse("activities:index")
            )
            return redirect(safe_next_url(request, default))
        if activity is None:  # given away to someone the user cannot follow
            return with_message(HttpResponse(""), message, "danger" if error else "success")
        html = render_row(request, activity, row_error=error, row_conflict=conflict)
        return with_message(HttpResponse(html), message, "danger" if error else "success")


class CompleteView(ActivityActionView):
    form_class = CompleteForm
    success_message = gettext_lazy("Marked as done.")

    def act(self, activity, form, user):
        services.activity_complete(
            activity=activity,
            actor=user,
            outcome=form.cleaned_data.get("outcome") or "",
            version=form.cleaned_data.get("version"),
        )


class RescheduleView(ActivityActionView):
    form_class = RescheduleForm
    success_message = gettext_lazy("Rescheduled.")

    def act(self, activity, form, user):
        services.activity_reschedule(
            activity=activity,
            actor=user,
            start_at=form.cleaned_data["start_at"],
            version=form.cleaned_data.get("version"),
        )


class ReassignView(ActivityActionView):
    form_class = ReassignForm
    success_message = gettext_lazy("Reassigned.")

    def act(self, activity, form, user):
        services.activity_reassign(
            activity=activity,
            actor=user,
            owner=form.cleaned_data["owner"],
            reason=form.cleaned_data.get("reason") or "",
            version=form.cleaned_data.get("version"),
        )


class CancelView(ActivityActionView):
    form_class = CancelForm
    success_message = gettext_lazy("Cancelled.")

    def act(self, activity, form, user):
        services.activity_cancel(
            activity=activity,
            actor=user,
            reason=form.cleaned_data.get("reason") or "",
            version=form.cleaned_data.get("version"),
        )


class ReopenView(ActivityActionView):
    form_class = CancelForm
    success_message = gettext_lazy("Reopened.")

    def act(self, activity, form, user):
        services.activity_reopen(
            activity=activity, actor=user, version=form.cleaned_data.get("version")
        )


class CheckInView(ActivityActionView):
    form_class = CheckInForm
    success_message = gettext_lazy("Checked in.")

    def act(self, activity, form, user):
        version = form.cleaned_data.get("version")
        if version is not None and version != activity.version:
            raise VersionConflict(current_version=activity.version)
        if activity.kind != ActivityKind.VISIT:
            raise ValidationError(_("Only visits have a check-in."))
        services.activity_check_in(
            activity=activity,
            actor=user,
            place=form.cleaned_data["place"],
            version=form.cleaned_data.get("version"),
        )


class AppointmentOutcomeView(ActivityActionView):
    form_class = AppointmentOutcomeForm
    success_message = gettext_lazy("Appointment outcome saved.")

    def act(self, activity, form, user):
        services.appointment_set_outcome(
            activity=activity,
            actor=user,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data.get("note") or "",
            version=form.cleaned_data.get("version"),
        )


# --- the lists on a customer's page ---------------------------------------------------------------
def follow_up_panel_context(*, record, user, form=None) -> dict[str, Any]:
    return {
        "record": record,
        "record_label": record._meta.label_lower,
        "page_url": record_url(record),
        "follow_ups": selectors.follow_ups(record=record, user=user),
        "quick_form": form
        if form is not None
        else (QuickFollowUpForm() if can(user, FollowUp, "add") else None),
        "followup_list_url": followup_registration.url("list"),
    }


def open_panel_context(*, record, user) -> dict[str, Any]:
    return {
        "record": record,
        "record_label": record._meta.label_lower,
        "page_url": record_url(record),
        "open_activities": selectors.open_activities(record=record, user=user),
        "can_add_activity": can(user, Activity, "add"),
        "new_activity_url": _new_activity_url(record),
    }


def history_panel_context(*, record, user) -> dict[str, Any]:
    return {
        "record": record,
        "page_url": record_url(record),
        "activity_history": selectors.activity_history(record=record, user=user),
    }


def _new_activity_url(record) -> str:
    from guanxi.customers.models import Account, Contact

    base = activity_registration.url("create")
    next_url = record_url(record)
    if isinstance(record, Account):
        return f"{base}?account={record.pk}&next={next_url}"
    if isinstance(record, Contact):
        return f"{base}?contact={record.pk}&next={next_url}"
    return base


class QuickFollowUpView(LoginRequiredMixin, View):
    """Log a follow-up from a customer's page. Over htmx the answer is the follow-up list
    (with the form, or its errors) and, out of band, the open activities with the next
    task."""

    def post(self, request, label, pk):
        user = request.user
        record = record_get_visible(model=regarding_model(label), pk=pk, user=user)
        if not can(user, FollowUp, "add"):
            return forbidden(request)
        form = QuickFollowUpForm(request.POST)
        saved = None
        if form.is_valid():
            try:
                saved = services.follow_up_create(
                    actor=user,
                    regarding=record,
                    channel=form.cleaned_data["channel"],
                    content=form.cleaned_data["content"],
                    reaction=form.cleaned_data.get("reaction") or "",
                    reaction_note=form.cleaned_data.get("reaction_note") or "",
                    next_follow_up_at=form.cleaned_data.get("next_follow_up_at"),
                    next_subject=form.cleaned_data.get("next_subject") or "",
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            except NotVisible:
                raise Http404 from None
        if not getattr(request, "htmx", False):
            if saved is not None:
                messages.success(request, _("Follow-up logged."))
            else:
                for errors in form.errors.values():
                    for error in errors:
                        messages.error(request, error)
            return redirect(safe_next_url(request, record_url(record)))
        context = follow_up_panel_context(
            record=record, user=user, form=None if saved is not None else form
        )
        html = render_to_string("activities/sections/follow_ups.html", context, request=request)
        if saved is None:
            return HttpResponse(html)
        html += render_to_string(
            "activities/sections/open_activities.html",
            {**open_panel_context(record=record, user=user), "oob": True},
            request=request,
        )
        return with_message(HttpResponse(html), _("Follow-up logged."))
