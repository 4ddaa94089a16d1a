"""The catalogue over the REST API (thin: the catalogue services write):

- `/api/v1/products/` (filters `category` with its subcategories, `is_active`, `q` on code
  and name) and `/api/v1/product-categories/`: role actions on the model decide;
- `/api/v1/price-books/` with their `entries`; `POST /api/v1/price-books/{id}/prices/`
  `{"product": id, "tiers": [{"min_quantity": "1", "unit_price": "100.00"}]}` replaces the
  product's tiers (an empty list takes it out);
- `/api/v1/exchange-rates/` and `/api/v1/territories/` (administrators write);
  `POST /api/v1/territories/reassign/` recomputes every territory.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, ProtectedError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response

from guanxi.core.api.base import (
    ROLE_REFUSED,
    GuanxiAPIMixin,
    IsAdministratorOrReadOnly,
    administrators_only,
)
from guanxi.core.models import PicklistOption, User
from guanxi.core.scope import can
from guanxi.sales.models import (
    ExchangeRate,
    PriceBook,
    PriceBookEntry,
    Product,
    ProductCategory,
    Territory,
)
from guanxi.sales.selectors import catalogue as selectors
from guanxi.sales.services import catalogue as services

ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class ModelRolePermission(permissions.BasePermission):
    """The caller's roles must allow the method's action on the view's model."""

    message = ROLE_REFUSED

    def has_permission(self, request, view) -> bool:
        needed = getattr(view, "action_permissions", {}).get(view.action) or ACTIONS.get(
            request.method, "view"
        )
        model = view.queryset.model
        if can(request.user, model, needed):
            return True
        if request.user.is_authenticated:
            self.message = services.refusal(model, needed)
        return False


# --- serializers -------------------------------------------------------------------------------
class ProductCategorySerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(
        queryset=ProductCategory.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = ProductCategory
        fields = ("id", "name_zh", "name_en", "parent", "sort_order")


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.PrimaryKeyRelatedField(
        queryset=ProductCategory.objects.all(), allow_null=True, required=False
    )
    category_name = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = (
            "id",
            "code",
            "name",
            "category",
            "category_name",
            "unit",
            "description",
            "is_active",
            "tax_rate",
            "cost",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("created_at", "updated_at")
        # Uniqueness is the service's (and the database's) to check.
        extra_kwargs = {"code": {"validators": []}}

    def get_category_name(self, product) -> str | None:
        return str(product.category) if product.category else None


class PriceBookEntrySerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)

    class Meta:
        model = PriceBookEntry
        fields = ("id", "product", "product_code", "min_quantity", "unit_price")


class PriceBookSerializer(serializers.ModelSerializer):
    customer_levels = serializers.PrimaryKeyRelatedField(
        queryset=PicklistOption.objects.filter(picklist__code="customer_level"),
        many=True,
        required=False,
    )
    entries = PriceBookEntrySerializer(many=True, read_only=True)

    class Meta:
        model = PriceBook
        fields = (
            "id",
            "name",
            "currency",
            "valid_from",
            "valid_to",
            "is_default",
            "customer_levels",
            "is_active",
            "entries",
        )
        validators: list = []


class TierSerializer(serializers.Serializer):
    min_quantity = serializers.DecimalField(max_digits=12, decimal_places=2, default=1)
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=2)


class PricesSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    tiers = TierSerializer(many=True)


class ExchangeRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExchangeRate
        fields = ("id", "currency", "rate", "valid_from")
        validators: list = []


class TerritorySerializer(serializers.ModelSerializer):
    provinces = serializers.ListField(child=serializers.CharField(), required=False)
    cities = serializers.ListField(child=serializers.CharField(), required=False)
    industries = serializers.PrimaryKeyRelatedField(
        queryset=PicklistOption.objects.filter(picklist__code="industry"),
        many=True,
        required=False,
    )
    users = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), many=True, required=False
    )

    class Meta:
        model = Territory
        fields = ("id", "name", "provinces", "cities", "industries", "users", "sort_order")
        read_only_fields = ("sort_order",)


class ReassignSerializer(serializers.Serializer):
    include_closed = serializers.BooleanField(default=False)


class ReassignResultSerializer(serializers.Serializer):
    accounts = serializers.IntegerField()
    opportunities = serializers.IntegerField()


# --- filters -----------------------------------------------------------------------------------
class ProductFilter(django_filters.FilterSet):
    category = django_filters.NumberFilter(method="filter_category")
    q = django_filters.CharFilter(method="filter_q")

    class Meta:
        model = Product
        fields = ["is_active", "code"]

    def filter_category(self, queryset, name, value):
        return queryset.filter(category_id__in=selectors.category_descendant_ids(int(value)))

    def filter_q(self, queryset, name, value):
        from django.db.models import Q

        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__istartswith=value) | Q(name__icontains=value))


class PriceBookFilter(django_filters.FilterSet):
    class Meta:
        model = PriceBook
        fields = ["currency", "is_active", "is_default"]


class ExchangeRateFilter(django_filters.FilterSet):
    class Meta:
        model = ExchangeRate
        fields = ["currency"]


