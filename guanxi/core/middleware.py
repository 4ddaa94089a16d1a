from django.utils import timezone, translation

from guanxi.core.request_context import (
    end_request_memo,
    new_request_id,
    reset_request_id,
    set_request_id,
    start_request_memo,
)


class RequestIdMiddleware:
    """Give every request an id (or keep the proxy's X-Request-ID) for the audit trail, and
    its own memo of values read once per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID", "")[:64] or new_request_id()
        request.request_id = request_id
        token = set_request_id(request_id)
        memo = start_request_memo()
        try:
            response = self.get_response(request)
        finally:
            end_request_memo(memo)
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class UserPreferencesMiddleware:
    """Serve a signed-in user in their own language and time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
            try:
                timezone.activate(user.time_zone)
            except Exception:  # an unknown zone name must not break the page
                timezone.deactivate()
        response = self.get_response(request)
        timezone.deactivate()
        return response
