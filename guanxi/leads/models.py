"""Leads (线索), their scores, assignment rules, web-to-lead forms, and the public pools (公海)
that hold unowned leads and accounts."""

import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OwnedModel

LEAD_SOURCE_PICKLIST = "lead_source"


def _picklist(code: str, verbose_name) -> models.ForeignKey:
    return models.ForeignKey(
        "core.PicklistOption",
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"picklist__code": code, "is_active": True},
    )


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTING = "contacting", _("Contacting")
    QUALIFIED = "qualified", _("Qualified")
    UNQUALIFIED = "unqualified", _("Unqualified")
    CONVERTED = "converted", _("Converted")
    RECYCLED = "recycled", _("Recycled")


class LeadRating(models.TextChoices):
    NONE = "", _("Not rated")
    HOT = "hot", _("Hot")
    WARM = "warm", _("Warm")
    COLD = "cold", _("Cold")


class LeadStage(models.TextChoices):
    """Where the lead is in the marketing-to-sales hand-over."""

    NURTURING = "nurturing", _("Nurturing")
    MQL = "mql", _("Marketing qualified")
    SQL = "sql", _("Sales qualified")
    ACCEPTED = "accepted", _("Accepted by sales")


class Lead(OwnedModel):
    name = models.CharField(_("name"), max_length=100)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # Digits-only phone and lower-cased e-mail: duplicate checks and search match on these.
    phone_digits = models.CharField(max_length=20, blank=True, db_index=True, editable=False)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    website = models.URLField(_("website"), blank=True)
    industry = _picklist("industry", _("industry"))
    source = _picklist(LEAD_SOURCE_PICKLIST, _("source"))
    # The marketing campaign that brought the lead (the marketing app adds the model).
    campaign_id = models.PositiveBigIntegerField(_("campaign"), null=True, blank=True)
    web_form = models.ForeignKey(
        "leads.WebForm",
        verbose_name=_("web form"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        editable=False,
    )
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    rating = models.CharField(
        _("rating"), max_length=10, choices=LeadRating.choices, blank=True, default=""
    )
    stage = models.CharField(
        _("qualification"),
        max_length=20,
        choices=LeadStage.choices,
        default=LeadStage.NURTURING,
        editable=False,
    )
    score = models.IntegerField(_("score"), default=0, editable=False)
    mql_at = models.DateTimeField(
        _("marketing qualified at"), null=True, blank=True, editable=False
    )
    sql_at = models.DateTimeField(_("sales qualified at"), null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True, editable=False)
    rejected_reason = models.CharField(
        _("rejection reason"), max_length=255, blank=True, editable=False
    )
    notes = models.TextField(_("notes"), blank=True)
    last_followed_up_at = models.DateTimeField(
        _("last followed up"), null=True, blank=True, editable=False
    )
    next_follow_up_at = models.DateTimeField(
        _("next follow-up"), null=True, blank=True, editable=False
    )
    # When the current owner took it (assignment or claim): the pools' "no deal within M
    # days of being claimed" rule counts from here.
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True, editable=False)
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True, editable=False)
    converted_account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("converted account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="converted_leads",
        editable=False,
        db_index=False,  # the partial index below
    )
    converted_contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("converted contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="converted_leads",
        editable=False,
        db_index=False,  # the partial index below
    )
    # The opportunity made on conversion (the sales app fills it through the conversion hook).
    converted_opportunity_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "created_at"]),
            models.Index(fields=["department", "created_at"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["source", "created_at"]),
            models.Index(fields=["stage", "created_at"]),
            models.Index(fields=["score"]),
            # "New leads by score": the status filter, then the order, read as one range;
            # for a rep per part of the scope (their own leads, the pools' unowned ones).
            # With the id: scores tie by the thousand, and without it PostgreSQL sorted a
            # whole tied score (9,500 leads on L) to find the page's (-score, -id) order.
            models.Index(fields=["status", "score", "id"], name="lead_status_score"),
            models.Index(fields=["owner", "status", "score"], name="lead_owner_status_score"),
            models.Index(fields=["name"]),
            models.Index(fields=["email"]),
            models.Index(fields=["owner", "next_follow_up_at"]),
            models.Index(fields=["last_followed_up_at"]),
            # Partial: most leads are never converted. With a plain index SQLite counts the
            # NULLs as one value shared by every row, takes the index for useless and scans
            # the table for an account's "converted from" leads (170 ms at a million).
            models.Index(
                fields=["converted_account"],
                condition=models.Q(converted_account__isnull=False),
                name="lead_converted_account",
            ),
            models.Index(
                fields=["converted_contact"],
                condition=models.Q(converted_contact__isnull=False),
                name="lead_converted_contact",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="converted") | models.Q(converted_at__isnull=False),
                name="lead_converted_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name


# --- scoring ---------------------------------------------------------------------------------
class ScoreRuleKind(models.TextChoices):
    PROFILE = "profile", _("Profile fit")
    ENGAGEMENT = "engagement", _("Engagement")


class EngagementEvent(models.TextChoices):
    EMAIL_OPENED = "email_opened", _("E-mail opened")
    LINK_CLICKED = "link_clicked", _("Link clicked")
    FORM_SUBMITTED = "form_submitted", _("Form submitted")
    PAGE_VISITED = "page_visited", _("Page visited")
    REPLIED = "replied", _("Replied")
    ATTENDED = "attended", _("Attended an event")


class ScoringRule(models.Model):
    """Points for a profile condition (field op value) or an engagement event."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("type"), max_length=20, choices=ScoreRuleKind.choices)
    # Profile: {"field": "industry", "op": "eq|ne|in|contains|gte|lte|set", "value": ...}
    condition = models.JSONField(_("condition"), default=dict, blank=True)
    event = models.CharField(_("event"), max_length=30, choices=EngagementEvent.choices, blank=True)
    points = models.IntegerField(_("points"))
    # Engagement points lose half their value every this many days (0: they never decay).
    half_life_days = models.PositiveIntegerField(_("half-life (days)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class ScoringSettings(models.Model):
    """Company-wide thresholds (one row)."""

    mql_threshold = models.IntegerField(_("marketing-qualified at (points)"), default=50)
    sql_threshold = models.IntegerField(_("sales-qualified at (points)"), default=80)
    rejection_penalty = models.PositiveIntegerField(_("points lost when sales rejects"), default=20)

    class Meta:
        verbose_name = _("scoring settings")
        verbose_name_plural = _("scoring settings")

    @classmethod
    def current(cls) -> "ScoringSettings":
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class LeadScoreEntry(models.Model):
    """One change of a lead's score, with its reason: the score history."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="score_entries")
    rule = models.ForeignKey(
        ScoringRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20)  # profile / engagement / rejection / decay / manual
    event = models.CharField(max_length=30, blank=True)
    points = models.IntegerField()
    score_after = models.IntegerField()
    reason = models.CharField(max_length=255)
    occurred_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("score entry")
        verbose_name_plural = _("score entries")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["lead", "-occurred_at"])]


