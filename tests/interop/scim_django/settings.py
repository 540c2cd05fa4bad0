"""Settings for the django-scim2 interop server.

Everything the test varies comes from the environment: the SQLite file's
folder (a temporary directory the Rust test owns) and the bearer token.
"""

import os

SECRET_KEY = "mockta-interop-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "scim_django.urls"
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_scim",
    "scim_django",
]

# The SCIM client is a machine, so there are no sessions or CSRF tokens: the
# bearer middleware authenticates each request, and django-scim2's own
# middleware then refuses any SCIM request that it left anonymous.
MIDDLEWARE = [
    "scim_django.auth.BearerTokenMiddleware",
    "django_scim.middleware.SCIMAuthCheckMiddleware",
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(os.environ["SCIM_DJANGO_DATA_DIR"], "scim.sqlite3"),
    }
}

AUTH_USER_MODEL = "scim_django.User"

# Django's default hasher runs PBKDF2 a million times for each password that
# SCIM sets, about a second of CPU on a loaded CI machine, and the server
# serves one request at a time. Django's testing guide recommends a fast
# hasher for tests; how the password is stored is not what the suite judges
# (it checks only that a password is never returned).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

SCIM_DJANGO_BEARER_TOKEN = os.environ["SCIM_DJANGO_BEARER_TOKEN"]

# django-scim2's required settings (its README): the host its resource
# locations name, and the authentication scheme ServiceProviderConfig shows.
SCIM_SERVICE_PROVIDER = {
    # The server script sets the port once it is bound.
    "NETLOC": "127.0.0.1",
    "SCHEME": "http",
    "GROUP_MODEL": "scim_django.models.Group",
    "AUTHENTICATION_SCHEMES": [
        {
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A static bearer token in the Authorization header",
        },
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
}

# Okta's group PATCH operations and displayName lookups, through the
# library's documented adapter and filter-parser settings (adapters.py); off
# unless the test asks, so the suite judges the library as it ships.
if os.environ.get("SCIM_DJANGO_OKTA_GROUPS") == "1":
    SCIM_SERVICE_PROVIDER["GROUP_ADAPTER"] = "scim_django.adapters.OktaGroup"
    SCIM_SERVICE_PROVIDER["GROUP_FILTER_PARSER"] = "scim_django.filters.DisplayNameGroupFilterQuery"
