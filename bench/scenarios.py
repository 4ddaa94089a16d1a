"""The request scenarios: which pages, as whom, with which parameters, against which target.

Each case is a list of URLs requested in turn through Django's test Client in this process
(force_login, no network), timed without query capture, then requested a few more times with
the queries captured (count per request, database time). The "floor" re-runs the page's main
SQL statement (the one that reads the rows shown) bare on a cursor, so the ratio says how much
the framework, serialisers and templates add on top of the database.
"""

from __future__ import annotations

import datetime
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# DESIGN.md "Performance targets" (dataset L, 2-core machine).
TARGETS: dict[str, dict[str, Any]] = {
    "list": {"metric": "p95_ms", "op": "<", "value": 50.0, "text": "p95 < 50 ms"},
    "search": {"metric": "p95_ms", "op": "<", "value": 100.0, "text": "p95 < 100 ms"},
    "detail": {"metric": "p95_ms", "op": "<", "value": 150.0, "text": "p95 < 150 ms"},
    # The calendar range query and "my activities" are lists: the list target.
    "calendar": {"metric": "p95_ms", "op": "<", "value": 50.0, "text": "p95 < 50 ms"},
    "activities": {"metric": "p95_ms", "op": "<", "value": 50.0, "text": "p95 < 50 ms"},
    "leads": {"metric": "p95_ms", "op": "<", "value": 50.0, "text": "p95 < 50 ms"},
    # Sales: the opportunity list is a list; "pipeline board and funnel for a team" p95 <
    # 150 ms; "forecast and dashboard for the whole company" p95 < 500 ms, which the sales
    # analysis (a report page of the same kind) is held against too.
    "opportunities": {"metric": "p95_ms", "op": "<", "value": 50.0, "text": "p95 < 50 ms"},
    "board": {"metric": "p95_ms", "op": "<", "value": 150.0, "text": "p95 < 150 ms"},
    "funnel": {"metric": "p95_ms", "op": "<", "value": 150.0, "text": "p95 < 150 ms"},
    "forecast": {"metric": "p95_ms", "op": "<", "value": 500.0, "text": "p95 < 500 ms"},
    "sales_analysis": {"metric": "p95_ms", "op": "<", "value": 500.0, "text": "p95 < 500 ms"},
    "mixed": {
        "metric": "requests_per_second",
        "op": ">=",
        "value": 400.0,
        "text": ">= 400 requests/s",
    },
    "mixed_rss": {"metric": "peak_worker_rss_mb", "op": "<", "value": 300.0, "text": "< 300 MB"},
    "import": {"metric": "rows_per_second", "op": ">=", "value": 5000.0, "text": ">= 5,000 rows/s"},
    "dupscan": {
        "metric": "extrapolated_1m_seconds",
        "op": "<",
        "value": 300.0,
        "text": "1M accounts < 5 min",
    },
}


def verdict(kind: str, result: dict[str, Any]) -> tuple[str, bool | None]:
    target = TARGETS[kind]
    value = result.get(target["metric"])
    if value is None:
        return target["text"], None
    ok = value < target["value"] if target["op"] == "<" else value >= target["value"]
    return target["text"], ok


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summarise(durations_ms: Sequence[float], wall_seconds: float) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(durations_ms, 50), 2),
        "p95_ms": round(percentile(durations_ms, 95), 2),
        "p99_ms": round(percentile(durations_ms, 99), 2),
        "max_ms": round(max(durations_ms, default=0.0), 2),
        "mean_ms": round(statistics.fmean(durations_ms), 2) if durations_ms else 0.0,
        "requests_per_second": round(len(durations_ms) / wall_seconds, 1) if wall_seconds else 0.0,
    }


