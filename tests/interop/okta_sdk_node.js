#!/usr/bin/env node
/*
 * Okta's Node.js management SDK (@okta/okta-sdk-nodejs) against the mock.
 *
 * Usage (run by tests/mockta/interop_okta_sdk.rs):
 *   NODE_EXTRA_CA_CERTS=CA_FILE node tests/interop/okta_sdk_node.js ORG_URL API_TOKEN APP_ID PREFIX
 *
 * It does what a CI set-up script does with the SDK, each through the SDK's
 * documented call: list users a page at a time (a small `limit`; the SDK's
 * Collection follows the `Link` headers), create, find by a search
 * expression, update, deactivate and delete users, create a group and add
 * members, and assign a user and the group to an app. It prints one JSON
 * summary on stdout; the Rust test then checks the org through the mock's
 * own API. The mock is served over HTTPS with its local CA, which Node
 * trusts through NODE_EXTRA_CA_CERTS.
 *
 * Modules: scripts/lib.sh (ensure_node_env) installs the exact versions in
 * tests/interop/package-lock.json into .local/node/node_modules; they are
 * loaded through createRequire() anchored there, as in oidc_openid_client.js.
 */
'use strict';

const path = require('path');
const { createRequire } = require('module');

const requireFromPrefix = createRequire(path.join(__dirname, '..', '..', '.local', 'node', 'package.json'));
const okta = requireFromPrefix('@okta/okta-sdk-nodejs');

/** Lists every user `limit` at a time; the count of requests made is the pages walked. */
async function walkAllUsers(client, limit, counter) {
  const logins = [];
  const before = counter.listRequests;
  const collection = await client.userApi.listUsers({ limit });
  for await (const user of collection) {
    logins.push(user.profile.login);
  }
  return { logins, pages: counter.listRequests - before };
}

async function main() {
  const [orgUrl, token, appId, prefix] = process.argv.slice(2);
  // The SDK's default request executor is wrapped to count the list requests
  // it sends, so the test can tell that paging walked more than one page.
  const counter = { listRequests: 0 };
  const executor = new okta.DefaultRequestExecutor();
  const fetchOne = executor.fetch.bind(executor);
  executor.fetch = (request) => {
    if ((request.method || 'GET') === 'GET' && /\/api\/v1\/users(\?|$)/.test(request.url)) {
      counter.listRequests += 1;
    }
    return fetchOne(request);
  };
  const client = new okta.Client({ orgUrl, token, requestExecutor: executor });

  const before = await walkAllUsers(client, 2, counter);

  const created = {};
  for (const index of [1, 2, 3]) {
    const login = `${prefix}${index}@acme.test`;
    const user = await client.userApi.createUser({
      body: { profile: { firstName: 'Sdk', lastName: `User${index}`, email: login, login } },
      activate: true,
    });
    created[login] = user.id;
  }
  const [first, second, third] = Object.keys(created);

  const foundIds = [];
  for await (const user of await client.userApi.listUsers({ search: `profile.login eq "${first}"` })) {
    foundIds.push(user.id);
  }
  const andOr = [];
  const expression = `status eq "ACTIVE" and (profile.login eq "${first}" or profile.login eq "${second}")`;
  for await (const user of await client.userApi.listUsers({ search: expression })) {
    andOr.push(user.profile.login);
  }

  const updated = await client.userApi.updateUser({ userId: created[first], user: { profile: { firstName: 'Renamed' } } });
  await client.userApi.deactivateUser({ userId: created[second] });
  // Okta deletes a user in two calls: the first deactivates, the second deletes.
  await client.userApi.deleteUser({ userId: created[third] });
  await client.userApi.deleteUser({ userId: created[third] });

  const group = await client.groupApi.createGroup({
    group: { profile: { name: `${prefix}group`, description: 'made by the Node.js SDK' } },
  });
  for (const login of [first, second]) {
    await client.groupApi.assignUserToGroup({ groupId: group.id, userId: created[login] });
  }
  const members = [];
  for await (const user of await client.groupApi.listGroupUsers({ groupId: group.id })) {
    members.push(user.profile.login);
  }

  await client.applicationApi.assignUserToApplication({ appId, appUser: { id: created[first] } });
  await client.applicationApi.assignGroupToApplication({ appId, groupId: group.id });

  const after = await walkAllUsers(client, 2, counter);

  process.stdout.write(
    JSON.stringify({
      users_before: before.logins.length,
      users_after: after.logins.length,
      pages_walked: after.pages,
      created,
      search_found: foundIds,
      search_and_or_found: andOr.sort(),
      updated_first_name: updated.profile.firstName,
      group: group.id,
      group_members: members.sort(),
    }) + '\n',
  );
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ failed: 'sdk call', error: `${error.name}: ${error.message}` }) + '\n');
  process.exit(1);
});
