"""The pipeline board (kanban, also as a list with sums) with its drag-to-move endpoint, and
the sales funnel (page and JSON). Thin: forms read the filters, the selectors in
`guanxi.sales.selectors.board` read, the opportunity services write."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from guanxi.core.exceptions import ActionNotAllowed, VersionConflict
from guanxi.core.models import PicklistOption
from guanxi.core.scope import can
from guanxi.sales.forms import BoardFilterForm, FunnelForm
from guanxi.sales.models import LOST_REASON_PICKLIST, Opportunity, StageKind
from guanxi.sales.selectors import board as selectors
from guanxi.sales.selectors.funnel import funnel_report, money_text, url_or_none
from guanxi.sales.services import opportunities as services

FILTER_NAMES = ("pipeline", "owner", "team", "period", "start", "end", "product")


# --- filters ---------------------------------------------------------------------------------
def _require_view(user) -> None:
    if not can(user, Opportunity, "view"):
        raise Http404


def _query(request) -> dict:
    return {name: request.GET.get(name, "") for name in FILTER_NAMES if request.GET.get(name)}


def _list_query(user, filters: selectors.BoardFilters) -> dict:
    """The board's filters as the opportunity list reads them (it has no team or product
    filter: its "N more" pages show the stage's deals of the chosen owner and period)."""
    query: dict = {"pipeline": filters.pipeline.pk}
    if filters.owner:
        query["owner"] = user.pk if filters.owner == selectors.OWNER_ME else filters.owner
    start, end = filters.closing_bounds()
    if start:
        query["closing_after"] = start.isoformat()
    if end:
        query["closing_before"] = end.isoformat()
    return query


def _no_pipeline(request, error: ValidationError):
    """The empty state when no sales process is active yet."""
    return render(
        request,
        "sales/board/no_pipeline.html",
        {"message": " ".join(error.messages), "admin_url": url_or_none("sales:pipeline_list")},
    )


# --- the board -------------------------------------------------------------------------------
@login_required
def board_view(request):
    _require_view(request.user)
    form = BoardFilterForm(request.GET or None, user=request.user)
    try:
        filters = form.filters()
    except ValidationError as error:  # no active sales process
        return _no_pipeline(request, error)
    data = selectors.board(request.user, filters)
    query = _query(request)
    list_query = _list_query(request.user, filters)
    # Reversed once: a board is hundreds of cards.
    detail_url = (url_or_none("sales:opportunity_detail", 987654321) or "").replace(
        "987654321", "{}"
    )
    days_text: dict[int, str] = {}  # "12 days", translated once per distinct count
    for column in data["columns"]:
        column.list_url = url_or_none(
            "sales:opportunity_list",
            query={
                **list_query,
                "stage": column.stage.pk,
                "status": "open" if column.is_open else column.kind,
            },
        )
        for card in column.cards:
            card.url = detail_url.format(card.pk) if detail_url else None
            card.days_in_stage_text = days_text.get(card.days_in_stage) or days_text.setdefault(
                card.days_in_stage,
                ngettext("%(days)s day", "%(days)s days", card.days_in_stage)
                % {"days": card.days_in_stage},
            )
    as_list = request.GET.get("view") == "list"
    toggle_query = {**query, "pipeline": filters.pipeline.pk}
    if not as_list:
        toggle_query["view"] = "list"
    context = {
        "form": form,
        "filters": filters,
        "board": data,
        "as_list": as_list,
        "toggle_url": f"{reverse('sales:board')}?{urlencode(toggle_query)}",
        "opportunity_list_url": url_or_none("sales:opportunity_list", query=list_query),
        "lost_reasons": PicklistOption.objects.filter(
            picklist__code=LOST_REASON_PICKLIST, is_active=True
        ).order_by("sort_order", "id"),
        "cards_per_column": selectors.CARDS_PER_COLUMN,
        "board_text": {
            "error": _("The move could not be saved."),
            "moved": _("Moved."),
            "reason": _("Say why the opportunity was lost."),
        },
    }
    return render(request, "sales/board/board.html", context)


