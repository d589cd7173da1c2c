// The application shell, read server-rendered without JavaScript and used hydrated with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser();

test('the page is rendered on the server and readable with JavaScript off', async () => {
  const context = await env.browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  // Without the login cookie the server shows how to log in, and no data.
  const refused = await page.goto(env.server.url);
  assert.equal(refused.status(), 401);
  assert.match(await page.locator('h1').innerText(), /Log in to SkillMeat/);
  // The login URL sets the cookie and lands on the app.
  const response = await page.goto(env.server.loginUrl);
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/');

  assert.match(await page.locator('.brand').innerText(), /SkillMeat/);
  assert.deepEqual(await page.locator('nav.mainnav a').allInnerTexts(), ['Artifacts', 'Plugins', 'Jobs']);
  assert.equal(await page.locator('.empty-state h2').innerText(), 'No artifacts yet');
  assert.match(await page.locator('.empty-state').innerText(), /skillmeat demo/);
  assert.match(await page.locator('.server-version').innerText(), /^SkillMeat \d+\.\d+\.\d+$/);
  // The stylesheet is served and applied.
  const bg = await page.locator('.topbar').evaluate((el) => getComputedStyle(el).borderBottomStyle);
  assert.equal(bg, 'solid');

  // Without the wasm, the hydrated controls do nothing.
  await page.locator('.theme-toggle').click();
  assert.equal(await page.locator('.app').getAttribute('data-theme'), 'system');
  assert.equal(await page.locator('.app').getAttribute('data-hydrated'), 'false');

  // Plain links still navigate (a full page load, rendered on the server).
  await page.locator('nav.mainnav a', { hasText: 'Jobs' }).click();
  await page.waitForURL(/\/jobs$/);
  assert.equal(await page.locator('.empty-state h2').innerText(), 'No sync jobs yet');
  // Data the server fetched is in the HTML itself, not streamed in for a script to place.
  assert.match(await page.locator('.server-version').innerText(), /^SkillMeat \d+\.\d+\.\d+$/);
  await page.screenshot({ path: join(OUTPUT, 'shell-no-js.png'), fullPage: true });

  // Log out ends this browser's session: the app asks for the login URL again.
  await page.locator('form.logout button').click();
  await page.waitForURL(/\/login$/);
  assert.match(await page.locator('h1').innerText(), /Log in to SkillMeat/);
  const after = await page.goto(env.server.url);
  assert.equal(after.status(), 401);
  await context.close();
});

test('the page hydrates: client-side controls and a server-function round trip work', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

  const wasm = page.waitForResponse((r) => r.url().endsWith('/pkg/skillmeat.wasm'));
  await page.goto(env.server.loginUrl);
  const wasmResponse = await wasm;
  assert.equal(wasmResponse.status(), 200);
  assert.equal(wasmResponse.headers()['content-type'], 'application/wasm');
  await page.locator('.app[data-hydrated="true"]').waitFor({ timeout: 15_000 });

  // A purely client-side control.
  const toggle = page.locator('.theme-toggle');
  await toggle.click();
  assert.equal(await page.locator('.app').getAttribute('data-theme'), 'dark');
  assert.equal(await toggle.innerText(), 'Theme: dark');

  // A server function called from the browser.
  await page.getByRole('button', { name: 'Check server' }).click();
  await page.locator('.server-check', { hasText: /Server OK · up \d+ s/ }).waitFor({ timeout: 5_000 });

  // Client-side navigation keeps the page (and the chosen theme) alive.
  await page.evaluate(() => { window.__skillmeatMarker = 42; });
  await page.locator('nav.mainnav a', { hasText: 'Jobs' }).click();
  await page.waitForURL(/\/jobs$/);
  await page.locator('h1', { hasText: 'Jobs' }).waitFor();
  assert.equal(await page.evaluate(() => window.__skillmeatMarker), 42, 'navigation reloaded the page');
  assert.equal(await page.locator('.app').getAttribute('data-theme'), 'dark');
  assert.equal(await page.locator('nav.mainnav a[aria-current="page"]').innerText(), 'Jobs');

  await page.screenshot({ path: join(OUTPUT, 'shell-hydrated.png'), fullPage: true });
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
});
