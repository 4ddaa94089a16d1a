"""Pages of the catalogue: products and their category tree, price books with the price grid,
exchange rates and territories. Thin: forms check input, the catalogue services write,
selectors read."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.forms.admin import apply_service_errors
from guanxi.core.forms.auth import BootstrapFormMixin
from guanxi.core.models import PicklistOption, User
from guanxi.core.scope import can, is_administrator
from guanxi.core.views.admin import administrator_required
from guanxi.core.views.notifications import page_slice
from guanxi.sales.models import (
    COMPANY_CURRENCY,
    ExchangeRate,
    PriceBook,
    Product,
    ProductCategory,
    Territory,
)
from guanxi.sales.selectors import catalogue as selectors
from guanxi.sales.services import catalogue as services

PAGE_SIZE = 50
TIER_ROWS = 5


def forbidden(request, message: str):
    """403 with the reason on the page."""
    return render(request, "core/generic/forbidden.html", {"message": message}, status=403)


def permission_required(model, action: str):
    """Signed in, and a role allowing `action` on `model` (else 403 saying why)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not can(request.user, model, action):
                return forbidden(request, services.refusal(model, action))
            try:
                return view(request, *args, **kwargs)
            except ActionNotAllowed as error:
                return forbidden(request, str(error))

        return wrapper

    return decorator


# --- forms -------------------------------------------------------------------------------------
class OptionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class UserChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} ({obj.username})" if str(obj) != obj.username else obj.username


def _options(code: str):
    return PicklistOption.objects.filter(picklist__code=code, is_active=True).order_by(
        "sort_order", "pk"
    )


class CategoryField(forms.TypedChoiceField):
    """A category as an indented select: children under their parent."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("empty_value", None)
        super().__init__(*args, choices=(), **kwargs)

    def fill(self, exclude: set[int] | None = None):
        self.choices = [
            (value, label)
            for value, label in selectors.category_choices()
            if value == "" or value not in (exclude or set())
        ]


class CategoryForm(BootstrapFormMixin, forms.Form):
    name_zh = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=100, required=False)
    parent = CategoryField(label=gettext_lazy("Parent category"), required=False)
    sort_order = forms.IntegerField(label=gettext_lazy("Order"), min_value=0, initial=0)

    def __init__(self, *args, category: ProductCategory | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        exclude = (
            set(selectors.category_descendant_ids(category.pk)) if category is not None else None
        )
        self.fields["parent"].fill(exclude)

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        parent = data.pop("parent")
        data["parent"] = ProductCategory.objects.filter(pk=parent).first() if parent else None
        return data


class ProductForm(BootstrapFormMixin, forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=50)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    category = CategoryField(label=gettext_lazy("Category"), required=False)
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=20, initial="件")
    tax_rate = forms.DecimalField(
        label=gettext_lazy("Tax rate %"), max_digits=5, decimal_places=2, initial=13
    )
    cost = forms.DecimalField(
        label=gettext_lazy("Cost"), max_digits=18, decimal_places=2, required=False
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].fill()

    @classmethod
    def initial_for(cls, product: Product) -> dict:
        return {
            name: getattr(product, "category_id" if name == "category" else name)
            for name in services.PRODUCT_FIELDS
        }

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        category = data.pop("category")
        data["category"] = ProductCategory.objects.filter(pk=category).first() if category else None
        return data


class PriceBookForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    currency = forms.CharField(
        label=gettext_lazy("Currency"), max_length=3, initial=COMPANY_CURRENCY
    )
    valid_from = forms.DateField(
        label=gettext_lazy("Valid from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    valid_to = forms.DateField(
        label=gettext_lazy("Valid to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    customer_levels = OptionChoiceField(
        label=gettext_lazy("Customer levels"),
        queryset=PicklistOption.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Empty: every customer level."),
    )
    is_default = forms.BooleanField(label=gettext_lazy("Default for its currency"), required=False)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_levels"].queryset = _options("customer_level")

    @classmethod
    def initial_for(cls, book: PriceBook) -> dict:
        initial = {name: getattr(book, name) for name in services.PRICE_BOOK_FIELDS}
        initial["customer_levels"] = [option.pk for option in book.customer_levels.all()]
        return initial

    def service_data(self) -> tuple[dict, list]:
        data = dict(self.cleaned_data)
        levels = list(data.pop("customer_levels") or [])
        return data, levels


class PricesForm(BootstrapFormMixin, forms.Form):
    """One product's tiers in a price book: from quantity → unit price."""

    product = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=Product.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.order_by("code")
        for index in range(TIER_ROWS):
            self.fields[f"min_quantity_{index}"] = forms.DecimalField(
                label=gettext_lazy("From quantity"),
                max_digits=12,
                decimal_places=2,
                required=False,
                min_value=0,
            )
            self.fields[f"unit_price_{index}"] = forms.DecimalField(
                label=gettext_lazy("Unit price"),
                max_digits=18,
                decimal_places=2,
                required=False,
                min_value=0,
            )
        for name, field in self.fields.items():
            if name != "product":
                field.widget.attrs["class"] = "form-control form-control-sm"

    def tier_rows(self):
        return [
            (self[f"min_quantity_{index}"], self[f"unit_price_{index}"])
            for index in range(TIER_ROWS)
        ]

    @classmethod
    def initial_for(cls, product: Product, tiers) -> dict:
        initial: dict = {"product": product.pk}
        for index, entry in enumerate(list(tiers)[:TIER_ROWS]):
            initial[f"min_quantity_{index}"] = entry.min_quantity
            initial[f"unit_price_{index}"] = entry.unit_price
        if not tiers:
            initial["min_quantity_0"] = 1
        return initial

    def tiers(self) -> list[tuple]:
        data = self.cleaned_data
        return [
            (data.get(f"min_quantity_{index}"), data.get(f"unit_price_{index}"))
            for index in range(TIER_ROWS)
            if data.get(f"unit_price_{index}") is not None
        ]


