"""The sales analysis page (win rate, deal size, cycle, composition of won revenue, lost-deal
analysis) and its Excel export (one sheet per table). Thin: the selector reads."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.scope import can
from guanxi.sales.models import Opportunity
from guanxi.sales.selectors.analysis import Analysis, largest_with_others, sales_analysis
from guanxi.sales.selectors.forecast import forecast_subjects, parse_period, period_of


def _request_analysis(request) -> tuple[Analysis, str, int | None, object]:
    from guanxi.sales.views.forecast import pick_subject

    if not can(request.user, Opportunity, "view"):
        raise Http404
    try:
        period = parse_period(request.GET.get("period"), default_kind="quarter")
    except ValidationError:
        period = period_of(timezone.localdate(), "quarter")
    subjects = forecast_subjects(request.user)
    level, subject = pick_subject(request, subjects)
    result = sales_analysis(viewer=request.user, period=period, level=level, subject=subject)
    return result, level, subject, subjects


def _titles() -> dict[str, str]:
    return {
        "product": _("Won revenue by product"),
        "region": _("Won revenue by region"),
        "industry": _("Won revenue by industry"),
        "rep": _("Won revenue by rep"),
        "source": _("Won revenue by source"),
        "lost_reason": _("Lost by reason"),
        "lost_competitor": _("Lost to competitor"),
        "lost_stage": _("Lost at stage"),
        "lost_rep": _("Lost by rep"),
    }


# Rows of a breakdown shown on the page; the rest are summed into one "others" row (the
# Excel export keeps every row). A company's year has ~450 reps and ~300 products: all of
# them made the page long, the charts unreadable and the page slow to render.
SHOWN_SLICES = 15


def _sections(result: Analysis, keep: int | None = None) -> list[dict]:
    """The breakdowns to show: every slice, or the `keep` largest and one for the rest."""
    titles = _titles()
    sections = [
        {"key": key, "title": titles[key], "slices": slices, "kind": "won"}
        for key, slices in result.composition.items()
    ]
    sections += [
        {"key": f"lost_{key}", "title": titles[f"lost_{key}"], "slices": slices, "kind": "lost"}
        for key, slices in result.lost.items()
    ]
    for section in sections:
        section["hidden"] = 0
        if keep is not None:
            section["slices"], section["hidden"] = largest_with_others(section["slices"], keep)
        section["chart"] = [
            {"name": str(s.label), "value": float(s.amount), "count": s.count, "url": s.url}
            for s in section["slices"]
        ]
    return sections


@login_required
def analysis_view(request):
    from guanxi.sales.views.forecast import _who, period_choices, subject_choices

    result, level, subject, subjects = _request_analysis(request)
    query = urlencode({"period": result.period.key, "who": _who(level, subject)})
    trend_chart = {
        "months": [row["month"] for row in result.trend],
        "won": [row["won"] for row in result.trend],
        "lost": [row["lost"] for row in result.trend],
        "lost_amount": [float(row["lost_amount"]) for row in result.trend],
        "urls": [row["url"] for row in result.trend],
        "names": {"won": _("Won"), "lost": _("Lost"), "lost_amount": _("Lost amount")},
    }
    comparison = [
        {"key": "current", "label": _("This period"), "kpis": result.current},
        {"key": "previous", "label": _("Previous period"), "kpis": result.previous},
        {"key": "last_year", "label": _("Same period last year"), "kpis": result.last_year},
    ]
    return render(
        request,
        "sales/analysis/analysis.html",
        {
            "result": result,
            "period": result.period,
            "periods": period_choices(result.period),
            "who": _who(level, subject),
            "subjects": subject_choices(request.user, subjects),
            "comparison": comparison,
            "changes": result.changes(),
            "sections": _sections(result, keep=SHOWN_SLICES),
            "trend_chart": trend_chart,
            "can_export": can(request.user, Opportunity, "export"),
            "export_url": f"{reverse('sales:analysis_export')}?{query}",
        },
    )


@login_required
def analysis_export_view(request):
    """The analysis as an Excel workbook: one sheet per table; the export is logged."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from guanxi.core.imports.services import audit_export
    from guanxi.sales.views.forecast import _who

    if not can(request.user, Opportunity, "export"):
        raise PermissionDenied(_("Your role does not allow exporting."))
    result, _level, _subject, _subjects = _request_analysis(request)
    book = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, header: list[str], rows: list[list]):
        ws = book.create_sheet(title=title[:31])
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(row)
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 50)
        return ws

    book.remove(book.active)
    sheet(
        _("Summary"),
        [
            _("Period"),
            _("Won"),
            _("Lost"),
            _("Won amount"),
            _("Lost amount"),
            _("Win rate %"),
            _("Average deal size"),
            _("Sales cycle (days)"),
        ],
        [
            [
                k.period.key,
                k.won_count,
                k.lost_count,
                k.won_amount,
                k.lost_amount,
                k.win_rate,
                k.average_deal,
                k.cycle_days,
            ]
            for k in (result.current, result.previous, result.last_year)
        ],
    )
    header = [_("Name"), _("Opportunities"), _("Amount"), _("Share %")]
    for section in _sections(result):
        sheet(
            section["title"],
            header,
            [[str(s.label), s.count, s.amount, s.share] for s in section["slices"]],
        )
    sheet(
        _("Monthly trend"),
        [_("Month"), _("Won"), _("Lost"), _("Won amount"), _("Lost amount"), _("Win rate %")],
        [
            [r["month"], r["won"], r["lost"], r["won_amount"], r["lost_amount"], r["win_rate"]]
            for r in result.trend
        ],
    )
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    audit_export(
        model=Opportunity,
        actor=request.user,
        count=result.current.won_count + result.current.lost_count,
        filters=f"period={result.period.key}, who={_who(_level, _subject)}",
        fmt="xlsx, sales analysis",
    )
    filename = f"sales-analysis-{result.period.key}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("analysis/", analysis_view, name="analysis"),
    path("analysis/export/", analysis_export_view, name="analysis_export"),
]