@dataclass
class Case:
    scenario: str  # list | search | detail (the target it is held against)
    name: str  # list_html, search_pinyin, ...
    role: str  # rep | manager | admin
    urls: list[str]
    # Picks the page's main statement among the captured SQL (lower-cased text).
    main_query: Callable[[str], bool] = field(default=lambda sql: True)
    note: str = ""
    # Facts about the case for the JSON (e.g. the calendar's month and users).
    extra: dict[str, Any] = field(default_factory=dict)
    # Reads figures off a response (e.g. how many events came back) into the JSON.
    inspect: Callable[[Any], dict[str, Any]] | None = None


# --- who runs the scenarios ------------------------------------------------------------------
def bench_users(roles: Sequence[str]) -> dict[str, Any]:
    """The users the scenarios run as:

    rep: the sales rep owning the most accounts (own scope, the most rows to render);
    rep_low: the sales rep owning the fewest (own scope, the sparsest rows to find);
    manager: the first regional manager (department subtree scope, several departments);
    admin: an administrator (everything).
    """
    from django.db.models import Count

    from guanxi.core.models import User
    from guanxi.customers.models import Account

    found: dict[str, Any] = {}
    for role in roles:
        user = None
        if role == "rep":
            top = (
                Account.objects.filter(owner__roles__code="sales_rep")
                .values("owner")
                .annotate(n=Count("id"))
                .order_by("-n", "owner")
                .first()
            )
            if top:
                user = User.objects.get(pk=top["owner"])
        elif role == "rep_low":
            # The rep with the fewest accounts: an own-scope page that must look far.
            low = (
                Account.objects.filter(owner__roles__code="sales_rep")
                .values("owner")
                .annotate(n=Count("id"))
                .order_by("n", "owner")
                .first()
            )
            if low:
                user = User.objects.get(pk=low["owner"])
        elif role == "manager":
            user = (
                User.objects.filter(roles__code="sales_manager", managed_departments__depth=1)
                .order_by("pk")
                .first()
                or User.objects.filter(roles__code="sales_manager").order_by("pk").first()
            )
        elif role == "admin":
            user = User.objects.filter(roles__is_admin=True, is_active=True).order_by("pk").first()
        else:
            user = User.objects.filter(username=role).first()
        if user is None:
            raise RuntimeError(f"no user for role {role!r}: generate a dataset first")
        found[role] = user
    return found


# --- the cases -------------------------------------------------------------------------------
def _is_account_page_query(sql: str) -> bool:
    return 'from "customers_account"' in sql and " limit " in sql and "count(" not in sql


def _is_account_detail_query(sql: str) -> bool:
    return 'from "customers_account"' in sql and '"customers_account"."id" =' in sql


def _is_search_query(sql: str) -> bool:
    return 'from "core_searchentry"' in sql and ("match" in sql or "to_tsquery" in sql)


