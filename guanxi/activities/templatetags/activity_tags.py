# ruff: noqa: E501  (the markup's lines are kept whole, as in a template)
"""`{% activity_actions activity inline=True %}`: the in-place actions of one activity.

The lists of activities ("my activities", a customer's open and past activities) show every
row with its action forms (done, reschedule, reassign, check in, appointment outcome,
cancel or reopen): about 70 template nodes and 15 translations per row, most of the page's
time. Written here in Python once per row instead; the markup is what a template would
write (same classes, ids and escaping) and the texts go through gettext as usual.

With `inline`, each form posts over htmx and the answer replaces the activity's row
(#activity-<pk>); without, a plain post that comes back to `next_url`. Needs the activity
decorated by `selectors.decorate_activities` (`gx_editable`, `gx_urls`); reads `next_url`,
`row_prefix` (default "r") and the CSRF token from the context.
"""

from __future__ import annotations

import functools

from django import template
from django.utils import dateformat, formats, timezone
from django.utils.html import conditional_escape as esc
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, gettext_noop

register = template.Library()


@functools.lru_cache(maxsize=16)
def _texts(language: str | None) -> dict[str, str]:
    """The row's texts in `language` (the active one), escaped: translated once per process
    and language (the catalogues are too)."""
    return {
        key: esc(gettext(text))
        for key, text in (
            ("done", gettext_noop("Done")),
            ("outcome", gettext_noop("Outcome (optional)")),
            ("mark_done", gettext_noop("Mark as done")),
            ("reschedule", gettext_noop("Reschedule")),
            ("new_time", gettext_noop("New time")),
            ("reassign", gettext_noop("Reassign")),
            ("new_owner", gettext_noop("New owner")),
            ("type_to_search", gettext_noop("Type to search…")),
            ("search", gettext_noop("Search")),
            ("reason", gettext_noop("Reason")),
            ("more", gettext_noop("More")),
            ("check_in_at", gettext_noop("Check in at")),
            ("check_in", gettext_noop("Check in")),
            ("appointment_outcome", gettext_noop("Appointment outcome")),
            ("came", gettext_noop("Came")),
            ("no_show", gettext_noop("No-show")),
            ("rescheduled", gettext_noop("Rescheduled")),
            ("cancelled", gettext_noop("Cancelled")),
            ("save", gettext_noop("Save")),
            ("cancel_activity", gettext_noop("Cancel this activity")),
            ("reopen", gettext_noop("Reopen")),
        )
    }


def _csrf_input(context) -> str:
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{esc(token)}">'


