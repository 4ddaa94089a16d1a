"""Sales (销售): the product catalogue and price books, sales processes (pipelines and their
stages), opportunities (商机) with their lines, contacts, competitors, splits and stage
history, targets (业绩目标) and forecasts (销售预测), and territories.

Quotes, orders, contracts, payments, invoices and returns come later; they hang off
Opportunity and Product and report in the company currency like everything here."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OwnedModel

COMPANY_CURRENCY = getattr(settings, "GUANXI_COMPANY_CURRENCY", "CNY")
LOST_REASON_PICKLIST = "lost_reason"
MONEY = {"max_digits": 18, "decimal_places": 2}


def _localised(zh: str, en: str) -> str:
    return zh if (get_language() or "zh").startswith("zh") else (en or zh)


# --- catalogue -------------------------------------------------------------------------------
class ProductCategory(models.Model):
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return _localised(self.name_zh, self.name_en)


class Product(models.Model):
    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
    )
    unit = models.CharField(_("unit"), max_length=20, default="件")
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    tax_rate = models.DecimalField(
        _("tax rate %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("13.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    cost = models.DecimalField(_("cost"), null=True, blank=True, **MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["category", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ExchangeRate(models.Model):
    """How many units of the company currency one unit of `currency` is worth, from a date."""

    currency = models.CharField(_("currency"), max_length=3)
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8)
    valid_from = models.DateField(_("valid from"))

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="exchange_rate_once"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} ({self.valid_from})"


class PriceBook(models.Model):
    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, default=COMPANY_CURRENCY)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    # The price book used for this currency when nothing more specific applies.
    is_default = models.BooleanField(_("default for its currency"), default=False)
    customer_levels = models.ManyToManyField(
        "core.PicklistOption",
        verbose_name=_("customer levels"),
        blank=True,
        related_name="+",
        limit_choices_to={"picklist__code": "customer_level"},
        help_text=_("Empty: every customer level."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("price book")
        verbose_name_plural = _("price books")
        ordering = ["currency", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency"],
                condition=models.Q(is_default=True),
                name="one_default_price_book_per_currency",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class PriceBookEntry(models.Model):
    """A product's unit price in a price book from a quantity on (tiered prices)."""

    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    min_quantity = models.DecimalField(
        _("from quantity"), max_digits=12, decimal_places=2, default=Decimal("1")
    )
    unit_price = models.DecimalField(_("unit price"), **MONEY)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ["price_book", "product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_book", "product", "min_quantity"], name="price_tier_once"
            )
        ]