def _common_industry() -> int | None:
    from django.db.models import Count

    from guanxi.customers.models import Account

    row = (
        Account.objects.exclude(industry=None)
        .values("industry")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    return row["industry"] if row else None


def list_cases(role: str, user) -> list[Case]:
    industry = _common_industry()
    cases = [
        Case("list", "list_html", role, ["/customers/accounts/"], _is_account_page_query),
        Case("list", "list_api", role, ["/api/v1/accounts/"], _is_account_page_query),
        Case(
            "list", "list_sorted_name_html", role, ["/customers/accounts/?sort=name"],
            _is_account_page_query,
        ),
        Case(
            "list", "list_sorted_name_api", role, ["/api/v1/accounts/?ordering=name"],
            _is_account_page_query,
        ),
    ]  # fmt: skip
    if industry is not None:
        cases += [
            Case(
                "list", "list_filtered_industry_html", role,
                [f"/customers/accounts/?industry={industry}"], _is_account_page_query,
            ),
            Case(
                "list", "list_filtered_industry_api", role,
                [f"/api/v1/accounts/?industry={industry}"], _is_account_page_query,
            ),
        ]  # fmt: skip
    return cases


def _visible_sample(user, *, limit: int = 20, spread: int = 2000) -> list[Any]:
    """Up to `limit` accounts the user can see, spread over the newest `spread` of them."""
    from guanxi.customers.models import Account

    ids = list(
        Account.objects.visible_to(user)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)[:spread]
    )
    if not ids:
        return []
    step = max(1, len(ids) // limit)
    chosen = ids[::step][:limit]
    return list(Account.objects.filter(pk__in=chosen).order_by("-created_at"))


def search_queries(user, *, per_kind: int = 10) -> dict[str, list[str]]:
    """Real queries for records the user can see: a Chinese substring of a company name, its
    full pinyin, its initials, and a phone number."""
    from guanxi.core.search.chinese import has_cjk, initials, syllables
    from guanxi.customers.matching import company_core_name
    from guanxi.customers.models import Account

    queries: dict[str, list[str]] = {"chinese": [], "pinyin": [], "initials": [], "phone": []}
    for account in _visible_sample(user, limit=200, spread=5000):
        if account.phone_digits and len(queries["phone"]) < per_kind:
            queries["phone"].append(account.phone_digits)
        if account.kind != Account.Kind.COMPANY or not has_cjk(account.name):
            continue
        core = company_core_name(account.name)
        if len(core) < 2 or not has_cjk(core):
            continue
        parts = syllables(core)
        if len(queries["chinese"]) < per_kind:
            queries["chinese"].append(core[1:4] if len(core) >= 4 else core)
        if len(queries["pinyin"]) < per_kind:
            queries["pinyin"].append("".join(parts))
        if len(queries["initials"]) < per_kind:
            queries["initials"].append(initials(parts))
    return {kind: values for kind, values in queries.items() if values}


def search_path() -> tuple[str, str]:
    """(path, kind): the API's /api/v1/search/ when it is routed, else the HTML search page."""
    from django.urls import NoReverseMatch, reverse

    for name, kind in (("api:api-search", "api"), ("api:search", "api"), ("core:search", "html")):
        try:
            return reverse(name), kind
        except NoReverseMatch:
            continue
    return "/api/v1/search/", "api"


def search_cases(role: str, user) -> list[Case]:
    from urllib.parse import quote

    path, kind_of_page = search_path()
    return [
        Case(
            "search",
            f"search_{kind}_{kind_of_page}",
            role,
            [f"{path}?q={quote(q)}" for q in queries],
            _is_search_query,
            note=", ".join(queries[:3]),
        )
        for kind, queries in search_queries(user).items()
    ]


def detail_cases(role: str, user) -> list[Case]:
    from django.urls import reverse

    from guanxi.customers.sections import account_sections

    accounts = _visible_sample(user)
    if not accounts:
        return []
    return [
        Case(
            "detail",
            "account_detail_html",
            role,
            [f"/customers/accounts/{account.pk}/" for account in accounts],
            _is_account_detail_query,
        ),
        # The sections the page loads when they scroll into view, one request each: the
        # page's figure alone would hide the work it hands on.
        Case(
            "detail",
            "account_lazy_sections_html",
            role,
            [
                reverse("customers:account_section", args=[account.pk, section.key])
                for account in accounts
                for section in account_sections()
                if section.lazy
            ],
            _is_account_detail_query,
        ),
    ]


# --- activities: the calendar month and "my activities" --------------------------------------
CALENDAR_EVENTS_WANTED = 5000  # the issue: "a month with 5,000 visible events"


def _is_calendar_query(sql: str) -> bool:
    """The range query: the UNION ALL of the owned and assigned parts (sorted in Python)."""
    return 'from "activities_activity"' in sql and " union all " in sql and "count(" not in sql


def _is_activity_page_query(sql: str) -> bool:
    return 'from "activities_activity"' in sql and " limit " in sql and "count(" not in sql


def calendar_month() -> tuple[datetime.date, datetime.date]:
    """The month the dataset's users look at: the last whole month before its "now" (the
    generator's `until`), [first day, first day of the next month)."""
    from bench.generate import UNTIL_DEFAULT, read_dataset_marker

    until = read_dataset_marker().get("until")
    now = datetime.date.fromisoformat(until) if until else UNTIL_DEFAULT
    last = now - datetime.timedelta(days=1)
    first = last.replace(day=1)
    return first, (first + datetime.timedelta(days=32)).replace(day=1)


def calendar_user_ids(
    role: str, user, first: datetime.date, after: datetime.date, wanted: int
) -> tuple[list[int], int]:
    """Whose calendars to overlay: a rep their own; a manager and an administrator as many of
    the calendars they may open (busiest first) as make about `wanted` events that month.
    Answers (user ids, their activities that month by owner)."""
    from django.db.models import Count
    from django.utils import timezone

    from guanxi.activities.models import Activity

    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time(0)))
    end = timezone.make_aware(datetime.datetime.combine(after, datetime.time(0)))
    month = Activity.all_objects.filter(
        is_deleted=False, start_at__gte=start, start_at__lt=end
    ).exclude(status="cancelled")
    if role.startswith("rep"):
        return [user.pk], month.filter(owner_id=user.pk).count()
    try:
        from guanxi.activities.calendar import calendar_users_visible_to

        allowed = set(calendar_users_visible_to(user).values_list("pk", flat=True))
    except ImportError:  # the calendar module is not there: whoever the user sees
        allowed = None
    per_owner = sorted(
        (
            (row["n"], row["owner_id"])
            for row in month.values("owner_id").annotate(n=Count("id")).order_by()
            if row["owner_id"] and (allowed is None or row["owner_id"] in allowed)
        ),
        reverse=True,
    )
    # Busiest first, leaving out any calendar that alone holds more than wanted (the
    # generator's busiest reps do): the case is "a month with about `wanted` events".
    chosen, total = [], 0
    for count, owner_id in per_owner:
        if total >= wanted * 0.95:
            break
        if total + count <= wanted * 1.05:
            chosen.append(owner_id)
            total += count
    if not chosen and per_owner:  # each calendar alone is too big: the smallest
        total, smallest = per_owner[-1]
        chosen = [smallest]
    return sorted(chosen) or [user.pk], total


