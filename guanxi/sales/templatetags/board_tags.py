# ruff: noqa: E501  (the markup's lines are kept whole, as in a template)
"""`{% board_card card close_date_label days_in_stage_label %}`: one card of the pipeline
board.

A board shows up to 50 cards in each open stage, several hundred on a team's board; as
template nodes (a dozen variables and filters per card) they were over half of the page's
time. Written here once per card instead; the markup is what the template wrote (same
classes, data attributes and escaping). Needs the cards as `views.board` decorates them
(`url`, `can_move`, `days_in_stage_text`).
"""

from __future__ import annotations

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html

register = template.Library()

CARD = (
    '<article class="card gx-card{movable}" data-id="{pk}" data-version="{version}" data-name="{name}">\n'
    '        <div class="card-body p-2">\n'
    '          <div class="fw-semibold text-truncate">{title}</div>\n'
    '          <div class="small text-body-secondary text-truncate">{account}</div>\n'
    '          <div class="d-flex justify-content-between small mt-1">\n'
    "            <span>{amount}</span>\n"
    '            <span title="{close_label}"><i class="bi bi-calendar-event"></i> {close}</span>\n'
    "          </div>\n"
    '          <div class="d-flex justify-content-between small mt-1">\n'
    '            <span class="text-truncate"><i class="bi bi-person"></i> {owner}</span>\n'
    '            <span class="badge {badge}" title="{days_label}">{days}</span>\n'
    "          </div>\n"
    "        </div>\n"
    "      </article>"
)


@register.simple_tag
def board_card(card, close_date_label: str, days_in_stage_label: str) -> str:
    title = format_html('<a href="{}">{}</a>', card.url, card.name) if card.url else card.name
    close = card.expected_close_date
    return format_html(
        CARD,
        movable=" gx-card-movable" if card.can_move else "",
        pk=card.pk,
        version=card.version,
        name=card.name,
        title=title,
        account=card.account,
        amount=floatformat(card.amount_company, "2g"),
        close_label=close_date_label,
        close=close.isoformat() if close else "—",
        owner=card.owner or "—",
        badge="text-bg-danger gx-overdue" if card.overdue_in_stage else "text-bg-light",
        days_label=days_in_stage_label,
        days=card.days_in_stage_text,
    )
