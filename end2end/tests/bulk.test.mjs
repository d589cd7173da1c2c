// "Update all" on the artifacts page: a plan first (a dry-run job, shown artifact by artifact),
// then one bulk job applying exactly that plan, and its summary when it ends; statuses update
// without a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { hydratedPage, serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: true });

test('update all: the plan first, then one bulk job applying it, its summary, and the statuses refreshed in place', async () => {
  const { context, page, errors } = await hydratedPage(env.browser, env.server);
  const uc = (id) => page.locator(`tr[data-id="${id}"] td:nth-child(4)`);
  assert.equal((await uc('skill:code-review').innerText()).trim(), 'outdated');
  await page.evaluate(() => { window.__marker = 3; });

  // Plan first: what would happen to each artifact, nothing written yet.
  await page.getByRole('button', { name: 'Update all…' }).click();
  const plan = page.locator('.bulk-plan');
  await plan.waitFor({ timeout: 30_000 });
  assert.match(await plan.locator('p strong').innerText(), /^Plan \(job #\d+\): \d+ of 10 artifact\(s\) would change$/);
  const planned = async (id) => (await plan.locator(`li[data-id="${id}"] .badge`).innerText()).trim();
  assert.equal(await plan.locator('li').count(), 10);
  assert.equal(await planned('skill:code-review'), 'fast forward');
  assert.equal(await planned('skill:changelog'), 'up to date');
  assert.equal(await planned('command:release-notes'), 'conflict');
  assert.match(await plan.innerText(), /would need you afterwards: a conflict waits as a pending merge/);
  assert.equal((await uc('skill:code-review').innerText()).trim(), 'outdated', 'the plan wrote nothing');
  await page.screenshot({ path: join(OUTPUT, 'update-all-plan.png'), fullPage: true });
  // Cancel leaves everything as it was; planning again and applying runs exactly that plan.
  await plan.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await page.locator('.bulk-plan').count(), 0);
  await page.getByRole('button', { name: 'Update all…' }).click();
  await plan.waitFor({ timeout: 30_000 });
  await plan.getByRole('button', { name: 'Apply this plan' }).click();

  const summary = page.locator('.bulk-summary');
  await summary.waitFor({ timeout: 30_000 });
  // One job for the lot: every artifact with an upstream, each with its outcome.
  const head = await summary.locator('p').innerText();
  assert.match(head, /^Update all \(job #\d+\): conflict — 10 artifact\(s\), \d+ need attention\.$/);
  const outcome = async (id) => (await summary.locator(`li[data-id="${id}"] .badge`).innerText()).trim();
  assert.equal(await summary.locator('li').count(), 10);
  assert.equal(await outcome('skill:code-review'), 'fast forward');
  assert.equal(await outcome('agent:security-auditor'), 'fast forward');
  assert.equal(await outcome('skill:changelog'), 'up to date', 'the pinned artifact stays');
  assert.equal(await outcome('command:release-notes'), 'conflict');
  assert.equal(await outcome('skill:incident-response'), 'conflict');
  // Only conflicts, divergences and errors need attention (a clean merge does not).
  const badges = (await summary.locator('li .badge').allInnerTexts()).map((t) => t.trim());
  const attention = badges.filter((b) => ['conflict', 'diverged', 'error'].includes(b)).length;
  assert.equal(Number(head.match(/(\d+) need attention/)[1]), attention, head);
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
