"""Accounts (客户), contacts (联系人), their links and relations, groups and membership."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OwnedModel


def _picklist(code: str, verbose_name, related_name: str = "+") -> models.ForeignKey:
    return models.ForeignKey(
        "core.PicklistOption",
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name=related_name,
        limit_choices_to={"picklist__code": code, "is_active": True},
    )


class LifecycleStage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    NEW = "new", _("New customer")
    ACTIVE = "active", _("Active customer")
    EXPANDING = "expanding", _("Expanding")
    DORMANT = "dormant", _("Dormant")
    CHURNED = "churned", _("Churned")


class MembershipLevel(models.Model):
    """A membership level reached at a points threshold (e.g. silver at 1,000 points)."""

    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    threshold = models.PositiveIntegerField(_("points needed"), unique=True)
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("membership level")
        verbose_name_plural = _("membership levels")
        ordering = ["threshold"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "zh").startswith("zh") else self.name_en


class Account(OwnedModel):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        INDIVIDUAL = "individual", _("Individual")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.COMPANY)
    industry = _picklist("industry", _("industry"))
    source = _picklist("source", _("source"))
    status = _picklist("account_status", _("status"))
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.PROSPECT,
    )
    credit_rating = _picklist("credit_rating", _("credit rating"))
    level = _picklist("customer_level", _("customer level"))
    membership_level = models.ForeignKey(
        MembershipLevel,
        verbose_name=_("membership level"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    points = models.IntegerField(_("points"), default=0, editable=False)
    account_manager = models.ForeignKey(
        "core.User",
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # Digits-only phone and lower-cased e-mail: what duplicate checks and search match on.
    phone_digits = models.CharField(max_length=20, blank=True, db_index=True, editable=False)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=30, blank=True, db_index=True)
    invoice_title = models.CharField(_("invoice title"), max_length=200, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Kept by the activities services: when someone last followed the record up and when
    # the next follow-up is due (pool recycle rules and "follow up next" sorting read them).
    last_followed_up_at = models.DateTimeField(
        _("last followed up"), null=True, blank=True, editable=False
    )
    next_follow_up_at = models.DateTimeField(
        _("next follow-up"), null=True, blank=True, editable=False
    )
    # For an individual account: the person it is (one form edits both).
    person = models.OneToOneField(
        "customers.Contact",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="own_account",
        editable=False,
    )

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "created_at"]),
            models.Index(fields=["department", "created_at"]),
            models.Index(fields=["name"]),
            models.Index(fields=["province", "city"]),
            # Each list filter (and the owner / department scopes) with the default sort
            # (-created_at, -id): the first page reads the index range backwards, already in
            # order (each entry carries the row id, so equal dates come newest id first),
            # instead of every matching row and a sort. Ascending on purpose: a "-created_at"
            # index still needs a sort for the id tie-break.
            models.Index(fields=["kind", "created_at"]),
            models.Index(fields=["industry", "created_at"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["lifecycle_stage", "created_at"]),
            models.Index(fields=["credit_rating", "created_at"]),
            models.Index(fields=["level", "created_at"]),
            models.Index(fields=["source", "created_at"]),
            models.Index(fields=["province", "created_at"]),
            models.Index(fields=["owner", "next_follow_up_at"]),
            models.Index(fields=["last_followed_up_at"]),
            # A rep's list sorted by name: their own rows in name order (without it the
            # database walks the whole name index for the few that are theirs).
            models.Index(fields=["owner", "name"]),
            # Reports that break deals down by their account's region and industry look
            # each account up here, without visiting the row (the sales analysis of a
            # company year: 41,000 won deals, 128 -> 65 ms on PostgreSQL).
            models.Index(fields=["id", "province", "industry"], name="account_region_industry"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(OwnedModel):
    class Gender(models.TextChoices):
        UNKNOWN = "", _("Not given")
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")

    name = models.CharField(_("name"), max_length=100)
    gender = models.CharField(
        _("gender"), max_length=10, choices=Gender.choices, blank=True, default=""
    )
    title = models.CharField(_("job title"), max_length=100, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    wechat = models.CharField(_("WeChat"), max_length=64, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Kept by the activities services: when someone last followed the record up and when
    # the next follow-up is due (pool recycle rules and "follow up next" sorting read them).
    last_followed_up_at = models.DateTimeField(
        _("last followed up"), null=True, blank=True, editable=False
    )
    next_follow_up_at = models.DateTimeField(
        _("next follow-up"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Ascending: read backwards, they give the list's -created_at, -id order.
            models.Index(fields=["owner", "created_at"]),
            models.Index(fields=["department", "created_at"]),
            models.Index(fields=["name"]),
        ]

    def __str__(self) -> str:
        return self.name


class PointKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    WORK = "work", _("Work")
    HOME = "home", _("Home")
    OTHER = "other", _("Other")


class ContactPhone(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    kind = models.CharField(
        _("type"), max_length=10, choices=PointKind.choices, default=PointKind.MOBILE
    )
    number = models.CharField(_("phone"), max_length=40)
    e164 = models.CharField(max_length=20, editable=False)
    digits = models.CharField(max_length=20, editable=False, db_index=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("phone")
        verbose_name_plural = _("phones")
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.number


class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(
        _("type"), max_length=10, choices=PointKind.choices, default=PointKind.WORK
    )
    address = models.EmailField(_("e-mail"), db_index=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.address


class AccountContact(OwnedModel):
    """A contact's place at an account. Owned like its account, so the scope applies to it."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="links"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="links"
    )
    role = _picklist("contact_role", _("role"))
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        verbose_name = _("account contact")
        verbose_name_plural = _("account contacts")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "contact"],
                condition=models.Q(is_deleted=False),
                name="account_contact_once",
            )
        ]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.account}"