class ExchangeRateForm(BootstrapFormMixin, forms.Form):
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3)
    rate = forms.DecimalField(
        label=gettext_lazy("Rate"),
        max_digits=18,
        decimal_places=8,
        help_text=gettext_lazy("How many units of the company currency one unit is worth."),
    )
    valid_from = forms.DateField(
        label=gettext_lazy("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )


class TerritoryForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    provinces = forms.CharField(
        label=gettext_lazy("Provinces"),
        required=False,
        help_text=gettext_lazy("Separate several with commas. Empty: any province."),
    )
    cities = forms.CharField(
        label=gettext_lazy("Cities"),
        required=False,
        help_text=gettext_lazy("Separate several with commas. Empty: any city."),
    )
    industries = OptionChoiceField(
        label=gettext_lazy("Industries"),
        queryset=PicklistOption.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Empty: any industry."),
    )
    users = UserChoices(label=gettext_lazy("Users"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["industries"].queryset = _options("industry")
        self.fields["users"].queryset = User.objects.filter(is_active=True).order_by("username")

    @classmethod
    def initial_for(cls, territory: Territory) -> dict:
        return {
            "name": territory.name,
            "provinces": ", ".join(territory.provinces or []),
            "cities": ", ".join(territory.cities or []),
            "industries": [option.pk for option in territory.industries.all()],
            "users": [user.pk for user in territory.users.all()],
        }

    def service_data(self) -> tuple[dict, list, list]:
        data = dict(self.cleaned_data)
        industries = list(data.pop("industries") or [])
        users = list(data.pop("users") or [])
        return data, industries, users


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Code or name"), required=False)
    category = CategoryField(label=gettext_lazy("Category"), required=False)
    active = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[
            ("", gettext_lazy("All")),
            ("1", gettext_lazy("Active")),
            ("0", gettext_lazy("Inactive")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].fill()
        self.fields["category"].choices = [
            ("", _("All categories")),
            *self.fields["category"].choices[1:],
        ]
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = f"{css} form-select-sm form-control-sm"


def _confirm(request, *, title: str, question: str, cancel_url: str, error: str = ""):
    return render(
        request,
        "core/admin/confirm.html",
        {
            "title": title,
            "question": question,
            "cancel_url": cancel_url,
            "danger": True,
            "error": error,
        },
    )


def _form_page(request, form, *, title: str, cancel_url: str):
    return render(
        request, "core/admin/form.html", {"form": form, "title": title, "cancel_url": cancel_url}
    )


# --- products ----------------------------------------------------------------------------------
@permission_required(Product, "view")
def product_list(request):
    form = ProductFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    active = {"1": True, "0": False}.get(data.get("active") or "")
    queryset = selectors.products(
        search=data.get("q") or "", category_id=data.get("category"), active=active
    )
    page = page_slice(queryset, request, per_page=PAGE_SIZE)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "sales/catalogue/product_list.html",
        {
            "filter_form": form,
            "page": page,
            "query": params.urlencode(),
            "can_add": can(request.user, Product, "add"),
            "can_change": can(request.user, Product, "change"),
            "can_import": can(request.user, Product, "import"),
            "can_export": can(request.user, Product, "export"),
            "model_label": Product._meta.label_lower,
            "is_admin": is_administrator(request.user),
        },
    )


@permission_required(Product, "view")
def product_detail(request, pk: int):
    product = get_object_or_404(Product.objects.select_related("category"), pk=pk)
    return render(
        request,
        "sales/catalogue/product_detail.html",
        {
            "product": product,
            "prices": selectors.product_prices(product),
            "can_change": can(request.user, Product, "change"),
        },
    )


@permission_required(Product, "add")
def product_create(request):
    return _product_form(request, None)


@permission_required(Product, "change")
def product_edit(request, pk: int):
    return _product_form(request, get_object_or_404(Product, pk=pk))


def _product_form(request, product: Product | None):
    cancel = (
        reverse("sales:product_detail", args=[product.pk])
        if product
        else reverse("sales:product_list")
    )
    if request.method == "POST":
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                if product is None:
                    product = services.product_create(actor=request.user, data=form.service_data())
                else:
                    services.product_update(
                        product=product, actor=request.user, data=form.service_data()
                    )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Product saved."))
                return redirect("sales:product_detail", pk=product.pk)
    else:
        form = ProductForm(initial=ProductForm.initial_for(product) if product else None)
    title = _("Edit product %(product)s") % {"product": product} if product else _("New product")
    return _form_page(request, form, title=title, cancel_url=cancel)


@require_POST
@permission_required(Product, "change")
def product_toggle(request, pk: int):
    product = get_object_or_404(Product, pk=pk)
    services.product_set_active(product=product, actor=request.user, active=not product.is_active)
    if product.is_active:
        messages.success(request, _("Product reactivated."))
    else:
        messages.success(request, _("Product deactivated: it is no longer offered."))
    return redirect("sales:product_detail", pk=product.pk)


# --- categories --------------------------------------------------------------------------------
@permission_required(ProductCategory, "view")
def category_list(request):
    return render(
        request,
        "sales/catalogue/category_list.html",
        {
            "nodes": selectors.category_tree(with_counts=True),
            "can_change": can(request.user, ProductCategory, "change"),
            "can_add": can(request.user, ProductCategory, "add"),
            "can_delete": can(request.user, ProductCategory, "delete"),
            "is_admin": is_administrator(request.user),
        },
    )


@permission_required(ProductCategory, "add")
def category_create(request):
    return _category_form(request, None)


@permission_required(ProductCategory, "change")
def category_edit(request, pk: int):
    return _category_form(request, get_object_or_404(ProductCategory, pk=pk))


def _category_form(request, category: ProductCategory | None):
    list_url = reverse("sales:category_list")
    if request.method == "POST":
        form = CategoryForm(request.POST, category=category)
        if form.is_valid():
            try:
                services.product_category_save(
                    actor=request.user, data=form.service_data(), category=category
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Category saved."))
                return redirect(list_url)
    else:
        initial = (
            {
                "name_zh": category.name_zh,
                "name_en": category.name_en,
                "parent": category.parent_id,
                "sort_order": category.sort_order,
            }
            if category
            else {"parent": request.GET.get("parent")}
        )
        form = CategoryForm(initial=initial, category=category)
    title = _("Edit category") if category else _("New category")
    return _form_page(request, form, title=title, cancel_url=list_url)


@permission_required(ProductCategory, "delete")
def category_delete(request, pk: int):
    category = get_object_or_404(ProductCategory, pk=pk)
    list_url = reverse("sales:category_list")
    error = ""
    if request.method == "POST":
        try:
            services.product_category_delete(actor=request.user, category=category)
        except (ValidationError, ProtectedError) as problem:
            error = " ".join(getattr(problem, "messages", [str(problem)]))
        else:
            messages.success(request, _("Category deleted."))
            return redirect(list_url)
    return _confirm(
        request,
        title=_("Delete category"),
        question=_("Delete the category “%(category)s”?") % {"category": category},
        cancel_url=list_url,
        error=error,
    )


# --- price books -------------------------------------------------------------------------------
@permission_required(PriceBook, "view")
def price_book_list(request):
    return render(
        request,
        "sales/catalogue/price_book_list.html",
        {
            "books": selectors.price_books(),
            "can_add": can(request.user, PriceBook, "add"),
            "is_admin": is_administrator(request.user),
        },
    )


@permission_required(PriceBook, "view")
def price_book_detail(request, pk: int):
    book = get_object_or_404(PriceBook, pk=pk)
    can_change = can(request.user, PriceBook, "change")
    grid = selectors.price_grid(book)
    prices_form = None
    if can_change:
        if request.method == "POST":
            prices_form = PricesForm(request.POST)
            if prices_form.is_valid():
                try:
                    services.price_book_prices_set(
                        actor=request.user,
                        price_book=book,
                        prices={prices_form.cleaned_data["product"]: prices_form.tiers()},
                    )
                except ValidationError as error:
                    apply_service_errors(prices_form, error)
                else:
                    messages.success(request, _("Prices saved."))
                    return redirect("sales:price_book_detail", pk=book.pk)
        else:
            product_id = request.GET.get("product", "")
            product = (
                Product.objects.filter(pk=product_id).first() if product_id.isdigit() else None
            )
            if product is not None:
                tiers = next((row.tiers for row in grid if row.product.pk == product.pk), [])
                prices_form = PricesForm(initial=PricesForm.initial_for(product, tiers))
            else:
                prices_form = PricesForm(initial={"min_quantity_0": 1})
    elif request.method == "POST":
        return forbidden(request, services.refusal(PriceBook, "change"))
    return render(
        request,
        "sales/catalogue/price_book_detail.html",
        {
            "book": book,
            "levels": list(book.customer_levels.all()),
            "grid": grid,
            "prices_form": prices_form,
            "can_change": can_change,
        },
    )


@permission_required(PriceBook, "add")
def price_book_create(request):
    return _price_book_form(request, None)


@permission_required(PriceBook, "change")
def price_book_edit(request, pk: int):
    return _price_book_form(request, get_object_or_404(PriceBook, pk=pk))


def _price_book_form(request, book: PriceBook | None):
    cancel = (
        reverse("sales:price_book_detail", args=[book.pk])
        if book
        else reverse("sales:price_book_list")
    )
    if request.method == "POST":
        form = PriceBookForm(request.POST)
        if form.is_valid():
            data, levels = form.service_data()
            try:
                book = services.price_book_save(
                    actor=request.user, data=data, customer_levels=levels, price_book=book
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Price book saved."))
                return redirect("sales:price_book_detail", pk=book.pk)
    else:
        form = PriceBookForm(initial=PriceBookForm.initial_for(book) if book else None)
    title = _("Edit price book") if book else _("New price book")
    return _form_page(request, form, title=title, cancel_url=cancel)


@permission_required(PriceBook, "delete")
def price_book_delete(request, pk: int):
    book = get_object_or_404(PriceBook, pk=pk)
    cancel = reverse("sales:price_book_detail", args=[book.pk])
    error = ""
    if request.method == "POST":
        try:
            services.price_book_delete(actor=request.user, price_book=book)
        except ValidationError as problem:
            error = " ".join(problem.messages)
        else:
            messages.success(request, _("Price book deleted."))
            return redirect("sales:price_book_list")
    return _confirm(
        request,
        title=_("Delete price book"),
        question=_("Delete the price book “%(book)s” and its prices?") % {"book": book},
        cancel_url=cancel,
        error=error,
    )


# --- exchange rates ----------------------------------------------------------------------------
@administrator_required
def exchange_rate_list(request):
    rate_id = request.GET.get("edit", "")
    rate = ExchangeRate.objects.filter(pk=rate_id).first() if rate_id.isdigit() else None
    if request.method == "POST":
        rate = ExchangeRate.objects.filter(pk=request.POST.get("rate_id") or 0).first()
        form = ExchangeRateForm(request.POST)
        if form.is_valid():
            try:
                services.exchange_rate_save(actor=request.user, data=form.cleaned_data, rate=rate)
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Exchange rate saved."))
                return redirect("sales:exchange_rate_list")
    elif rate is not None:
        form = ExchangeRateForm(
            initial={"currency": rate.currency, "rate": rate.rate, "valid_from": rate.valid_from}
        )
    else:
        form = ExchangeRateForm()
    return render(
        request,
        "sales/catalogue/exchange_rate_list.html",
        {
            "rates": selectors.exchange_rates(),
            "form": form,
            "editing": rate,
            "company_currency": COMPANY_CURRENCY,
        },
    )


@require_POST
@administrator_required
def exchange_rate_delete(request, pk: int):
    services.exchange_rate_delete(actor=request.user, rate=get_object_or_404(ExchangeRate, pk=pk))
    messages.success(request, _("Exchange rate deleted."))
    return redirect("sales:exchange_rate_list")


# --- territories -------------------------------------------------------------------------------
@administrator_required
def territory_list(request):
    territories = list(selectors.territories())
    counts = selectors.territory_counts()
    for territory in territories:
        territory.account_count = counts.get(territory.pk, 0)
    return render(request, "sales/catalogue/territory_list.html", {"territories": territories})


@administrator_required
def territory_edit(request, pk: int | None = None):
    territory = get_object_or_404(Territory, pk=pk) if pk else None
    list_url = reverse("sales:territory_list")
    if request.method == "POST":
        form = TerritoryForm(request.POST)
        if form.is_valid():
            data, industries, users = form.service_data()
            try:
                services.territory_save(
                    actor=request.user,
                    data=data,
                    industries=industries,
                    users=users,
                    territory=territory,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Territory saved. “Reassign territories” applies it to existing records."),
                )
                return redirect(list_url)
    else:
        form = TerritoryForm(initial=TerritoryForm.initial_for(territory) if territory else None)
    title = _("Edit territory") if territory else _("New territory")
    return _form_page(request, form, title=title, cancel_url=list_url)


@administrator_required
def territory_delete(request, pk: int):
    territory = get_object_or_404(Territory, pk=pk)
    list_url = reverse("sales:territory_list")
    if request.method == "POST":
        services.territory_delete(actor=request.user, territory=territory)
        messages.success(request, _("Territory deleted."))
        return redirect(list_url)
    return _confirm(
        request,
        title=_("Delete territory"),
        question=_("Delete the territory “%(territory)s”? Its accounts lose it.")
        % {"territory": territory},
        cancel_url=list_url,
    )


@require_POST
@administrator_required
def territory_move(request, pk: int):
    territory = get_object_or_404(Territory, pk=pk)
    if request.POST.get("ids"):
        ids = [int(i) for i in request.POST["ids"].split(",") if i.strip().isdigit()]
        services.territories_reorder(actor=request.user, ids=ids)
    else:
        direction = "up" if request.POST.get("direction") == "up" else "down"
        services.territory_move(actor=request.user, territory=territory, direction=direction)
    return redirect("sales:territory_list")


@require_POST
@administrator_required
def territories_reassign(request):
    result = services.territories_reassign(
        actor=request.user, include_closed=bool(request.POST.get("include_closed"))
    )
    messages.success(
        request,
        _("Territories reassigned: %(accounts)s in a territory, %(opportunities)s updated.")
        % services.reassigned_counts(result),
    )
    return redirect("sales:territory_list")


def catalogue_links(user) -> list[dict]:
    """The catalogue pages the user may open (for the sub-navigation)."""
    links = []
    if can(user, Product, "view"):
        links.append({"url": reverse("sales:product_list"), "label": _("Products")})
        links.append({"url": reverse("sales:category_list"), "label": _("Categories")})
    if can(user, PriceBook, "view"):
        links.append({"url": reverse("sales:price_book_list"), "label": _("Price books")})
    if is_administrator(user):
        links.append({"url": reverse("sales:exchange_rate_list"), "label": _("Exchange rates")})
        links.append({"url": reverse("sales:territory_list"), "label": _("Territories")})
    return links


urlpatterns = [
    path("products/", product_list, name="product_list"),
    path("products/new/", product_create, name="product_create"),
    path("products/<int:pk>/", product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", product_edit, name="product_edit"),
    path("products/<int:pk>/toggle/", product_toggle, name="product_toggle"),
    path("product-categories/", category_list, name="category_list"),
    path("product-categories/new/", category_create, name="category_create"),
    path("product-categories/<int:pk>/edit/", category_edit, name="category_edit"),
    path("product-categories/<int:pk>/delete/", category_delete, name="category_delete"),
    path("price-books/", price_book_list, name="price_book_list"),
    path("price-books/new/", price_book_create, name="price_book_create"),
    path("price-books/<int:pk>/", price_book_detail, name="price_book_detail"),
    path("price-books/<int:pk>/edit/", price_book_edit, name="price_book_edit"),
    path("price-books/<int:pk>/delete/", price_book_delete, name="price_book_delete"),
    path("exchange-rates/", exchange_rate_list, name="exchange_rate_list"),
    path("exchange-rates/<int:pk>/delete/", exchange_rate_delete, name="exchange_rate_delete"),
    path("territories/", territory_list, name="territory_list"),
    path("territories/new/", territory_edit, name="territory_create"),
    path("territories/reassign/", territories_reassign, name="territories_reassign"),
    path("territories/<int:pk>/", territory_edit, name="territory_edit"),
    path("territories/<int:pk>/move/", territory_move, name="territory_move"),
    path("territories/<int:pk>/delete/", territory_delete, name="territory_delete"),
]
