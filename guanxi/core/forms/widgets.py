"""Widgets shared by the apps' forms.

`LookupSelect` replaces a `<select>` over a big table (users, departments, accounts): the page
renders only the empty choice, the "not set" choice of a filter and the selected option(s);
a search box above the select loads up to 20 matches over htmx as the user types (the
endpoint named by `url_name` answers `<option>`s for `?q=`). So a page costs the same with
10 users or 5,000, and never lists a whole table.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django_filters.fields import ModelChoiceIterator as FilterModelChoiceIterator


class LookupSelect(forms.Select):
    """A select showing only its chosen value(s), with an htmx search box above it.

    Works on a `ModelChoiceField` (also django-filter's, with its "not set" choice): the
    selected labels come from the field's queryset and `label_from_instance`, one query,
    and only for a selected value. On a field without a queryset (an `IntegerField` of
    ids) the selected option shows as `#<id>`.

    By default the matches go into an `<optgroup>` below the fixed options, so the empty
    and "not set" choices stay; `replace_options = True` lets the answer replace every
    option of the select instead (endpoints that answer a whole option list).
    """

    template_name = "core/widgets/lookup_select.html"
    replace_options = False
    load_when_empty = False  # with replace_options: fill the select as the page loads
    keep_htmx_attrs = True  # False: drop hx-* (inline validation) from the select

    def __init__(self, *, url_name: str, attrs: dict | None = None, placeholder: Any = None):
        super().__init__(attrs)
        self.url_name = url_name
        self.placeholder = placeholder

    # --- options ----------------------------------------------------------------------------
    def _fixed_options(self) -> list[tuple[str, str]]:
        field = getattr(self.choices, "field", None)
        if field is None:
            return [("", "---------")]
        options = []
        if getattr(field, "empty_label", None) is not None:
            options.append(("", str(field.empty_label)))
        null_label = getattr(field, "null_label", None)
        if null_label is not None:
            options.append((str(field.null_value), str(null_label)))
        return options

    def _selected_options(self, values: list[str], fixed: set[str]) -> list[tuple[str, str]]:
        wanted = [value for value in values if value not in fixed]
        if not wanted:
            return []
        field = getattr(self.choices, "field", None)
        queryset = getattr(self.choices, "queryset", None)
        if field is None or queryset is None:
            return [(value, f"#{value}") for value in wanted]
        key = field.to_field_name or "pk"
        try:
            found = list(queryset.filter(**{f"{key}__in": wanted}))
        except (TypeError, ValueError, forms.ValidationError):
            found = []
        labels = {str(getattr(obj, key)): field.label_from_instance(obj) for obj in found}
        return [(value, str(labels[value])) for value in wanted if value in labels]

    def options_for(self, value: Any) -> list[dict]:
        values = [str(item) for item in self.format_value(value)]
        fixed = self._fixed_options()
        fixed_values = {option for option, _label in fixed}
        chosen = set(values)
        return [
            {"value": option, "label": label, "selected": option in chosen}
            for option, label in fixed + self._selected_options(values, fixed_values)
        ]

    # --- rendering ----------------------------------------------------------------------------
    def get_context(self, name, value, attrs):
        final = self.build_attrs(self.attrs, attrs)
        widget_id = final.pop("id", None) or f"id_{name}"
        if not self.keep_htmx_attrs:
            final = {key: val for key, val in final.items() if not key.startswith("hx-")}
        try:
            url = reverse(self.url_name)
        except NoReverseMatch:
            url = ""
        options = self.options_for(value)
        return {
            "widget": {
                "name": name,
                "id": widget_id,
                "attrs": final,
                "required": self.is_required,
                "multiple": self.allow_multiple_selected,
                "options": options,
                "has_value": any(option["selected"] and option["value"] for option in options),
                "url": url,
                "placeholder": self.placeholder,
                "replace_options": self.replace_options,
                "load_when_empty": self.load_when_empty,
            }
        }

    def render(self, name, value, attrs=None, renderer=None):
        # One plain template, no per-option sub-templates (the cost of a big Select).
        return get_template(self.template_name).render(self.get_context(name, value, attrs))


def _html_attrs(attrs: dict) -> str:
    """What django/forms/widgets/attrs.html writes."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(parts)


class FastSelect(forms.Select):
    """A Select written in Python instead of one template include per option.

    Same markup as Django's select.html / select_option.html; a list page renders a dozen
    picklist selects (filters, the bulk bar), and the template-per-option renderer was most
    of its time. Use for small, bounded choice lists; big tables take a LookupSelect.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        html = [f'<select name="{conditional_escape(name)}"{_html_attrs(widget["attrs"])}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                html.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in group_choices:
                html.append(
                    f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                    f"{_html_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>"
                )
            if group_name:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))  # every part above is escaped


def lighten_select(form_field: forms.Field) -> None:
    """Swap a plain Select (exactly; not a subclass with its own rendering) for FastSelect."""
    widget = form_field.widget
    if type(widget) is not forms.Select:
        return
    fast = FastSelect(attrs=widget.attrs)
    fast.is_required = widget.is_required
    fast.is_localized = widget.is_localized
    fast.choices = widget.choices
    form_field.widget = fast


class PlainQueryChoiceIterator(ModelChoiceIterator):
    """A model field's choices read with one plain query.

    Django reads them through `queryset.iterator()`, which on PostgreSQL opens a server-side
    cursor: DECLARE, FETCH and CLOSE for a handful of options, for each select of the page
    (a list page has a dozen: its filters and the bulk bar)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class PlainQueryFilterChoiceIterator(FilterModelChoiceIterator, PlainQueryChoiceIterator):
    """The same for django-filter's model choice fields (which add a "not set" choice)."""


_PLAIN_QUERY_ITERATORS = {
    ModelChoiceIterator: PlainQueryChoiceIterator,
    FilterModelChoiceIterator: PlainQueryFilterChoiceIterator,
}


def read_choices_in_one_query(form_field: forms.Field) -> None:
    """Give a model choice field (Django's or django-filter's) `PlainQueryChoiceIterator`."""
    if not isinstance(form_field, forms.ModelChoiceField):
        return
    plain = _PLAIN_QUERY_ITERATORS.get(form_field.iterator)
    if plain is None:  # a field with its own iterator keeps it
        return
    form_field.iterator = plain
    form_field.widget.choices = form_field.choices


def use_lookup(form_field: forms.Field, url_name: str) -> forms.Field:
    """Give an existing ModelChoiceField a LookupSelect (keeps its attrs and queryset)."""
    widget = LookupSelect(url_name=url_name, attrs=dict(form_field.widget.attrs))
    widget.is_required = form_field.widget.is_required
    widget.choices = form_field.widget.choices
    form_field.widget = widget
    return form_field
