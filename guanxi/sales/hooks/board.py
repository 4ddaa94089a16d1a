"""The board area's registrations: the funnel's API path."""

from guanxi.sales.api import board as _api  # noqa: F401  (registers opportunities/funnel/)
