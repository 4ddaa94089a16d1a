"""The main menu. Apps add their entries here as they land; each entry names a URL."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from guanxi.core.scope import is_administrator

MODULES = [
    # (url name, label, icon)
    ("home", _("Today"), "bi-house"),
    ("customers:account_list", _("Customers"), "bi-building"),
    ("customers:contact_list", _("Contacts"), "bi-person-lines-fill"),
    ("customers:group_list", _("Customer groups"), "bi-collection"),
    ("activities:index", _("Activities"), "bi-calendar-check"),
    ("activities:calendar", _("Calendar"), "bi-calendar3"),
    ("activities:statistics", _("Activity statistics"), "bi-bar-chart-line"),
    ("leads:lead_list", _("Leads"), "bi-funnel"),
    ("leads:pool_list", _("Public pools"), "bi-inboxes"),
    ("leads:funnel", _("Lead funnel"), "bi-filter"),
    ("marketing:index", _("Marketing"), "bi-megaphone"),
    ("sales:index", _("Sales"), "bi-graph-up-arrow"),
    ("sales:forecast", _("Forecast"), "bi-graph-up"),
    ("sales:analysis", _("Sales analysis"), "bi-pie-chart"),
    ("sales:board", _("Pipeline board"), "bi-kanban"),
    ("sales:funnel", _("Sales funnel"), "bi-funnel-fill"),
    ("sales:product_list", _("Products"), "bi-box-seam"),
    ("sales:price_book_list", _("Price books"), "bi-tags-fill"),
    ("service:index", _("Service"), "bi-headset"),
    ("analytics:index", _("Analytics"), "bi-bar-chart"),
]

ADMIN_ENTRIES = [
    ("core:user_list", _("Users"), "bi-people"),
    ("core:department_list", _("Departments"), "bi-diagram-3"),
    ("core:role_list", _("Roles"), "bi-shield-lock"),
    ("core:picklist_list", _("Picklists"), "bi-list-ul"),
    ("core:customfield_list", _("Custom fields"), "bi-input-cursor-text"),
    ("core:tag_list", _("Tags"), "bi-tags"),
    ("customers:duplicate_scans", _("Duplicates"), "bi-intersect"),
    ("activities:settings", _("Activity settings"), "bi-calendar-check"),
    ("leads:web_form_list", _("Web forms"), "bi-ui-checks"),
    ("leads:assignment_rules", _("Lead assignment"), "bi-shuffle"),
    ("leads:scoring_rules", _("Lead scoring"), "bi-speedometer2"),
    ("sales:pipeline_list", _("Sales processes"), "bi-diagram-2"),
    ("sales:competitor_list", _("Competitors"), "bi-people"),
    ("sales:targets", _("Sales targets"), "bi-bullseye"),
    ("sales:exchange_rate_list", _("Exchange rates"), "bi-currency-exchange"),
    ("sales:territory_list", _("Territories"), "bi-map"),
    ("core:recycle_bin", _("Recycle bin"), "bi-trash"),
]


def _is_active(url: str, path: str) -> bool:
    if url == "/":
        return path == "/"
    return path.startswith(url)


def _entries(spec, path: str = ""):
    entries = []
    for name, label, icon in spec:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # the module has not landed yet
        entries.append(
            {
                "url": url,
                "label": label,
                "icon": icon,
                "name": name,
                "active": _is_active(url, path),
            }
        )
    # Only the most specific match is active: on /sales/board/ the board, not /sales/ too.
    active = [entry for entry in entries if entry["active"]]
    if len(active) > 1:
        best = max(active, key=lambda entry: len(entry["url"]))
        for entry in active:
            entry["active"] = entry is best
    return entries


class CountedOnce:
    """A value templates compute the first time they use it (they call callables)."""

    def __init__(self, compute):
        self._compute = compute

    def __call__(self):
        if not hasattr(self, "_value"):
            self._value = self._compute()
        return self._value


def navigation_for(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from guanxi.core.models import Notification

    path = getattr(request, "path", "")
    administrator = is_administrator(user)
    return {
        "nav_modules": _entries(MODULES, path),
        "nav_admin": _entries(ADMIN_ENTRIES, path) if administrator else [],
        # Counted only if the template shows it: htmx fragments (list pages, account
        # sections) render no menu and skip the query.
        "unread_notifications": CountedOnce(
            Notification.objects.filter(recipient=user, is_read=False).count
        ),
        "is_administrator": administrator,
    }
