"""Okta's `displayName eq "…"` group lookup for django-scim2: the library's
group filter parser maps no attribute, so every group filter finds nothing.
Used only with SCIM_DJANGO_OKTA_GROUPS=1 (see adapters.py)."""

from django_scim.filters import GroupFilterQuery


class DisplayNameGroupFilterQuery(GroupFilterQuery):
    attr_map = {("displayName", None, None): "name"}
