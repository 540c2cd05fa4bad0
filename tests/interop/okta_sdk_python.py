"""Okta's Python management SDK (`okta` on PyPI) against the mock.

Run by tests/mockta/interop_okta_sdk.rs as

    SSL_CERT_FILE=CA_FILE python okta_sdk_python.py ORG_URL API_TOKEN APP_ID PREFIX

It does what a CI set-up script does with the SDK, each through the SDK's
documented call: list users a page at a time (a small `limit`, following the
`Link` headers), create, find by a
search expression, update, deactivate and delete users, create a group and
add members, and assign a user and the group to an app. It prints a JSON
summary on stdout; the Rust test then checks the org through the mock's own
API. The org URL is https, as the SDK requires. The mock's local CA is
trusted through OpenSSL's `SSL_CERT_FILE`, which the default SSL context of
the SDK's aiohttp session reads (the SDK's own `sslContext` setting cannot be
used: the SDK deep-copies its configuration, and an SSLContext cannot be
copied).
"""

import asyncio
import json
import sys

from okta.client import Client as OktaClient
from okta.pagination import PaginationHelper
from okta.models import (
    AddGroupRequest,
    AppUserAssignRequest,
    CreateUserRequest,
    OktaUserGroupProfile,
    UpdateUserRequest,
    UserProfile,
)


def fail(step, error):
    """Stops with the step that failed and the SDK's error, for the test's message."""
    print(json.dumps({"failed": step, "error": str(error)}))
    sys.exit(1)


async def walk_all_users(client, limit):
    """Lists every user `limit` at a time, following the `after` cursor of
    each response's `Link: <...>; rel="next"` header with the SDK's
    PaginationHelper, until a response has none."""
    logins, pages, after = [], 0, None
    while True:
        users, response, error = await client.list_users(limit=limit, after=after)
        if error:
            fail("list_users", error)
        pages += 1
        logins.extend(user.profile.login for user in users)
        after = PaginationHelper.extract_next_cursor(response.headers)
        if after is None:
            return logins, pages


async def main():
    org_url, token, app_id, prefix = sys.argv[1:5]
    client = OktaClient({"orgUrl": org_url, "token": token})

    logins_before, _ = await walk_all_users(client, 2)
    if not logins_before:
        fail("list_users", "the first page is empty")

    created = {}
    for index in range(1, 4):
        login = f"{prefix}{index}@acme.test"
        body = CreateUserRequest(
            profile=UserProfile(
                first_name="Sdk",
                last_name=f"User{index}",
                email=login,
                login=login,
            )
        )
        user, _, error = await client.create_user(body, activate=True)
        if error:
            fail("create_user", error)
        created[login] = user.id

    first, second, third = created.keys()
    found, _, error = await client.list_users(search=f'profile.login eq "{first}"')
    if error:
        fail("list_users search", error)
    found_ids = [user.id for user in found]

    active, _, error = await client.list_users(
        search=f'status eq "ACTIVE" and (profile.login eq "{first}" or profile.login eq "{second}")'
    )
    if error:
        fail("list_users search and/or", error)

    update = UpdateUserRequest(profile=UserProfile(first_name="Renamed"))
    updated, _, error = await client.update_user(created[first], update)
    if error:
        fail("update_user", error)

    _, _, error = await client.deactivate_user(created[second])
    if error:
        fail("deactivate_user", error)

    # Okta deletes a user in two calls: the first deactivates, the second deletes.
    for _ in range(2):
        _, _, error = await client.delete_user(created[third])
        if error:
            fail("delete_user", error)

    group, _, error = await client.add_group(
        AddGroupRequest(profile=OktaUserGroupProfile(name=f"{prefix}group", description="made by the Python SDK"))
    )
    if error:
        fail("add_group", error)
    for login in (first, second):
        _, _, error = await client.assign_user_to_group(group.id, created[login])
        if error:
            fail("assign_user_to_group", error)
    members, _, error = await client.list_group_users(group.id)
    if error:
        fail("list_group_users", error)

    _, _, error = await client.assign_user_to_application(app_id, AppUserAssignRequest(id=created[first]))
    if error:
        fail("assign_user_to_application", error)
    _, _, error = await client.assign_group_to_application(app_id, group.id)
    if error:
        fail("assign_group_to_application", error)

    logins_after, pages = await walk_all_users(client, 2)

    print(
        json.dumps(
            {
                "users_before": len(logins_before),
                "users_after": len(logins_after),
                "pages_walked": pages,
                "created": created,
                "search_found": found_ids,
                "search_and_or_found": sorted(user.profile.login for user in active),
                "updated_first_name": updated.profile.first_name,
                "group": group.id,
                "group_members": sorted(user.profile.login for user in members),
            }
        )
    )


asyncio.run(main())
