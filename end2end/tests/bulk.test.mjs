// "Update all" on the artifacts page: one bulk job over every artifact with an upstream, and its
// summary artifact by artifact when it ends; statuses update without a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { hydratedPage, serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: true });

test('update all: one bulk job, its summary, and the statuses refreshed in place', async () => {
  const { context, page, errors } = await hydratedPage(env.browser, env.server);
  const uc = (id) => page.locator(`tr[data-id="${id}"] td:nth-child(4)`);
  assert.equal((await uc('skill:code-review').innerText()).trim(), 'outdated');
  await page.evaluate(() => { window.__marker = 3; });

  await page.getByRole('button', { name: 'Update all' }).click();
  const summary = page.locator('.bulk-summary');
  await summary.waitFor({ timeout: 30_000 });
  // One job for the lot: every artifact with an upstream, each with its outcome.
  assert.match(await summary.locator('p').innerText(), /^Update all \(job #\d+\): conflict — 10 artifact\(s\), \d+ need attention\.$/);
  const outcome = async (id) => (await summary.locator(`li[data-id="${id}"] .badge`).innerText()).trim();
  assert.equal(await summary.locator('li').count(), 10);
  assert.equal(await outcome('skill:code-review'), 'fast forward');
  assert.equal(await outcome('agent:security-auditor'), 'fast forward');
  assert.equal(await outcome('skill:changelog'), 'up to date', 'the pinned artifact stays');
  assert.equal(await outcome('command:release-notes'), 'conflict');
  assert.equal(await outcome('skill:incident-response'), 'conflict');
  // The conflicts wait for the user; the rest is up to date without a reload.
  await uc('skill:code-review').filter({ hasText: 'synced' }).waitFor({ timeout: 15_000 });
  assert.equal((await uc('agent:security-auditor').innerText()).trim(), 'synced');
  assert.equal((await uc('command:release-notes').innerText()).trim(), 'conflict');
  await page.screenshot({ path: join(OUTPUT, 'update-all.png'), fullPage: true });
  await summary.locator('li[data-id="command:release-notes"] a').click();
  await page.locator('.pending-merge').waitFor();
  assert.equal(await page.evaluate(() => window.__marker), 3, 'a navigation reloaded the page');
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
});