def _count_events(response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"events": None}
    if isinstance(data, dict):
        data = data.get("results") or data.get("events") or []
    return {
        "events": len(data),
        "busy_events": sum(1 for event in data if isinstance(event, dict) and event.get("busy")),
    }


def calendar_cases(role: str, user) -> list[Case]:
    """The calendar range query for a month (`/api/v1/activities/calendar/`)."""
    first, after = calendar_month()
    users, owned = calendar_user_ids(role, user, first, after, CALENDAR_EVENTS_WANTED)
    url = (
        f"/api/v1/activities/calendar/?start={first.isoformat()}&end={after.isoformat()}"
        f"&users={','.join(str(pk) for pk in users)}"
    )
    return [
        Case(
            "calendar",
            "calendar_month_api",
            role,
            [url],
            _is_calendar_query,
            note=f"{first:%Y-%m}, {len(users)} calendars",
            extra={
                "month": f"{first:%Y-%m}",
                "calendars": len(users),
                "owned_events_in_month": owned,
            },
            inspect=_count_events,
        )
    ]


def activities_cases(role: str, user) -> list[Case]:
    """ "My activities": the API list (newest first, and open ones by due time) and the HTML
    page when it is routed."""
    from django.urls import NoReverseMatch, reverse

    cases = [
        Case("activities", "activities_list_api", role, ["/api/v1/activities/"],
             _is_activity_page_query),
        Case("activities", "activities_open_by_due_api", role,
             ["/api/v1/activities/?status=open&ordering=due_at"], _is_activity_page_query),
    ]  # fmt: skip
    try:
        index = reverse("activities:index")
    except NoReverseMatch:
        index = None
    if index:
        cases.insert(
            0, Case("activities", "activities_list_html", role, [index], _is_activity_page_query)
        )
    return cases


