"""The registry of cards on the "Today" page (今日待办).

An app registers a callable that receives the request and returns either None (nothing to
show for this user) or a dict with:

- ``title``: the card's heading (a translated string);
- ``template``: the template rendering the card's body;
- ``context``: the context for that template (the request is available to it);
- optionally ``url`` (a "see all" link) and ``order`` (smaller comes first).

The callable does its own reads through selectors, starting from the user's data scope,
with a bounded number of queries (a page of rows and a count), and renders its own empty state.

This registry is the slot for every module's "today" items: activities register what is
due today (follow-up tasks included), overdue activities, today's meetings and visits and
unread reminders (`guanxi.activities.hooks_home`); later modules add theirs the same way,
e.g. sales its payments due and service its tickets near an SLA breach, without core
knowing about them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.template.loader import render_to_string

HomeWidget = Callable[[Any], dict | None]

_widgets: list[tuple[int, str, HomeWidget]] = []


def register_home_widget(widget: HomeWidget, *, order: int = 100) -> HomeWidget:
    """Add a card to the home page. Usable as a decorator; registering twice is a no-op."""
    key = f"{widget.__module__}.{widget.__qualname__}"
    if not any(existing == key for _order, existing, _widget in _widgets):
        _widgets.append((order, key, widget))
        _widgets.sort(key=lambda item: (item[0], item[1]))
    return widget


def unregister_home_widget(widget: HomeWidget) -> None:
    key = f"{widget.__module__}.{widget.__qualname__}"
    _widgets[:] = [item for item in _widgets if item[1] != key]


def registered_home_widgets() -> list[HomeWidget]:
    return [widget for _order, _key, widget in _widgets]


def home_cards(request) -> list[dict[str, Any]]:
    """Call every registered widget and render the cards that have something to show."""
    cards = []
    for widget in registered_home_widgets():
        spec = widget(request)
        if not spec:
            continue
        html = render_to_string(spec["template"], spec.get("context") or {}, request=request)
        cards.append(
            {
                "title": spec.get("title", ""),
                "html": html,
                "url": spec.get("url", ""),
                "order": spec.get("order", 100),
            }
        )
    cards.sort(key=lambda card: card["order"])
    return cards
