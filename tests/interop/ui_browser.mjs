// Drives Debian's Chromium, headless, through the mock's web console with
// Playwright (playwright-core, no browser download), as a tester would click:
//
// 1. a user signs in at the mock's sign-in page and opens the dashboard;
// 2. the reference SP's tile starts IdP-initiated sign-in, and the browser
//    lands signed in at the SP (the SP's session page text is reported);
// 3. an admin signs in to the admin console with the API token and arms a
//    SAML fault for that user and app;
// 4. the tile is clicked again, and the SP's answer to the faulty response
//    (status, error code, page text) is reported, with the SP's /whoami
//    answer afterwards.
//
// The Rust test (tests/mockta/ui_browser.rs) starts both servers and judges
// the JSON this prints on its last line. Screenshots of each step go to
// SCREENSHOT_DIR. Arguments come from the environment: MOCK_URL, SP_URL,
// API_TOKEN, LOGIN, APP_LABEL, APP_ID, USER_ID, FAULT, SCREENSHOT_DIR.
//
// There are no sleeps: each step waits for its navigation or selector.

import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// The test command installs playwright-core (pinned in
// tests/interop/browser/package-lock.json) into .local/node/browser.
const require = createRequire(join(here, '../../.local/node/browser/node_modules/'));
const { chromium } = require('playwright-core');

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

const mock = required('MOCK_URL');
const sp = required('SP_URL');
const apiToken = required('API_TOKEN');
const login = required('LOGIN');
const appLabel = required('APP_LABEL');
const appId = required('APP_ID');
const userId = required('USER_ID');
const fault = required('FAULT');
const screenshots = required('SCREENSHOT_DIR');
mkdirSync(screenshots, { recursive: true });

// The flags the machine notes list: without the background-networking ones
// Chromium tries to reach Google's hosts, which a closed network refuses.
// Playwright itself passes --headless and the fresh --user-data-dir.
const userDataDir = mkdtempSync(join(tmpdir(), 'mockta-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

const report = {};
try {
  const page = await context.newPage();
  const shot = (name) => page.screenshot({ path: join(screenshots, name), fullPage: true });

  // 1. The end-user signs in and sees the dashboard.
  await page.goto(`${mock}/login/login.htm`);
  await shot('01-sign-in.png');
  await Promise.all([
    page.waitForURL(`${mock}/app/UserHome`),
    page.click(`button[data-login="${login}"]`),
  ]);
  const tile = page.locator('a[data-se="app-tile"]', { hasText: appLabel });
  await tile.waitFor();
  report.tiles = await page.locator('.tile').allInnerTexts();
  await shot('02-dashboard.png');

  // 2. The tile: the mock's auto-post page submits the response to the SP,
  // which redirects to the app's default RelayState.
  await Promise.all([page.waitForURL(`${sp}/welcome`), tile.click()]);
  report.signedIn = await page.locator('main').innerText();
  await shot('03-signed-in-at-sp.png');

  // 3. The admin arms a fault for this user and app.
  const admin = await context.newPage();
  await admin.goto(`${mock}/admin/sign-in`);
  await admin.fill('input[name="token"]', apiToken);
  await Promise.all([admin.waitForURL(`${mock}/admin/dashboard`), admin.click('button[type="submit"]')]);
  await admin.selectOption('#arm-fault select[name="fault"]', fault);
  await admin.selectOption('#arm-fault select[name="user"]', userId);
  await admin.selectOption('#arm-fault select[name="app"]', appId);
  await Promise.all([admin.waitForURL(`${mock}/admin/dashboard#faults`), admin.click('#arm-fault button')]);
  report.armed = await admin.locator('#armed-faults').innerText();
  await admin.screenshot({ path: join(screenshots, '04-admin-fault-armed.png'), fullPage: true });

  // 4. The SP session from step 2 is dropped, so only the faulty response
  // could sign the user in again; then the tile is clicked again.
  await context.clearCookies({ name: 'rsp_session' });
  await page.goto(`${mock}/app/UserHome`);
  const [acsAnswer] = await Promise.all([
    page.waitForResponse((response) => response.url().startsWith(`${sp}/sso/acs/`)),
    page.locator('a[data-se="app-tile"]', { hasText: appLabel }).click(),
  ]);
  await page.waitForURL(`${sp}/sso/acs/**`);
  report.refused = {
    status: acsAnswer.status(),
    errorCode: (await acsAnswer.headerValue('x-error-code')) ?? null,
    text: await page.locator('body').innerText(),
  };
  await shot('05-sp-refused.png');
  const whoami = await page.request.get(`${sp}/whoami`);
  report.whoamiAfterRefusal = whoami.status();
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

console.log(JSON.stringify(report));