# --- leads: the list and the pool page ----------------------------------------------------------
def _is_lead_page_query(sql: str) -> bool:
    return 'from "leads_lead"' in sql and " limit " in sql and "count(" not in sql


def _is_pool_page_query(sql: str) -> bool:
    # The pool page walks the entries' index a page at a time, then loads those leads by id.
    return 'from "leads_poolentry"' in sql and " limit " in sql


def leads_cases(role: str, user) -> list[Case]:
    """The leads list (API first page: new leads by score, highest first; the `/leads/`
    page) and the lead pool page, when the dataset has leads (`generate --add leads`)."""
    from django.urls import NoReverseMatch, reverse

    from guanxi.leads.models import Lead, Pool

    if not Lead.all_objects.exists():
        return []
    cases = [
        Case("leads", "leads_list_api", role, ["/api/v1/leads/"], _is_lead_page_query),
        Case("leads", "leads_new_by_score_api", role,
             ["/api/v1/leads/?status=new&ordering=-score"], _is_lead_page_query),
    ]  # fmt: skip
    try:
        cases.insert(
            0, Case("leads", "leads_list_html", role, [reverse("leads:lead_list")],
                    _is_lead_page_query),
        )  # fmt: skip
        pool = Pool.objects.filter(kind="leads", is_active=True).order_by("pk").first()
        if pool is not None:
            cases.append(
                Case("leads", "lead_pool_html", role,
                     [reverse("leads:pool_detail", args=[pool.pk])], _is_pool_page_query,
                     note=pool.name),
            )  # fmt: skip
    except NoReverseMatch:
        pass
    return cases


# --- sales: opportunities, board, funnel, forecast, analysis -----------------------------------
def _is_opportunity_page_query(sql: str) -> bool:
    return 'from "sales_opportunity"' in sql and " limit " in sql and "count(" not in sql


def _is_board_cards_query(sql: str) -> bool:
    """The cards: each open stage's first ids (`first_cards`) fetched with account and owner,
    or the API's page of open deals (with their accounts)."""
    return 'from "sales_opportunity"' in sql and '"customers_account"."name"' in sql


def _is_funnel_reached_query(sql: str) -> bool:
    return 'from "sales_opportunity"' in sql and '"sales_stagehistory"' in sql


def _is_forecast_query(sql: str) -> bool:
    return 'from "sales_opportunity"' in sql and "sum(" in sql


def _is_analysis_kpi_query(sql: str) -> bool:
    return 'from "sales_opportunity"' in sql and "avg(" in sql


def dataset_today() -> datetime.date:
    """The dataset's "today": the day before the generator's `until` (its "now")."""
    from bench.generate import UNTIL_DEFAULT, read_dataset_marker

    until = read_dataset_marker().get("until")
    return (datetime.date.fromisoformat(until) if until else UNTIL_DEFAULT) - datetime.timedelta(
        days=1
    )


def _has_opportunities() -> bool:
    from guanxi.sales.models import Opportunity

    return Opportunity.all_objects.exists()


def _busiest_open_stage():
    """The open stage of the default sales process with the most open opportunities."""
    from django.db.models import Count

    from guanxi.sales.models import Opportunity
    from guanxi.sales.services.opportunities import default_pipeline

    pipeline = default_pipeline()
    row = (
        Opportunity.objects.filter(pipeline=pipeline, is_closed=False)
        .values("stage")
        .annotate(n=Count("id"))
        .order_by("-n", "stage")
        .first()
    )
    return pipeline, row["stage"] if row else None


