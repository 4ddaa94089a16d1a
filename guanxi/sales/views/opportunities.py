"""Opportunity pages: the generic record views registered for Opportunity (list with sums,
detail with product lines, the decision chain, competitors, the team's split, stage history
and the win / lose / reopen / move actions), and the administrators' screens for sales
processes (pipelines and their stages, drag to reorder) and the competitor list."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.exceptions import ActionNotAllowed, VersionConflict
from guanxi.core.filters import with_custom_field_filters
from guanxi.core.scope import can, is_administrator
from guanxi.core.selectors import record_get_visible
from guanxi.core.services.custom_fields import custom_fields_for
from guanxi.core.views import generic
from guanxi.core.views.generic import FORM_TARGET
from guanxi.core.views.registry import (
    Column,
    FormWarning,
    ModelRegistration,
    model_urls,
    register_model_views,
)
from guanxi.customers.models import Account
from guanxi.leads.models import Lead
from guanxi.sales import forms
from guanxi.sales.models import Competitor, Opportunity, Pipeline, Product, Stage, StageKind
from guanxi.sales.selectors import opportunities as selectors
from guanxi.sales.services import opportunities as services
from guanxi.sales.services import pipelines as pipeline_services


# --- registration ----------------------------------------------------------------------------
def _create(*, data, custom_data, actor):
    return services.opportunity_create(actor=actor, data=data, custom_data=custom_data)


def _update(*, instance, data, custom_data, actor, version):
    return services.opportunity_update(
        opportunity=instance, actor=actor, data=data, version=version, custom_data=custom_data
    )


def _delete(*, instance, actor, version):
    services.opportunity_delete(opportunity=instance, actor=actor, version=version)


def _money(record: Opportunity) -> str:
    return f"{record.amount:,.2f} {record.currency}"


def _weighted(record: Opportunity) -> str:
    return f"{record.amount_company * record.probability / 100:,.2f}"


def _status(record: Opportunity) -> str:
    if not record.is_closed:
        return pgettext("opportunity", "Open")
    return _("Won") if record.is_won else _("Lost")


def duplicate_warnings(hits) -> list[FormWarning]:
    """Likely duplicates as form warnings: a deal the user sees with a link, another one by
    its owner only."""
    warnings = []
    for hit in hits:
        if hit.visible:
            warnings.append(
                FormWarning(
                    message=_("Possible duplicate opportunity (owner: %(owner)s):")
                    % {"owner": hit.owner_name or "—"},
                    url=hit.url,
                    link_text=hit.name,
                    details=[
                        hit.stage,
                        f"{hit.amount:,.2f} {hit.currency}",
                        _("name %(score)s%% similar") % {"score": f"{hit.score:g}"},
                    ],
                )
            )
        else:
            warnings.append(
                FormWarning(
                    message=_(
                        "An open opportunity of this account with a very similar name exists, "
                        "owned by %(owner)s."
                    )
                    % {"owner": hit.owner_name or "—"}
                )
            )
    return warnings


def opportunity_pre_save_warnings(*, request, form, instance=None) -> list[FormWarning]:
    """On create: open opportunities of the same account with a very similar name (a
    warning; "Save anyway" creates the deal all the same)."""
    if instance is not None:
        return []
    account = form.cleaned_data.get("account")
    hits = selectors.opportunity_duplicates(
        user=request.user,
        account_id=account.pk if account else None,
        name=form.cleaned_data.get("name") or "",
    )
    return duplicate_warnings(hits)


class OpportunityRegistration(ModelRegistration):
    def template_names(self, kind: str) -> list[str]:
        return [f"sales/opportunities/opportunity_{kind}.html", f"core/generic/{kind}.html"]


opportunity_registration = OpportunityRegistration(
    model=Opportunity,
    columns=[
        Column("name", gettext_lazy("name"), sortable=True, link=True),
        Column("account", gettext_lazy("account"), sortable=True, order_by="account__name"),
        Column("stage", gettext_lazy("stage"), sortable=True, order_by="stage__sort_order"),
        # Sorted in the company currency: raw amounts of mixed currencies do not compare.
        Column(
            "amount",
            gettext_lazy("amount"),
            accessor=_money,
            sortable=True,
            order_by="amount_company",
        ),
        Column("probability", gettext_lazy("probability %"), sortable=True),
        Column("weighted", gettext_lazy("weighted amount"), accessor=_weighted),
        Column("expected_close_date", gettext_lazy("expected close date"), sortable=True),
        Column("owner", gettext_lazy("owner"), sortable=True, order_by="owner__display_name"),
        Column("status", gettext_lazy("status"), accessor=_status, default=False),
        Column("pipeline", gettext_lazy("sales process"), default=False),
        Column("source", gettext_lazy("source"), accessor=lambda r: r.source, default=False),
        Column("next_step", gettext_lazy("next step"), default=False),
        Column("close_date", gettext_lazy("close date"), sortable=True, default=False),
        Column("created_at", gettext_lazy("created at"), sortable=True, default=False),
    ],
    form_class=forms.OpportunityForm,
    filterset_class=forms.OpportunityFilterSet,
    search_fields=["name__startswith", "account__name__startswith"],
    detail_sections=[
        (
            gettext_lazy("Opportunity"),
            [
                "account",
                "pipeline",
                "stage",
                "amount",
                "currency",
                "amount_company",
                "probability",
                "expected_close_date",
                "next_step",
            ],
        ),
        (
            gettext_lazy("Origin"),
            ["source", "lead", "territory", "price_book", "forecast_commit"],
        ),
        (
            gettext_lazy("Closing"),
            ["close_date", "lost_reason", "winner", "close_note"],
        ),
    ],
    bulk_edit_fields=["next_step", "forecast_commit"],
    list_select_related=["owner", "account", "stage", "pipeline", "source"],
    default_sort="-created_at",
    namespace="sales",
    url_base="opportunity",
    path_prefix="opportunities",
    create=_create,
    update=_update,
    delete=_delete,
    pre_save_warnings=opportunity_pre_save_warnings,
    # A rep's deals and the ones they sit on the team of, merged in index order.
    list_parts=True,
)
register_model_views(Opportunity, opportunity_registration)


# --- list ------------------------------------------------------------------------------------
class OpportunityListView(generic.RecordListView):
    """The generic list with the count, amount and weighted amount of everything the
    filters select (one aggregate query), above the table."""

    def filtered_queryset(self, request):
        params = request.GET
        queryset = self.reg.list_queryset(request.user)  # in parts, like the page
        filterset_class = with_custom_field_filters(
            forms.OpportunityFilterSet, custom_fields_for(Opportunity)
        )
        filterset = filterset_class(params, queryset=queryset, request=request)
        queryset = filterset.qs
        q = params.get("q", "").strip()
        if q:
            condition = Q()
            for lookup in self.reg.search_fields:
                condition |= Q(**{lookup: q})
            queryset = queryset.filter(condition)
        return queryset

    def get(self, request):
        response = super().get(request)
        context = getattr(response, "context_data", None)
        if not context or "rows" not in context:
            return response
        context["totals"] = selectors.opportunity_totals(
            self.filtered_queryset(request), limit=selectors.TOTALS_LIMIT
        )
        context["can_admin_pipelines"] = is_administrator(request.user)
        if response.template_name == ["core/generic/list_table.html"]:
            response.template_name = ["sales/opportunities/opportunity_list_table.html"]
        return response


# --- create / edit ---------------------------------------------------------------------------
class OpportunityFormMixin(generic.RecordFormMixin):
    """The form gets the user (accounts they see) and, on create, the account or lead
    named by ?account= / ?lead=."""

    def build_form(self, record=None, data=None, files=None, validate_url: str | None = None):
        kwargs: dict[str, Any] = {
            "custom_fields": custom_fields_for(Opportunity),
            "with_version": record is not None,
            "with_tags": True,
            "user": self.request.user,
        }
        if record is not None:
            kwargs["instance"] = record
            kwargs["current_tags"] = None
        else:
            initial: dict[str, Any] = {}
            account_id = self.request.GET.get("account")
            if account_id:
                account = Account.objects.visible_to(self.request.user).filter(pk=account_id)
                kwargs["initial_account"] = account.first()
            lead_id = self.request.GET.get("lead")
            if lead_id:
                lead = Lead.objects.visible_to(self.request.user).filter(pk=lead_id).first()
                if lead is not None:
                    initial.update(
                        {"lead": lead.pk, "source": lead.source_id, "name": lead.company}
                    )
            kwargs["initial"] = initial
        if record is not None:
            from guanxi.core.services.configuration import tags_of

            kwargs["current_tags"] = list(tags_of(record))
        form = self.reg.form_class(data, files, **kwargs)
        if validate_url:
            generic.enable_inline_validation(form, validate_url, target=f"#{FORM_TARGET}")
            # The process select reloads the stage choices instead of validating.
            for name in ("pipeline",):
                attrs = form.fields[name].widget.attrs
                for key in [key for key in attrs if key.startswith("hx-")]:
                    del attrs[key]
        return form

    def form_response(self, form, record=None, status=200, **kwargs):
        response = super().form_response(form, record, status=status, **kwargs)
        if hasattr(response, "context_data"):
            response.context_data["stage_options_url"] = reverse("sales:opportunity_stage_options")
        return response


class OpportunityCreateView(OpportunityFormMixin, generic.RecordCreateView):
    pass


class OpportunityUpdateView(OpportunityFormMixin, generic.RecordUpdateView):
    pass


class OpportunityValidateView(OpportunityFormMixin, generic.RecordValidateView):
    pass


# --- detail ----------------------------------------------------------------------------------
def _line_initial(opportunity: Opportunity) -> list[dict[str, Any]]:
    return [
        {
            "product": line.product_id,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
        }
        for line in opportunity.lines.all()
    ]


def _split_initial(opportunity: Opportunity) -> list[dict[str, Any]]:
    return [{"user": split.user_id, "percent": split.percent} for split in opportunity.splits.all()]


class OpportunityDetailView(generic.RecordDetailView):
    def get_record(self, pk):
        """The visible record with what the page shows of it, in one query; else 404."""
        try:
            return (
                Opportunity.objects.visible_to(self.request.user)
                .select_related(
                    "account",
                    "pipeline",
                    "stage",
                    "owner",
                    "source",
                    "lost_reason",
                    "winner",
                    "lead",
                )
                .get(pk=pk)
            )
        except (Opportunity.DoesNotExist, ValueError, TypeError):
            raise Http404 from None

    def detail_context(self, record, **extra: Any) -> dict[str, Any]:
        # An editor that failed to save comes back as typed, with its problems.
        posted = {
            name: extra.pop(name)
            for name in ("lines_formset", "lines_errors", "splits_formset", "splits_errors")
            if name in extra
        }
        context = super().detail_context(record, **extra)
        user = self.request.user
        editable = context["can_edit"]
        lines = list(record.lines.select_related("product"))
        chain = selectors.decision_chain(record)
        splits = list(record.splits.select_related("user"))
        competitors = list(record.competitor_entries.select_related("competitor"))
        account_visible = Account.objects.visible_to(user).filter(pk=record.account_id).exists()
        context.update(
            {
                "opportunity": record,
                "ages": selectors.opportunity_ages(record),
                "stays": selectors.stage_stays(record),
                "lines": lines,
                "lines_total": sum((line.total for line in lines), 0),
                "chain": chain,
                "chain_graph": {"nodes": chain["nodes"], "edges": chain["edges"]},
                "competitors": competitors,
                "splits": splits,
                "account_visible": account_visible,
                "editable": editable and not record.is_closed,
                "can_reopen": editable and record.is_closed,
                "lines_errors": posted.get("lines_errors", []),
                "splits_errors": posted.get("splits_errors", []),
            }
        )
        if editable and not record.is_closed:
            context.update(
                {
                    "line_formset": posted.get("lines_formset")
                    or forms.line_formset(
                        initial=[
                            {**row, "product": line.product, "total": line.total}
                            for row, line in zip(_line_initial(record), lines, strict=True)
                        ]
                    ),
                    "contact_form": forms.ContactRoleForm(
                        contacts=selectors.account_contact_choices(record, user)
                    ),
                    "competitor_form": forms.CompetitorEntryForm(),
                    "split_formset": posted.get("splits_formset")
                    or forms.split_formset(initial=_split_initial(record)),
                    "move_form": forms.MoveForm(
                        opportunity=record, initial={"version": record.version}
                    ),
                    "win_form": forms.WinForm(initial={"version": record.version}),
                    "lose_form": forms.LoseForm(initial={"version": record.version}),
                }
            )
        return context


# --- actions of the detail page --------------------------------------------------------------
def _editable_opportunity(request, pk) -> Opportunity:
    """The opportunity if the user sees it (else 404) and may change it (else 403)."""
    opportunity = record_get_visible(model=Opportunity, pk=pk, user=request.user)
    if not (
        can(request.user, Opportunity, "change")
        and Opportunity.objects.editable_by(request.user).filter(pk=opportunity.pk).exists()
    ):
        raise ActionNotAllowed(_("You may see this record but not change it."))
    return opportunity


def _version(request) -> int | None:
    raw = request.POST.get("version") or request.POST.get("form-version")
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def opportunity_action(anchor: str):
    """POST views of the detail page: load the opportunity (404 / 403), run the handler,
    show the service's refusal as a message, and go back to the page's section."""

    def decorate(handler):
        @require_POST
        @login_required
        def view(request, pk, **kwargs):
            try:
                opportunity = _editable_opportunity(request, pk)
            except ActionNotAllowed as error:
                return TemplateResponse(
                    request, "core/generic/forbidden.html", {"message": str(error)}, status=403
                )
            try:
                done = handler(request, opportunity, **kwargs)
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            except VersionConflict as error:
                messages.error(request, str(error))
            except ActionNotAllowed as error:
                messages.error(request, str(error))
            else:
                if done:
                    messages.success(request, done)
            url = reverse("sales:opportunity_detail", args=[opportunity.pk])
            return redirect(f"{url}#{anchor}")

        view.__name__ = handler.__name__
        return view

    return decorate


def _form_errors(form) -> ValidationError:
    found = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        found.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return ValidationError(found or [_("Check the form.")])


def _detail_again(request, opportunity: Opportunity, **extra) -> TemplateResponse:
    """The detail page once more (400) with an editor as the user filled it in and its
    problems, so that nothing typed is lost."""
    detail = OpportunityDetailView(registration=opportunity_registration, request=request)
    record = detail.get_record(opportunity.pk)
    return detail.render("detail", status=400, **detail.detail_context(record, **extra))


def _rows_editor(*, anchor: str, formset_class, collect, save, key: str, done: str):
    """POST view of a row editor of the detail page (product lines, credit split): saved,
    back to the page; refused, the page again with the rows as typed, each problem next to
    its row and listed above the editor ("Line 2, quantity: ...")."""

    @require_POST
    @login_required
    def view(request, pk):
        try:
            opportunity = _editable_opportunity(request, pk)
        except ActionNotAllowed as error:
            return TemplateResponse(
                request, "core/generic/forbidden.html", {"message": str(error)}, status=403
            )
        formset = formset_class(request.POST, prefix=key)
        if formset.is_valid():
            rows = [index for index, _form in forms.filled_forms(formset)]
            try:
                save(request, opportunity, collect(formset))
            except ValidationError as error:
                problems = forms.apply_row_errors(formset, rows, error, key)
            except (VersionConflict, ActionNotAllowed) as error:
                problems = [str(error)]
            else:
                messages.success(request, done)
                url = reverse("sales:opportunity_detail", args=[opportunity.pk])
                return redirect(f"{url}#{anchor}")
        else:
            problems = forms.formset_errors(formset)
        return _detail_again(
            request, opportunity, **{f"{key}_formset": formset, f"{key}_errors": problems}
        )

    return view


def _save_lines(request, opportunity, lines):
    services.opportunity_lines_set(
        opportunity=opportunity, actor=request.user, lines=lines, version=_version(request)
    )


def _save_splits(request, opportunity, splits):
    services.opportunity_splits_set(
        opportunity=opportunity, actor=request.user, splits=splits, version=_version(request)
    )


opportunity_lines = _rows_editor(
    anchor="lines",
    formset_class=forms.LineFormSet,
    collect=forms.lines_from,
    save=_save_lines,
    key="lines",
    done=gettext_lazy("Product lines saved."),
)
opportunity_splits = _rows_editor(
    anchor="team",
    formset_class=forms.SplitFormSet,
    collect=forms.splits_from,
    save=_save_splits,
    key="splits",
    done=gettext_lazy("Team split saved."),
)


@opportunity_action("deal-contacts")
def opportunity_contact_add(request, opportunity):
    form = forms.ContactRoleForm(
        request.POST, contacts=selectors.account_contact_choices(opportunity, request.user)
    )
    if not form.is_valid():
        raise _form_errors(form)
    services.opportunity_contact_set(
        opportunity=opportunity, actor=request.user, **form.cleaned_data
    )
    return _("Contact saved.")


@opportunity_action("deal-contacts")
def opportunity_contact_remove(request, opportunity, contact_pk):
    services.opportunity_contact_remove(
        opportunity=opportunity, actor=request.user, contact_id=contact_pk
    )
    return _("Contact removed from the deal.")


@opportunity_action("competitors")
def opportunity_competitor_add(request, opportunity):
    form = forms.CompetitorEntryForm(request.POST)
    if not form.is_valid():
        raise _form_errors(form)
    services.opportunity_competitor_set(
        opportunity=opportunity, actor=request.user, **form.cleaned_data
    )
    return _("Competitor saved.")


@opportunity_action("competitors")
def opportunity_competitor_remove(request, opportunity, competitor_pk):
    services.opportunity_competitor_remove(
        opportunity=opportunity, actor=request.user, competitor_id=competitor_pk
    )
    return _("Competitor removed.")


@opportunity_action("stage")
def opportunity_move(request, opportunity):
    form = forms.MoveForm(request.POST, opportunity=opportunity)
    if not form.is_valid():
        raise _form_errors(form)
    services.opportunity_move(
        opportunity=opportunity,
        actor=request.user,
        stage=form.cleaned_data["stage"],
        version=form.cleaned_data.get("version"),
    )
    return _("Moved to stage %(stage)s.") % {"stage": opportunity.stage}


@opportunity_action("stage")
def opportunity_win(request, opportunity):
    form = forms.WinForm(request.POST)
    if not form.is_valid():
        raise _form_errors(form)
    services.opportunity_win(
        opportunity=opportunity,
        actor=request.user,
        note=form.cleaned_data.get("note") or "",
        version=form.cleaned_data.get("version"),
    )
    return _("Marked as won.")


@opportunity_action("stage")
def opportunity_lose(request, opportunity):
    form = forms.LoseForm(request.POST)
    if not form.is_valid():
        raise _form_errors(form)
    services.opportunity_lose(
        opportunity=opportunity,
        actor=request.user,
        reason=form.cleaned_data["reason"],
        winner=form.cleaned_data.get("winner"),
        note=form.cleaned_data.get("note") or "",
        version=form.cleaned_data.get("version"),
    )
    return _("Marked as lost.")


@opportunity_action("stage")
def opportunity_reopen(request, opportunity):
    services.opportunity_reopen(
        opportunity=opportunity, actor=request.user, version=_version(request)
    )
    return _("Reopened.")


# --- look-ups of the forms -------------------------------------------------------------------
def _options(pairs, empty: bool = False) -> HttpResponse:
    pairs = list(pairs)
    body = format_html_join("", '<option value="{}">{}</option>', pairs)
    if empty:
        body = format_html('<option value="">---------</option>{}', body)
    if not pairs and not empty:
        body = format_html('<option value="" disabled>{}</option>', _("Nothing found"))
    return HttpResponse(body)


@require_GET
@login_required
def stage_options(request):
    """The open stages of ?pipeline=, as the options of the stage select."""
    try:
        pipeline_id = int(request.GET.get("pipeline") or 0)
    except ValueError:
        pipeline_id = 0
    stages = Stage.objects.filter(pipeline_id=pipeline_id, kind=StageKind.OPEN).order_by(
        "sort_order", "id"
    )
    return _options(((stage.pk, str(stage)) for stage in stages), empty=True)


@require_GET
@login_required
def product_lookup(request):
    """Active products whose code or name starts with ?q= (up to 20)."""
    term = (request.GET.get("q") or "").strip()[:100]
    products = Product.objects.filter(is_active=True)
    if term:
        products = products.filter(Q(code__istartswith=term) | Q(name__istartswith=term))
    return _options((product.pk, str(product)) for product in products.order_by("code")[:20])


# --- administration: sales processes and competitors -----------------------------------------
def _admin_only(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_administrator(request.user):
            return TemplateResponse(
                request,
                "core/generic/forbidden.html",
                {"message": _("Only an administrator can change sales processes.")},
                status=403,
            )
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


def _apply_errors(form, error: ValidationError) -> None:
    from guanxi.core.forms.generic import apply_service_errors

    apply_service_errors(form, error)


@_admin_only
def pipeline_list(request):
    pipelines = list(Pipeline.objects.prefetch_related("stages").order_by("sort_order", "id"))
    return TemplateResponse(
        request, "sales/opportunities/pipeline_list.html", {"pipelines": pipelines}
    )


@_admin_only
def pipeline_edit(request, pk=None):
    pipeline = get_object_or_404(Pipeline, pk=pk) if pk else None
    form = forms.PipelineForm(request.POST or None, instance=pipeline)
    if request.method == "POST" and form.is_valid():
        data = {
            name: form.cleaned_data[name]
            for name in ("name_zh", "name_en", "is_default", "is_active", "sort_order")
        }
        try:
            pipeline = pipeline_services.pipeline_save(
                actor=request.user,
                data=data,
                pipeline=pipeline,
                departments=form.cleaned_data["departments"],
                product_categories=form.cleaned_data["product_categories"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Sales process %(name)s saved.") % {"name": pipeline})
            return redirect("sales:pipeline_edit", pk=pipeline.pk)
    stages = list(pipeline.stages.order_by("sort_order", "id")) if pipeline else []
    in_stage = {}
    if stages:
        from django.db.models import Count

        in_stage = dict(
            Opportunity.all_objects.filter(pipeline=pipeline)
            .values_list("stage_id")
            .annotate(n=Count("pk"))
            .values_list("stage_id", "n")
        )
    criteria = dict(pipeline_services.EXIT_CRITERIA)
    return TemplateResponse(
        request,
        "sales/opportunities/pipeline_form.html",
        {
            "pipeline": pipeline,
            "form": form,
            "stages": [
                {
                    "stage": stage,
                    "count": in_stage.get(stage.pk, 0),
                    "criteria": [criteria.get(name, name) for name in stage.required_fields or []],
                }
                for stage in stages
            ],
        },
    )


@_admin_only
def stage_edit(request, pipeline_pk, pk=None):
    pipeline = get_object_or_404(Pipeline, pk=pipeline_pk)
    stage = get_object_or_404(Stage, pk=pk, pipeline=pipeline) if pk else None
    form = forms.StageForm(
        request.POST or None,
        instance=stage,
        initial=None if stage else {"kind": StageKind.OPEN},
    )
    if request.method == "POST" and form.is_valid():
        try:
            pipeline_services.stage_save(
                actor=request.user, pipeline=pipeline, stage=stage, data=form.cleaned_data
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Stage saved."))
            return redirect("sales:pipeline_edit", pk=pipeline.pk)
    return TemplateResponse(
        request,
        "sales/opportunities/stage_form.html",
        {"pipeline": pipeline, "stage": stage, "form": form},
    )


@require_POST
@_admin_only
def stage_delete(request, pipeline_pk, pk):
    stage = get_object_or_404(Stage, pk=pk, pipeline_id=pipeline_pk)
    try:
        pipeline_services.stage_delete(actor=request.user, stage=stage)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Stage %(stage)s deleted.") % {"stage": stage})
    return redirect("sales:pipeline_edit", pk=pipeline_pk)


@require_POST
@_admin_only
def stages_reorder(request, pk):
    """The new order of the stages after a drag: `stage` ids in order (form or JSON)."""
    pipeline = get_object_or_404(Pipeline, pk=pk)
    ids = request.POST.getlist("stage")
    if not ids and request.content_type == "application/json":
        try:
            ids = json.loads(request.body or b"{}").get("stages", [])
        except (ValueError, AttributeError):
            ids = []
    try:
        pipeline_services.stages_reorder(actor=request.user, pipeline=pipeline, stage_ids=ids)
    except (ValidationError, ValueError, TypeError) as error:
        text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        if request.headers.get("HX-Request") or request.content_type == "application/json":
            return HttpResponse(text, status=400)
        messages.error(request, text)
        return redirect("sales:pipeline_edit", pk=pk)
    if request.headers.get("HX-Request") or request.content_type == "application/json":
        return HttpResponse(status=204)
    messages.success(request, _("Stage order saved."))
    return redirect("sales:pipeline_edit", pk=pk)


@_admin_only
def competitor_list(request):
    competitors = list(Competitor.objects.order_by("name"))
    return TemplateResponse(
        request, "sales/opportunities/competitor_list.html", {"competitors": competitors}
    )


@_admin_only
def competitor_edit(request, pk=None):
    competitor = get_object_or_404(Competitor, pk=pk) if pk else None
    form = forms.CompetitorForm(request.POST or None, instance=competitor)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            services.competitor_save(actor=request.user, data=data, competitor=competitor)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Competitor saved."))
            return redirect("sales:competitor_list")
    return TemplateResponse(
        request,
        "sales/opportunities/competitor_form.html",
        {"competitor": competitor, "form": form},
    )


# --- URLs ------------------------------------------------------------------------------------
VIEW_OVERRIDES = {
    "opportunity_list": OpportunityListView,
    "opportunity_create": OpportunityCreateView,
    "opportunity_edit": OpportunityUpdateView,
    "opportunity_validate": OpportunityValidateView,
    "opportunity_validate_edit": OpportunityValidateView,
    "opportunity_detail": OpportunityDetailView,
}


def _generic_urls() -> list:
    patterns = []
    for pattern in model_urls(opportunity_registration):
        view_class = VIEW_OVERRIDES.get(pattern.name)
        if view_class is not None:
            pattern = path(
                str(pattern.pattern),
                view_class.as_view(registration=opportunity_registration),
                name=pattern.name,
            )
        patterns.append(pattern)
    return patterns


urlpatterns = [
    path(
        "",
        OpportunityListView.as_view(registration=opportunity_registration),
        name="index",
    ),
    path("opportunities/stage-options/", stage_options, name="opportunity_stage_options"),
    path("opportunities/products/", product_lookup, name="opportunity_product_lookup"),
    path("opportunities/<int:pk>/lines/", opportunity_lines, name="opportunity_lines"),
    path(
        "opportunities/<int:pk>/contacts/", opportunity_contact_add, name="opportunity_contact_add"
    ),
    path(
        "opportunities/<int:pk>/contacts/<int:contact_pk>/remove/",
        opportunity_contact_remove,
        name="opportunity_contact_remove",
    ),
    path(
        "opportunities/<int:pk>/competitors/",
        opportunity_competitor_add,
        name="opportunity_competitor_add",
    ),
    path(
        "opportunities/<int:pk>/competitors/<int:competitor_pk>/remove/",
        opportunity_competitor_remove,
        name="opportunity_competitor_remove",
    ),
    path("opportunities/<int:pk>/splits/", opportunity_splits, name="opportunity_splits"),
    path("opportunities/<int:pk>/move/", opportunity_move, name="opportunity_move"),
    path("opportunities/<int:pk>/win/", opportunity_win, name="opportunity_win"),
    path("opportunities/<int:pk>/lose/", opportunity_lose, name="opportunity_lose"),
    path("opportunities/<int:pk>/reopen/", opportunity_reopen, name="opportunity_reopen"),
    *_generic_urls(),
    path("admin/pipelines/", pipeline_list, name="pipeline_list"),
    path("admin/pipelines/new/", pipeline_edit, name="pipeline_create"),
    path("admin/pipelines/<int:pk>/", pipeline_edit, name="pipeline_edit"),
    path("admin/pipelines/<int:pk>/reorder/", stages_reorder, name="stages_reorder"),
    path("admin/pipelines/<int:pipeline_pk>/stages/new/", stage_edit, name="stage_create"),
    path("admin/pipelines/<int:pipeline_pk>/stages/<int:pk>/", stage_edit, name="stage_edit"),
    path(
        "admin/pipelines/<int:pipeline_pk>/stages/<int:pk>/delete/",
        stage_delete,
        name="stage_delete",
    ),
    path("admin/competitors/", competitor_list, name="competitor_list"),
    path("admin/competitors/new/", competitor_edit, name="competitor_create"),
    path("admin/competitors/<int:pk>/", competitor_edit, name="competitor_edit"),
]