@register.simple_tag(takes_context=True)
def activity_actions(context, activity, inline=False) -> str:
    if not getattr(activity, "gx_editable", False):
        return mark_safe("\n\n")
    t = _texts(get_language())
    urls = {key: esc(url) for key, url in activity.gx_urls.items()}
    pk = esc(formats.localize(activity.pk))
    prefix = esc(context.get("row_prefix") or "r")
    hidden = (
        f'{_csrf_input(context)}<input type="hidden" name="version" '
        f'value="{esc(formats.localize(activity.version))}"><input type="hidden" name="next" '
        f'value="{esc(context.get("next_url", ""))}">'
    )

    def post(key: str) -> str:
        action = f'method="post" action="{urls[key]}"'
        if inline:
            action += f' hx-post="{urls[key]}" hx-target="#activity-{pk}" hx-swap="outerHTML"'
        return action

    # The line breaks and indentation are those of the template this replaced.
    html = [
        '\n\n<div class="d-inline-flex flex-wrap gap-1 justify-content-end gx-activity-actions">\n  '
    ]
    if activity.status == "open":
        start = timezone.template_localtime(activity.start_at)
        start_value = esc(dateformat.format(start, "Y-m-d\\TH:i")) if start else ""
        html.append(
            f"""
    <div class="dropdown">
      <button type="button" class="btn btn-sm btn-outline-success dropdown-toggle gx-action-complete" data-bs-toggle="dropdown" data-bs-auto-close="outside" aria-expanded="false"><i class="bi bi-check2"></i> {t["done"]}</button>
      <form class="dropdown-menu dropdown-menu-end p-2 gx-action-form" style="min-width: 16rem" {post("complete")}>
        {hidden}
        <label class="form-label small" for="{prefix}{pk}-outcome">{t["outcome"]}</label>
        <input type="text" class="form-control form-control-sm mb-2" name="outcome" id="{prefix}{pk}-outcome" maxlength="2000">
        <button type="submit" class="btn btn-sm btn-success">{t["mark_done"]}</button>
      </form>
    </div>
    <div class="dropdown">
      <button type="button" class="btn btn-sm btn-outline-secondary dropdown-toggle gx-action-reschedule" data-bs-toggle="dropdown" data-bs-auto-close="outside" aria-expanded="false" title="{t["reschedule"]}"><i class="bi bi-calendar-event"></i><span class="visually-hidden">{t["reschedule"]}</span></button>
      <form class="dropdown-menu dropdown-menu-end p-2 gx-action-form" style="min-width: 16rem" {post("reschedule")}>
        {hidden}
        <label class="form-label small" for="{prefix}{pk}-start">{t["new_time"]}</label>
        <input type="datetime-local" class="form-control form-control-sm mb-2" name="start_at" id="{prefix}{pk}-start" value="{start_value}" required>
        <button type="submit" class="btn btn-sm btn-primary">{t["reschedule"]}</button>
      </form>
    </div>
    <div class="dropdown">
      <button type="button" class="btn btn-sm btn-outline-secondary dropdown-toggle gx-action-reassign" data-bs-toggle="dropdown" data-bs-auto-close="outside" aria-expanded="false" title="{t["reassign"]}"><i class="bi bi-person-check"></i><span class="visually-hidden">{t["reassign"]}</span></button>
      <form class="dropdown-menu dropdown-menu-end p-2 gx-action-form" style="min-width: 16rem" {post("reassign")}>
        {hidden}
        <label class="form-label small" for="{prefix}{pk}-owner">{t["new_owner"]}</label>
        <input type="search" class="form-control form-control-sm mb-1" name="q" form="{prefix}{pk}-lookup" autocomplete="off" placeholder="{t["type_to_search"]}" aria-label="{t["search"]}"
               hx-get="{urls["lookup_users"]}" hx-trigger="input changed delay:300ms, focus once" hx-target="next select" hx-swap="innerHTML" hx-push-url="false" hx-sync="this:replace">
        <select class="form-select form-select-sm mb-2" name="owner" id="{prefix}{pk}-owner" required><option value="">---------</option></select>
        <input type="text" class="form-control form-control-sm mb-2" name="reason" maxlength="500" placeholder="{t["reason"]}" aria-label="{t["reason"]}">
        <button type="submit" class="btn btn-sm btn-primary">{t["reassign"]}</button>
      </form>
    </div>
    <div class="dropdown">
      <button type="button" class="btn btn-sm btn-outline-secondary dropdown-toggle" data-bs-toggle="dropdown" data-bs-auto-close="outside" aria-expanded="false" title="{t["more"]}"><i class="bi bi-three-dots"></i><span class="visually-hidden">{t["more"]}</span></button>
      <div class="dropdown-menu dropdown-menu-end p-2" style="min-width: 16rem">
        """
        )
        if activity.kind == "visit" and not activity.check_in_at:
            html.append(
                f"""
          <form class="mb-2 gx-action-form" {post("check_in")}>
            {hidden}
            <label class="form-label small" for="{prefix}{pk}-place">{t["check_in_at"]}</label>
            <div class="input-group input-group-sm">
              <input type="text" class="form-control" name="place" id="{prefix}{pk}-place" maxlength="255" value="{esc(activity.location)}" required>
              <button type="submit" class="btn btn-outline-primary"><i class="bi bi-geo-alt"></i> {t["check_in"]}</button>
            </div>
          </form>
        """
            )
        html.append("\n        ")
        if activity.is_appointment:
            html.append(
                f"""
          <form class="mb-2 gx-action-form" {post("outcome")}>
            {hidden}
            <label class="form-label small" for="{prefix}{pk}-appointment">{t["appointment_outcome"]}</label>
            <div class="input-group input-group-sm">
              <select class="form-select" name="outcome" id="{prefix}{pk}-appointment">
                <option value="came">{t["came"]}</option>
                <option value="no_show">{t["no_show"]}</option>
                <option value="rescheduled">{t["rescheduled"]}</option>
                <option value="cancelled">{t["cancelled"]}</option>
              </select>
              <button type="submit" class="btn btn-outline-primary">{t["save"]}</button>
            </div>
          </form>
        """
            )
        html.append(
            f"""
        <form class="gx-action-form" {post("cancel")}>
          {hidden}
          <button type="submit" class="btn btn-sm btn-outline-danger w-100"><i class="bi bi-x-circle"></i> {t["cancel_activity"]}</button>
        </form>
      </div>
    </div>
  """
        )
    else:
        html.append(
            f"""
    <form class="gx-action-form" {post("reopen")}>
      {hidden}
      <button type="submit" class="btn btn-sm btn-outline-secondary"><i class="bi bi-arrow-counterclockwise"></i> {t["reopen"]}</button>
    </form>
  """
        )
    html.append("\n</div>\n\n")
    return mark_safe("".join(html))  # every value above is escaped
