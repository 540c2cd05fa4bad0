"""The user and group models django-scim2 asks for: its abstract mixins add
the SCIM id, externalId, userName and displayName columns to Django's own
user and a group shaped like django.contrib.auth's."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django_scim.models import AbstractSCIMGroupMixin, AbstractSCIMUserMixin


class Group(AbstractSCIMGroupMixin):
    # Unique as django.contrib.auth's Group name is.
    name = models.CharField(max_length=150, unique=True)


class User(AbstractSCIMUserMixin, AbstractUser):
    # django-scim2's group adapter reads members through `group.user_set`,
    # and its user adapter reads `user.scim_groups`, so the many-to-many
    # relation carries both names.
    scim_groups = models.ManyToManyField(Group, related_name="user_set", blank=True)