def opportunities_cases(role: str, user) -> list[Case]:
    """The opportunity list (`/sales/opportunities/`, with its count / amount / weighted
    totals) and the API's first page; both filtered by the busiest open stage, sorted by
    amount, largest first."""
    from django.urls import reverse

    if not _has_opportunities():
        return []
    index = reverse("sales:opportunity_list")
    _pipeline, stage = _busiest_open_stage()
    cases = [
        Case("opportunities", "opportunities_list_html", role, [index],
             _is_opportunity_page_query),
        Case("opportunities", "opportunities_list_api", role, ["/api/v1/opportunities/"],
             _is_opportunity_page_query),
    ]  # fmt: skip
    if stage is not None:
        cases += [
            Case("opportunities", "opportunities_stage_by_amount_html", role,
                 [f"{index}?stage={stage}&sort=-amount"], _is_opportunity_page_query,
                 extra={"stage": stage}),
            Case("opportunities", "opportunities_stage_by_amount_api", role,
                 [f"/api/v1/opportunities/?stage={stage}&ordering=-amount_company"],
                 _is_opportunity_page_query, extra={"stage": stage}),
        ]  # fmt: skip
    return cases


def board_cases(role: str, user) -> list[Case]:
    """The pipeline board of the default sales process (everything the user may see: a
    rep's own deals, a manager's subtree, the whole company for the administrator), the
    same as a list with sums, and the open deals by close date through the API (the board
    has no read endpoint of its own; its cards are the API's opportunities)."""
    from django.urls import reverse

    if not _has_opportunities():
        return []
    pipeline, _stage = _busiest_open_stage()
    board = reverse("sales:board")
    return [
        Case("board", "board_html", role, [board], _is_board_cards_query),
        Case("board", "board_list_html", role, [f"{board}?view=list"], _is_board_cards_query),
        Case("board", "board_quarter_html", role, [f"{board}?period=quarter"],
             _is_board_cards_query),
        Case("board", "board_cards_api", role,
             [f"/api/v1/opportunities/?pipeline={pipeline.pk}&status=open"
              "&ordering=expected_close_date"], _is_opportunity_page_query),
    ]  # fmt: skip


FUNNEL_SCOPES = {"rep": ["me"], "rep_low": ["me"], "manager": ["me", "team"]}


def funnel_cases(role: str, user) -> list[Case]:
    """The funnel of the default sales process for the twelve months up to the dataset's
    "today" (page and API): a rep's own, a manager's own and team's, the company's for the
    administrator."""
    from django.urls import reverse

    if not _has_opportunities():
        return []
    end = dataset_today()
    start = (end.replace(day=1) - datetime.timedelta(days=335)).replace(day=1)
    dates = f"start={start.isoformat()}&end={end.isoformat()}"
    scopes = FUNNEL_SCOPES.get(role, ["company"])
    cases = [
        Case("funnel", f"funnel_{scope}_html", role,
             [f"{reverse('sales:funnel')}?scope={scope}&{dates}"], _is_funnel_reached_query,
             extra={"funnel_scope": scope})
        for scope in scopes
    ]  # fmt: skip
    widest = scopes[-1]
    cases.append(
        Case("funnel", f"funnel_{widest}_api", role,
             [f"{reverse('api:opportunity-funnel')}?scope={widest}&{dates}"],
             _is_funnel_reached_query, extra={"funnel_scope": widest})
    )  # fmt: skip
    return cases


def _period_key(day: datetime.date, kind: str) -> str:
    if kind == "year":
        return str(day.year)
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def forecast_cases(role: str, user) -> list[Case]:
    """The forecast of the dataset's current quarter, page and API, for the subject each
    user opens by default: a rep themselves, a manager their department (with its people
    and sub-departments), the administrator the company."""
    from django.urls import reverse

    if not _has_opportunities():
        return []
    period = _period_key(dataset_today(), "quarter")
    return [
        Case("forecast", "forecast_quarter_html", role,
             [f"{reverse('sales:forecast')}?period={period}"], _is_forecast_query,
             extra={"period": period}),
        Case("forecast", "forecast_quarter_api", role,
             [f"{reverse('api:forecast')}?period={period}"], _is_forecast_query,
             extra={"period": period}),
    ]  # fmt: skip