# --- assignment ------------------------------------------------------------------------------
class AssignmentAction(models.TextChoices):
    USER = "user", _("Assign to a person")
    ROUND_ROBIN = "round_robin", _("Round-robin within a group")
    POOL = "pool", _("Put into a pool")


class AssignmentRule(models.Model):
    """Ordered: the first active rule whose conditions all hold decides."""

    name = models.CharField(_("name"), max_length=100)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # Empty lists / None mean "any": {"sources": [option ids], "provinces": [...],
    # "industries": [option ids], "min_score": int|None, "web_forms": [ids]}
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AssignmentAction.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("round-robin group"), blank=True, related_name="+"
    )
    pool = models.ForeignKey(
        "leads.Pool",
        verbose_name=_("pool"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The round-robin turn counter, advanced with a conditional UPDATE so concurrent
    # submissions each get a different member.
    turn = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class LeadCapacity(models.Model):
    """How many open leads a user may hold (assignment skips users at capacity)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lead_capacity"
    )
    max_open_leads = models.PositiveIntegerField(_("maximum open leads"))

    class Meta:
        verbose_name = _("lead capacity")
        verbose_name_plural = _("lead capacities")


# --- web-to-lead forms -----------------------------------------------------------------------
def new_form_key() -> str:
    return secrets.token_urlsafe(12)


class WebForm(models.Model):
    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(max_length=32, unique=True, default=new_form_key, editable=False)
    # [{"field": "name", "label_zh": "姓名", "label_en": "Name", "required": true}, ...]
    fields = models.JSONField(_("fields"), default=list)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    thank_you_zh = models.TextField(_("thank-you text (Chinese)"), blank=True)
    thank_you_en = models.TextField(_("thank-you text (English)"), blank=True)
    source = _picklist(LEAD_SOURCE_PICKLIST, _("source"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assign to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Leave empty to use the assignment rules or the pool."),
    )
    pool = models.ForeignKey(
        "leads.Pool",
        verbose_name=_("pool"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebFormSubmission(models.Model):
    """Every accepted or refused submission: the per-IP rate limit counts these."""

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="submissions")
    ip = models.GenericIPAddressField(null=True, blank=True)
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted = models.BooleanField(default=True)
    reason = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["ip", "created_at"])]


# --- public pools ----------------------------------------------------------------------------
class PoolKind(models.TextChoices):
    LEADS = "leads", _("Leads")
    ACCOUNTS = "accounts", _("Accounts")


class Pool(models.Model):
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("holds"), max_length=10, choices=PoolKind.choices)
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    provinces = models.JSONField(_("regions"), default=list, blank=True)
    # Who may see and claim: these users, everyone in these departments (and below).
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="pools"
    )
    member_departments = models.ManyToManyField(
        "core.Department", verbose_name=_("member departments"), blank=True, related_name="+"
    )
    claims_per_day = models.PositiveIntegerField(_("claims per user per day"), default=10)
    max_owned = models.PositiveIntegerField(
        _("most records a user may own"), default=0, help_text=_("0 means no limit.")
    )
    cooldown_days = models.PositiveIntegerField(
        _("days before the former owner may claim again"), default=7
    )
    warning_days = models.PositiveIntegerField(_("warn this many days ahead"), default=3)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pool")
        verbose_name_plural = _("pools")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class RecycleRule(models.Model):
    """When records go back to the pool. Days of 0 / None switch a condition off."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="rules")
    # Accounts: only this customer level (empty: every level).
    customer_level = models.ForeignKey(
        "core.PicklistOption",
        verbose_name=_("customer level"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"picklist__code": "customer_level"},
    )
    not_followed_up_days = models.PositiveIntegerField(
        _("not followed up for (days)"), null=True, blank=True
    )
    no_deal_days = models.PositiveIntegerField(
        _("no deal within (days of being claimed)"), null=True, blank=True
    )
    after_contract_days = models.PositiveIntegerField(
        _("days after the last contract ends"), null=True, blank=True
    )
    exclude_open_opportunity = models.BooleanField(
        _("keep records with an open opportunity"), default=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("recycle rule")
        verbose_name_plural = _("recycle rules")


class PoolEntry(models.Model):
    """A record (lead or account) that is in a pool, with no owner while it is there."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="entries")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    entered_at = models.DateTimeField(auto_now_add=True)
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("pool entry")
        verbose_name_plural = _("pool entries")
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="pool_entry_once")
        ]
        indexes = [models.Index(fields=["pool", "content_type", "entered_at"])]


class PoolEventKind(models.TextChoices):
    CLAIM = "claim", _("Claimed")
    RELEASE = "release", _("Released")
    RECYCLE = "recycle", _("Recycled")
    ENTER = "enter", _("Put into the pool")


class PoolEvent(models.Model):
    """Every claim, release and recycle: claim limits and the cooldown count these."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="events")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=10, choices=PoolEventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("pool event")
        verbose_name_plural = _("pool events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "kind", "created_at"]),
            models.Index(fields=["content_type", "object_id", "kind", "created_at"]),
        ]