class ContactRelation(models.Model):
    class Kind(models.TextChoices):
        REPORTS_TO = "reports_to", _("reports to")
        ASSISTANT_OF = "assistant_of", _("assistant of")
        SPOUSE_OF = "spouse_of", _("spouse of")
        COLLEAGUE_OF = "colleague_of", _("colleague of")
        FRIEND_OF = "friend_of", _("friend of")
        RELATIVE_OF = "relative_of", _("relative of")

    from_contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="relations_from"
    )
    to_contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="relations_to")
    kind = models.CharField(_("relation"), max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact relation")
        verbose_name_plural = _("contact relations")
        constraints = [
            models.UniqueConstraint(
                fields=["from_contact", "to_contact", "kind"], name="contact_relation_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(from_contact=models.F("to_contact")),
                name="contact_relation_not_self",
            ),
        ]

    def __str__(self) -> str:
        # Whole sentences, so each language can put the two names where its grammar wants.
        sentences = {
            self.Kind.REPORTS_TO: _("%(a)s reports to %(b)s"),
            self.Kind.ASSISTANT_OF: _("%(a)s is the assistant of %(b)s"),
            self.Kind.SPOUSE_OF: _("%(a)s is the spouse of %(b)s"),
            self.Kind.COLLEAGUE_OF: _("%(a)s is a colleague of %(b)s"),
            self.Kind.FRIEND_OF: _("%(a)s is a friend of %(b)s"),
            self.Kind.RELATIVE_OF: _("%(a)s is a relative of %(b)s"),
        }
        return str(sentences[self.kind]) % {"a": self.from_contact, "b": self.to_contact}


class Group(OwnedModel):
    """A customer group: a static list, or a saved filter (dynamic)."""

    class Kind(models.TextChoices):
        STATIC = "static", _("Static list")
        DYNAMIC = "dynamic", _("Dynamic (saved filter)")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.STATIC)
    description = models.TextField(_("description"), blank=True)
    # {"match": "all"|"any", "conditions": [{"field": ..., "op": ..., "value": ...}, ...]}
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["name"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="group_members")
    added_by = models.ForeignKey(
        "core.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "account"], name="group_member_once")
        ]


class PointsEntry(models.Model):
    """One line of an account's points ledger; the balance is the sum of `points`."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        REDEEM = "redeem", _("Redeemed")
        ADJUST = "adjust", _("Adjusted")
        EXPIRE = "expire", _("Expired")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="points_entries")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.ForeignKey("core.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-id"]


class DuplicateKey(models.Model):
    """A blocking key of a record (phone, e-mail, name prefix, pinyin prefix).

    Records that share a key are duplicate candidates; only they are compared, so checking
    a new record or scanning a million never compares all pairs.
    """

    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.PositiveBigIntegerField()
    key = models.CharField(max_length=80)

    class Meta:
        indexes = [
            models.Index(fields=["key", "content_type", "object_id"]),
            models.Index(fields=["content_type", "object_id"]),
        ]


class MatchName(models.Model):
    """A name as duplicate matching prepares it (`matching.prepare_name`: core, pinyin,
    trade name), stored by name, kind and preparation version.

    Preparing a name (place and legal-form stripping, pinyin) costs ~0.2 ms, and an import
    batch or a scan compares tens of thousands of candidates: reading their prepared names
    in one query instead is what makes those fast. A row is a pure function of its key, so
    it never goes stale; a new `PREPARATION_VERSION` simply stops reading the old rows.
    """

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10)
    version = models.PositiveSmallIntegerField()
    core = models.TextField()
    pinyin = models.TextField()
    trade = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "kind", "name"], name="customers_matchname_unique"
            )
        ]


class DuplicateScan(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    model_label = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    blocks_total = models.PositiveIntegerField(default=0)
    blocks_done = models.PositiveIntegerField(default=0)
    pairs_found = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "core.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("duplicate scan")
        verbose_name_plural = _("duplicate scans")
        ordering = ["-created_at"]


class DuplicatePair(models.Model):
    # A scan inserts millions of pairs, so the column keeps no index of its own (the
    # unique constraint below starts with it) and no foreign key in the database: its
    # check ran once per pair (7 µs, a tenth of a million-account scan). Pairs are written
    # only by their scan's run, and deleting a scan deletes them (Django's cascade).
    scan = models.ForeignKey(
        DuplicateScan,
        on_delete=models.CASCADE,
        related_name="pairs",
        db_index=False,
        db_constraint=False,
    )
    first_id = models.PositiveBigIntegerField()
    second_id = models.PositiveBigIntegerField()
    score = models.FloatField()
    reasons = models.JSONField(default=list)

    class Meta:
        ordering = ["-score", "first_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scan", "first_id", "second_id"], name="duplicate_pair_once"
            )
        ]