# --- viewsets ----------------------------------------------------------------------------------
class ProductCategoryViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    queryset = ProductCategory.objects.all()
    serializer_class = ProductCategorySerializer
    permission_classes = [permissions.IsAuthenticated, ModelRolePermission]
    ordering_fields = ("sort_order", "id")
    ordering = ("sort_order", "id")
    filterset_fields = ["parent"]

    def perform_create(self, serializer):
        serializer.instance = services.product_category_save(
            actor=self.request.user, data=dict(serializer.validated_data)
        )

    def perform_update(self, serializer):
        serializer.instance = services.product_category_save(
            actor=self.request.user,
            data=dict(serializer.validated_data),
            category=serializer.instance,
        )

    def perform_destroy(self, instance):
        try:
            services.product_category_delete(actor=self.request.user, category=instance)
        except ProtectedError:
            raise APIValidationError(_("Move or delete its subcategories first.")) from None


class ProductViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    queryset = Product.objects.select_related("category")
    serializer_class = ProductSerializer
    permission_classes = [permissions.IsAuthenticated, ModelRolePermission]
    filterset_class = ProductFilter
    ordering_fields = ("code", "name", "created_at", "id")
    ordering = ("code",)
    # Products are deactivated, not deleted: opportunity lines and quotes point at them.
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.product_create(
            actor=self.request.user, data=dict(serializer.validated_data)
        )

    def perform_update(self, serializer):
        serializer.instance = services.product_update(
            product=serializer.instance,
            actor=self.request.user,
            data=dict(serializer.validated_data),
        )


class PriceBookViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    queryset = PriceBook.objects.prefetch_related(
        "customer_levels",
        Prefetch(
            "entries",
            queryset=PriceBookEntry.objects.select_related("product").order_by(
                "product__code", "min_quantity"
            ),
        ),
    )
    serializer_class = PriceBookSerializer
    permission_classes = [permissions.IsAuthenticated, ModelRolePermission]
    filterset_class = PriceBookFilter
    ordering_fields = ("currency", "name", "id")
    ordering = ("currency", "name")
    action_permissions = {"prices": "change"}

    def _save(self, serializer, book=None):
        data = dict(serializer.validated_data)
        levels = data.pop("customer_levels", None)
        serializer.instance = services.price_book_save(
            actor=self.request.user, data=data, customer_levels=levels, price_book=book
        )

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        services.price_book_delete(actor=self.request.user, price_book=instance)

    @extend_schema(request=PricesSerializer, responses={200: PriceBookSerializer})
    @action(detail=True, methods=["post"])
    def prices(self, request, pk=None):
        book = self.get_object()
        payload = PricesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.price_book_prices_set(
            actor=request.user,
            price_book=book,
            prices={payload.validated_data["product"]: payload.validated_data["tiers"]},
        )
        return Response(PriceBookSerializer(self.get_queryset().get(pk=book.pk)).data)


class ExchangeRateViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    queryset = ExchangeRate.objects.all()
    serializer_class = ExchangeRateSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdministratorOrReadOnly]
    filterset_class = ExchangeRateFilter
    ordering_fields = ("currency", "valid_from", "id")
    ordering = ("currency", "-valid_from")

    def perform_create(self, serializer):
        serializer.instance = services.exchange_rate_save(
            actor=self.request.user, data=dict(serializer.validated_data)
        )

    def perform_update(self, serializer):
        serializer.instance = services.exchange_rate_save(
            actor=self.request.user,
            data=dict(serializer.validated_data),
            rate=serializer.instance,
        )

    def perform_destroy(self, instance):
        services.exchange_rate_delete(actor=self.request.user, rate=instance)


IsAdministrator = administrators_only(ROLE_REFUSED)


class TerritoryViewSet(GuanxiAPIMixin, viewsets.ModelViewSet):
    queryset = Territory.objects.prefetch_related("industries", "users")
    serializer_class = TerritorySerializer
    permission_classes = [permissions.IsAuthenticated, IsAdministratorOrReadOnly]
    ordering_fields = ("sort_order", "id")
    ordering = ("sort_order", "id")

    def _save(self, serializer, territory=None):
        data = dict(serializer.validated_data)
        industries = data.pop("industries", None)
        users = data.pop("users", None)
        serializer.instance = services.territory_save(
            actor=self.request.user,
            data=data,
            industries=industries,
            users=users,
            territory=territory,
        )

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        services.territory_delete(actor=self.request.user, territory=instance)

    @extend_schema(request=ReassignSerializer, responses={200: ReassignResultSerializer})
    @action(
        detail=False,
        methods=["post"],
        permission_classes=[permissions.IsAuthenticated, IsAdministrator],
    )
    def reassign(self, request):
        payload = ReassignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = services.territories_reassign(
            actor=request.user, include_closed=payload.validated_data["include_closed"]
        )
        return Response(ReassignResultSerializer(result).data)


def register_api() -> None:
    from guanxi.core.api.registry import register_viewset

    register_viewset("products", ProductViewSet, "product")
    register_viewset("product-categories", ProductCategoryViewSet, "product-category")
    register_viewset("price-books", PriceBookViewSet, "price-book")
    register_viewset("exchange-rates", ExchangeRateViewSet, "exchange-rate")
    register_viewset("territories", TerritoryViewSet, "territory")
