"""Bearer-token authentication, the minimal way django-scim2's README points
to: a middleware before its SCIMAuthCheckMiddleware sets `request.user`, and
that middleware answers 401 to any SCIM request whose user is anonymous."""

import hmac

from django.conf import settings
from django.contrib.auth.models import AnonymousUser


class BearerTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user = AnonymousUser()
        header = request.headers.get("Authorization", "")
        expected = "Bearer " + settings.SCIM_DJANGO_BEARER_TOKEN
        if hmac.compare_digest(header.encode(), expected.encode()):
            request.user = _client_user()
        return self.get_response(request)


def _client_user():
    # The SCIM client is an unsaved user: it must never show up among the
    # provisioned users that GET /Users lists.
    from scim_django.models import User

    return User(username="scim-client", is_active=True)
