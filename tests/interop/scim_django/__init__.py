"""A minimal Django project serving django-scim2 at /scim/v2/, the third-party
SCIM server the mock provisions in tests/mockta/interop_scim_server.rs."""