def _totals_payload(user, filters) -> dict:
    totals = selectors.column_totals(user, filters)
    stages = selectors.board_stages(filters.pipeline)
    columns = {}
    for stage in stages:
        row = totals.get(stage.pk, {"count": 0, "total": Decimal("0"), "weighted": Decimal("0")})
        columns[str(stage.pk)] = {
            "count": row["count"],
            "total": str(row["total"]),
            "weighted": str(row["weighted"]),
            "total_display": money_text(row["total"]),
            "weighted_display": money_text(row["weighted"]),
        }
    open_rows = [totals[s.pk] for s in stages if s.kind == StageKind.OPEN and s.pk in totals]
    total = sum((row["total"] for row in open_rows), Decimal("0"))
    weighted = sum((row["weighted"] for row in open_rows), Decimal("0"))
    return {
        "columns": columns,
        "summary": {
            "count": sum(row["count"] for row in open_rows),
            "total": str(total),
            "weighted": str(weighted),
            "total_display": money_text(total),
            "weighted_display": money_text(weighted),
        },
    }


def _error(message, status: int, **extra) -> JsonResponse:
    return JsonResponse({"detail": str(message), **extra}, status=status)


@login_required
@require_POST
def board_move(request):
    """Move a card: POST opportunity, stage, version (and reason, note for the lost
    column) plus the board's filters, answered with the new version and column totals."""
    user = request.user
    _require_view(user)
    try:
        pk = int(request.POST.get("opportunity", ""))
        stage_id = int(request.POST.get("stage", ""))
        version = int(request.POST.get("version", ""))
    except ValueError:
        return _error(_("Say which opportunity goes to which stage."), 400)
    opportunity = (
        Opportunity.objects.visible_to(user)
        .select_related("pipeline", "stage")
        .filter(pk=pk)
        .first()
    )
    if opportunity is None:
        raise Http404
    if not Opportunity.objects.editable_by(user).filter(pk=pk).exists():
        return _error(_("You may not change this opportunity."), 403)
    stage = opportunity.pipeline.stages.filter(pk=stage_id).first()
    if stage is None:
        return _error(_("The stage belongs to another sales process."), 400)
    try:
        if stage.kind == StageKind.WON:
            services.opportunity_win(opportunity=opportunity, actor=user, version=version)
        elif stage.kind == StageKind.LOST:
            reason = PicklistOption.objects.filter(
                picklist__code=LOST_REASON_PICKLIST,
                is_active=True,
                pk=request.POST.get("reason") or None,
            ).first()
            if reason is None:
                return _error(_("Say why the opportunity was lost."), 400, needs_reason=True)
            services.opportunity_lose(
                opportunity=opportunity,
                actor=user,
                reason=reason,
                note=request.POST.get("note", "").strip(),
                version=version,
            )
        else:
            services.opportunity_move(
                opportunity=opportunity, actor=user, stage=stage, version=version
            )
    except VersionConflict as conflict:
        return _error(conflict, 409, current_version=conflict.current_version)
    except ActionNotAllowed as refusal:
        return _error(refusal, 403)
    except ValidationError as error:
        return _error(" ".join(error.messages), 400)
    form = BoardFilterForm(request.POST, user=user)
    filters = form.filters()
    filters.pipeline = opportunity.pipeline
    return JsonResponse(
        {
            "ok": True,
            "id": opportunity.pk,
            "version": opportunity.version,
            "stage": opportunity.stage_id,
            "is_closed": opportunity.is_closed,
            "probability": opportunity.probability,
            **_totals_payload(user, filters),
        }
    )


# --- the funnel ------------------------------------------------------------------------------
@login_required
def funnel_view(request):
    _require_view(request.user)
    form = FunnelForm(request.GET or None, user=request.user)
    try:
        values = form.values()
    except ValidationError as error:  # no active sales process
        return _no_pipeline(request, error)
    report = funnel_report(request.user, values)
    if request.GET.get("format") == "json":
        return JsonResponse(report)
    chart = [
        {
            "name": step["name"],
            "value": step["reached"],
            "url": step["url"],
            "tip": _("%(name)s: reached by %(reached)s; in the stage now: %(count)s (%(amount)s)")
            % {
                "name": step["name"],
                "reached": step["reached"],
                "count": step["count"],
                "amount": step["amount_display"],
            },
        }
        for step in report["steps"]
    ]
    return render(
        request,
        "sales/board/funnel.html",
        {"form": form, "values": values, "report": report, "chart": chart},
    )


urlpatterns = [
    path("board/", board_view, name="board"),
    path("board/move/", board_move, name="board_move"),
    path("funnel/", funnel_view, name="funnel"),
]