# --- sales processes -------------------------------------------------------------------------
class Pipeline(models.Model):
    """A sales process (销售流程): an ordered list of stages."""

    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # The teams and product lines that use this process.
    departments = models.ManyToManyField(
        "core.Department", verbose_name=_("sales teams"), blank=True, related_name="+"
    )
    product_categories = models.ManyToManyField(
        ProductCategory, verbose_name=_("product lines"), blank=True, related_name="pipelines"
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("sales process")
        verbose_name_plural = _("sales processes")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return _localised(self.name_zh, self.name_en)


class StageKind(models.TextChoices):
    OPEN = "open", pgettext_lazy("opportunity", "Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("win probability %"), default=0, validators=[MaxValueValidator(100)]
    )
    kind = models.CharField(_("type"), max_length=10, choices=StageKind.choices)
    # Exit criteria: opportunity field names that must be filled to leave this stage
    # (e.g. ["amount", "expected_close_date", "contacts", "lines", "competitors"]).
    required_fields = models.JSONField(_("required to leave the stage"), default=list, blank=True)
    max_days = models.PositiveIntegerField(_("expected days in stage"), null=True, blank=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "sort_order", "id"]

    def __str__(self) -> str:
        return _localised(self.name_zh, self.name_en)


class Competitor(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    website = models.URLField(_("website"), blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    weaknesses = models.TextField(_("weaknesses"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Territory(models.Model):
    """A sales territory by region and/or industry; the first matching one (by order) is
    given to accounts and opportunities."""

    name = models.CharField(_("name"), max_length=100)
    provinces = models.JSONField(_("provinces"), default=list, blank=True)
    cities = models.JSONField(_("cities"), default=list, blank=True)
    industries = models.ManyToManyField(
        "core.PicklistOption",
        verbose_name=_("industries"),
        blank=True,
        related_name="+",
        limit_choices_to={"picklist__code": "industry"},
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("users"), blank=True, related_name="territories"
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class AccountTerritory(models.Model):
    """The territory an account falls in (kept here: accounts live in a lower app)."""

    account = models.OneToOneField(
        "customers.Account", on_delete=models.CASCADE, related_name="territory_link"
    )
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")


# --- opportunities ---------------------------------------------------------------------------
# The open ones, written `is_closed IN (false)` rather than `NOT is_closed`: SQLite takes only
# the first as an equality on the indexes that begin with is_closed (so "open, by expected
# close date" walks (is_closed, expected_close_date) instead of sorting every open deal);
# PostgreSQL reads both the same.
OPEN = models.Q(is_closed__in=[False])
# The closed ones, for the same reason (a bare `is_closed` is no index equality either).
CLOSED = models.Q(is_closed__in=[True])


class Opportunity(OwnedModel):
    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("sales process"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    amount = models.DecimalField(_("amount"), default=Decimal("0"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default=COMPANY_CURRENCY)
    # The amount in the company currency, kept by the services: what reports sum.
    amount_company = models.DecimalField(default=Decimal("0"), editable=False, **MONEY)
    # When on, the amount is the sum of the product lines.
    amount_from_lines = models.BooleanField(_("amount from product lines"), default=False)
    price_book = models.ForeignKey(
        PriceBook,
        verbose_name=_("price book"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(
        _("probability %"), default=0, validators=[MaxValueValidator(100)]
    )
    next_step = models.CharField(_("next step"), max_length=255, blank=True)
    source = models.ForeignKey(
        "core.PicklistOption",
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"picklist__code": "lead_source", "is_active": True},
    )
    lead = models.ForeignKey(
        "leads.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    campaign_id = models.PositiveBigIntegerField(_("campaign"), null=True, blank=True)
    # A rep's own "commit" call for the forecast, whatever the probability.
    forecast_commit = models.BooleanField(_("commit in forecast"), default=False)
    territory = models.ForeignKey(
        Territory,
        verbose_name=_("territory"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Closing: kept by the win / lose / reopen services.
    is_closed = models.BooleanField(_("closed"), default=False, editable=False)
    is_won = models.BooleanField(_("won"), default=False, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    close_date = models.DateField(_("close date"), null=True, blank=True, editable=False)
    lost_reason = models.ForeignKey(
        "core.PicklistOption",
        verbose_name=_("lost reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"picklist__code": LOST_REASON_PICKLIST},
        editable=False,
    )
    close_note = models.TextField(_("won / lost note"), blank=True, editable=False)
    winner = models.ForeignKey(
        Competitor,
        verbose_name=_("won by competitor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    stage_entered_at = models.DateTimeField(_("in stage since"), null=True, editable=False)
    # The furthest stage of its process it has been in (won beats every open stage; a lost
    # stage is never "furthest"), kept with the stage history: the funnel counts how far
    # deals got without reading every deal's history.
    furthest_stage = models.ForeignKey(
        Stage,
        verbose_name=_("furthest stage reached"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # The open stage it was in when it was won or lost: the lost-deal analysis counts where
    # deals were lost without reading each one's stage history, and reopening goes back to
    # it. Kept by the win / lose / reopen services.
    closed_from_stage = models.ForeignKey(
        Stage,
        verbose_name=_("closed from stage"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    last_followed_up_at = models.DateTimeField(
        _("last followed up"), null=True, blank=True, editable=False
    )
    next_follow_up_at = models.DateTimeField(
        _("next follow-up"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "created_at"]),
            models.Index(fields=["department", "created_at"]),
            models.Index(fields=["pipeline", "stage", "expected_close_date"]),
            models.Index(fields=["stage", "created_at"]),
            models.Index(fields=["account", "created_at"]),
            models.Index(fields=["is_closed", "expected_close_date"]),
            models.Index(fields=["is_won", "close_date"]),
            models.Index(fields=["owner", "expected_close_date"]),
            # "This stage, biggest first": the stage's range read in amount order, the
            # scope's columns with it (a manager's page and its bounded count read no rows).
            models.Index(
                fields=["stage", "amount_company", "owner", "department", "is_deleted"],
                name="opportunity_stage_amount",
            ),
            # A rep's board column: their deals of the stage in expected-close order.
            models.Index(fields=["owner", "stage", "expected_close_date"]),
            # The board's column sums of open deals read from the index alone, already
            # grouped by stage: with every column the sums, the scope and the filters read.
            models.Index(
                fields=[
                    "pipeline",
                    "is_closed",
                    "stage",
                    "amount_company",
                    "probability",
                    "owner",
                    "department",
                    "is_deleted",
                    "expected_close_date",
                ],
                name="opportunity_board_sums",
            ),
            # The same with a closing period ("this quarter"): the period is a range of it.
            # (One index cannot do both: asked for every open deal, SQLite would rather read
            # the rows in stage order than sort the index entries by stage.)
            models.Index(
                fields=[
                    "pipeline",
                    "is_closed",
                    "expected_close_date",
                    "stage",
                    "amount_company",
                    "probability",
                    "owner",
                    "department",
                    "is_deleted",
                ],
                name="opportunity_board_period_sums",
            ),
            # The same for one owner (a rep's board): their open deals, and the ones they
            # closed in a period, read from the index alone in stage order (the order their
            # column sums group by; else SQLite reads the rows through (owner, stage, ...));
            # their reports skip-scan the stages for a period of close dates.
            models.Index(
                fields=[
                    "owner",
                    "is_closed",
                    "stage",
                    "close_date",
                    "pipeline",
                    "amount_company",
                    "probability",
                    "is_deleted",
                    "expected_close_date",
                ],
                name="opportunity_owner_board_sums",
            ),
            # The funnel of a process: deals created in a period, where they are and how far
            # they got, from the index alone (with the columns of a manager's scope).
            models.Index(
                fields=[
                    "pipeline",
                    "created_at",
                    "furthest_stage",
                    "stage",
                    "is_closed",
                    "is_won",
                    "amount_company",
                    "is_deleted",
                    "owner",
                    "department",
                ],
                name="opportunity_funnel",
            ),
            # Deals closed in a period summed from the index alone: the sales analysis's
            # headline figures and monthly trend (won?, amount, cycle), with the columns a
            # manager's scope reads and those its breakdowns group by (account, source, lost
            # reason, winner, stage lost from; amount for the product lines' share).
            models.Index(
                fields=[
                    "is_closed",
                    "close_date",
                    "is_won",
                    "amount_company",
                    "created_at",
                    "closed_at",
                    "is_deleted",
                    "owner",
                    "department",
                    "amount",
                    "account",
                    "source",
                    "lost_reason",
                    "winner",
                    "closed_from_stage",
                ],
                name="opportunity_closed_sums",
            ),
            # A team's deals closed in a period (a manager's reports): one range per
            # department of the subtree.
            models.Index(
                fields=["department", "is_closed", "close_date"],
                name="opportunity_department_closed",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OpportunityLine(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    discount_percent = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # quantity × unit price × (1 − discount), kept by the services.
    total = models.DecimalField(_("total"), default=Decimal("0"), editable=False, **MONEY)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")
        ordering = ["sort_order", "id"]


class Attitude(models.TextChoices):
    SUPPORTER = "supporter", _("Supporter")
    NEUTRAL = "neutral", _("Neutral")
    OPPONENT = "opponent", _("Opponent")


class Influence(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class OpportunityContact(models.Model):
    """A contact's part in this deal: role in the decision, attitude and influence."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="contact_roles"
    )
    contact = models.ForeignKey(
        "customers.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    role = models.ForeignKey(
        "core.PicklistOption",
        verbose_name=_("role"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"picklist__code": "contact_role"},
    )
    attitude = models.CharField(
        _("attitude"), max_length=10, choices=Attitude.choices, default=Attitude.NEUTRAL
    )
    influence = models.CharField(
        _("influence"), max_length=10, choices=Influence.choices, default=Influence.MEDIUM
    )
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("opportunity contact")
        verbose_name_plural = _("opportunity contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "contact"], name="opportunity_contact_once"
            )
        ]


class CompetitorStatus(models.TextChoices):
    ACTIVE = "active", _("In the running")
    ELIMINATED = "eliminated", _("Eliminated")
    WON = "won", _("Won the deal")


class OpportunityCompetitor(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="competitor_entries"
    )
    competitor = models.ForeignKey(
        Competitor, verbose_name=_("competitor"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=CompetitorStatus.choices, default="active"
    )
    notes = models.CharField(_("notes"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("competitor on a deal")
        verbose_name_plural = _("competitors on a deal")
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "competitor"], name="opportunity_competitor_once"
            )
        ]


class OpportunitySplit(models.Model):
    """Team selling: who gets what share of the deal's credit (shares add up to 100)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="splits")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    percent = models.DecimalField(
        _("share %"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    class Meta:
        verbose_name = _("credit split")
        verbose_name_plural = _("credit splits")
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "user"], name="opportunity_split_once")
        ]


class StageHistory(models.Model):
    """One stay of an opportunity in a stage: reports read stage durations and
    conversions from here."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_history"
    )
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(db_index=True)
    left_at = models.DateTimeField(null=True, blank=True)
    amount_company = models.DecimalField(default=Decimal("0"), **MONEY)
    probability = models.PositiveSmallIntegerField(default=0)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("stage history")
        verbose_name_plural = _("stage history")
        ordering = ["entered_at", "id"]
        indexes = [
            models.Index(fields=["opportunity", "entered_at"]),
            models.Index(fields=["stage", "entered_at"]),
        ]


# --- targets and forecasts -------------------------------------------------------------------
class TargetLevel(models.TextChoices):
    COMPANY = "company", _("Company")
    DEPARTMENT = "department", _("Department")
    USER = "user", _("Person")


class TargetMetric(models.TextChoices):
    SALES = "sales", _("Sales amount")
    CASH = "cash", _("Cash collected")


class SalesTarget(models.Model):
    """A target (业绩目标) for a whole year (month 0) or one month of it."""

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(
        _("month"), default=0, validators=[MaxValueValidator(12)], help_text=_("0: the whole year.")
    )
    level = models.CharField(_("for"), max_length=12, choices=TargetLevel.choices)
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    metric = models.CharField(
        _("measure"), max_length=10, choices=TargetMetric.choices, default=TargetMetric.SALES
    )
    amount = models.DecimalField(_("target"), **MONEY)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["year", "month", "level"]
        # One per subject and period; per level, since NULLs never clash in a unique index.
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "metric"],
                condition=models.Q(level="company"),
                name="company_target_once",
            ),
            models.UniqueConstraint(
                fields=["year", "month", "metric", "department"],
                condition=models.Q(level="department"),
                name="department_target_once",
            ),
            models.UniqueConstraint(
                fields=["year", "month", "metric", "user"],
                condition=models.Q(level="user"),
                name="user_target_once",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(level="company", department__isnull=True, user__isnull=True)
                    | models.Q(level="department", department__isnull=False, user__isnull=True)
                    | models.Q(level="user", user__isnull=False, department__isnull=True)
                ),
                name="sales_target_subject_matches_level",
            ),
        ]


class ForecastSettings(models.Model):
    """One row: from which probability an open deal counts as "commit"."""

    commit_probability = models.PositiveSmallIntegerField(
        _("commit from probability %"), default=70, validators=[MaxValueValidator(100)]
    )
    best_case_probability = models.PositiveSmallIntegerField(
        _("best case from probability %"), default=40, validators=[MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("forecast settings")
        verbose_name_plural = _("forecast settings")

    @classmethod
    def current(cls) -> "ForecastSettings":
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class ForecastCategory(models.TextChoices):
    COMMIT = "commit", _("Commit")
    BEST_CASE = "best_case", _("Best case")


class ForecastAdjustment(models.Model):
    """A manager's override of a person's forecast for a period, with the reason."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    # "2026", "2026-Q3" or "2026-07".
    period = models.CharField(_("period"), max_length=10)
    category = models.CharField(_("forecast"), max_length=10, choices=ForecastCategory.choices)
    amount = models.DecimalField(_("adjusted amount"), **MONEY)
    reason = models.CharField(_("reason"), max_length=255)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("forecast adjustment")
        verbose_name_plural = _("forecast adjustments")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "period", "category", "-created_at"])]


class ForecastSnapshot(models.Model):
    """The forecast of one person (or department, or the company) for a period as it stood
    when the weekly job ran: "forecast vs actual" compares these with what closed."""

    taken_on = models.DateField(db_index=True)
    period = models.CharField(max_length=10)
    level = models.CharField(max_length=12, choices=TargetLevel.choices)
    department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    closed_won = models.DecimalField(**MONEY)
    commit = models.DecimalField(**MONEY)
    best_case = models.DecimalField(**MONEY)
    pipeline = models.DecimalField(**MONEY)
    weighted = models.DecimalField(**MONEY)
    target = models.DecimalField(null=True, blank=True, **MONEY)

    class Meta:
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")
        ordering = ["-taken_on", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["taken_on", "period"],
                condition=models.Q(level="company"),
                name="company_snapshot_once",
            ),
            models.UniqueConstraint(
                fields=["taken_on", "period", "department"],
                condition=models.Q(level="department"),
                name="department_snapshot_once",
            ),
            models.UniqueConstraint(
                fields=["taken_on", "period", "user"],
                condition=models.Q(level="user"),
                name="user_snapshot_once",
            ),
        ]