def sales_analysis_cases(role: str, user) -> list[Case]:
    """The sales analysis page (win rate, deal size, cycle, won revenue by product / region /
    industry / rep / source, lost-deal analysis, monthly trend) of the dataset's current
    quarter and year, for the user's default subject."""
    from django.urls import reverse

    if not _has_opportunities():
        return []
    today = dataset_today()
    page = reverse("sales:analysis")
    return [
        Case("sales_analysis", f"analysis_{kind}_html", role,
             [f"{page}?period={_period_key(today, kind)}"], _is_analysis_kpi_query,
             extra={"period": _period_key(today, kind)})
        for kind in ("quarter", "year")
    ]  # fmt: skip


SALES_SCENARIOS = ("opportunities", "board", "funnel", "forecast", "sales_analysis")

CASE_BUILDERS: dict[str, Callable[[str, Any], list[Case]]] = {
    "list": list_cases,
    "search": search_cases,
    "detail": detail_cases,
    "calendar": calendar_cases,
    "activities": activities_cases,
    "leads": leads_cases,
    "opportunities": opportunities_cases,
    "board": board_cases,
    "funnel": funnel_cases,
    "forecast": forecast_cases,
    "sales_analysis": sales_analysis_cases,
}


# --- measuring -------------------------------------------------------------------------------
def _client_for(user):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    client.force_login(user)
    return client


def _time_sql(sql: str, iterations: int) -> list[float]:
    from django.db import connection

    durations = []
    with connection.cursor() as cursor:
        for _ in range(iterations):
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            durations.append((time.perf_counter() - started) * 1000)
    return durations


def run_case(case: Case, user, *, iterations: int, warmup: int, capture: int = 3) -> dict:
    """Time a case; answer the figures (no target verdict: the runner adds it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client_for(user)
    urls = case.urls
    statuses: dict[int, int] = {}
    for i in range(warmup):
        client.get(urls[i % len(urls)])
    durations, cpu = [], []
    wall_started = time.perf_counter()
    for i in range(iterations):
        url = urls[i % len(urls)]
        cpu_started = time.process_time()
        started = time.perf_counter()
        response = client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    wall = time.perf_counter() - wall_started

    query_counts, db_ms, main_sql, response = [], [], None, None
    for i in range(max(1, capture)):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(urls[i % len(urls)])
        query_counts.append(len(captured.captured_queries))
        db_ms.append(sum(float(q["time"]) * 1000 for q in captured.captured_queries))
        if main_sql is None:
            main_sql = next(
                (q["sql"] for q in captured.captured_queries if case.main_query(q["sql"].lower())),
                None,
            )
    result: dict[str, Any] = {
        "scenario": case.scenario,
        "case": case.name,
        "user": case.role,
        "username": user.username,
        "url": urls[0],
        "distinct_urls": len(urls),
        "iterations": iterations,
        "warmup": warmup,
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "errors": sum(v for k, v in statuses.items() if k != 200),
        **summarise(durations, wall),
        # CPU time of this process per request (SQLite runs in process, so it is included):
        # steadier than wall time on a machine other jobs share.
        "cpu_p50_ms": round(percentile(cpu, 50), 2),
        "cpu_p95_ms": round(percentile(cpu, 95), 2),
        "queries_per_request": round(statistics.fmean(query_counts), 1),
        "max_queries_per_request": max(query_counts),
        "db_ms_per_request": round(statistics.fmean(db_ms), 2),
    }
    if case.note:
        result["queries_sample"] = case.note
    result.update(case.extra)
    if case.inspect is not None and response is not None:
        result.update(case.inspect(response))
    if main_sql:
        floor = _time_sql(main_sql, max(3, min(iterations, 50)))
        floor_p50 = percentile(floor, 50)
        result["floor_p50_ms"] = round(floor_p50, 3)
        result["floor_ratio"] = round(result["p50_ms"] / floor_p50, 1) if floor_p50 else None
        result["floor_sql"] = main_sql[:400]
    else:
        result["floor_p50_ms"] = None
        result["floor_ratio"] = None
    return result
