"""A user's own preferences: language and time zone."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.forms.admin import apply_service_errors
from guanxi.core.forms.auth import LanguageForm, PreferencesForm
from guanxi.core.services.organisation import user_set_preferences


def _safe_next(request, fallback: str = "/") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return fallback


def _remember_language(response, language: str):
    """Keep the choice for the sign-in page too, after the user signs out."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response


@login_required
def preferences(request):
    user = request.user
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                user_set_preferences(
                    user=user,
                    language=form.cleaned_data["language"],
                    time_zone=form.cleaned_data["time_zone"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                translation.activate(user.language)
                messages.success(request, _("Your preferences were saved."))
                return _remember_language(redirect("core:preferences"), user.language)
    else:
        form = PreferencesForm(initial={"language": user.language, "time_zone": user.time_zone})
    return render(
        request,
        "core/preferences.html",
        {"form": form, "roles": list(user.roles.all())},
    )


@require_POST
@login_required
def set_language(request):
    """The language switch of a signed-in user: saved on the user, then back to the page."""
    form = LanguageForm(request.POST)
    target = _safe_next(request)
    if form.is_valid():
        user_set_preferences(user=request.user, language=form.cleaned_data["language"])
        return _remember_language(redirect(target), form.cleaned_data["language"])
    messages.error(request, _("Choose a supported language."))
    return redirect(target)
