// Syncing from the artifact page without blocking: preview the plan, apply, navigate away, and
// receive the result as a toast over the live event stream; badges update without a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { hydratedPage, serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: true });

test('preview, apply, navigate away, and get the toast; the status updates in place', async () => {
  const { context, page, errors } = await hydratedPage(env.browser, env.server);
  await page.evaluate(() => { window.__marker = 1; });

  // code-review: upstream moved on, the collection did not.
  await page.locator('tr[data-id="skill:code-review"] a').first().click();
  await page.locator('.pair-selector .tab', { hasText: 'Upstream ↔ Collection' }).click();
  await page.waitForURL(/pair=uc/);
  // The URL changes before the page re-renders for it: wait for the new pair's content, or the
  // dialog would open in the old render and vanish with it.
  await page.locator('.pair-selector .tab[aria-current="true"]', { hasText: 'Upstream ↔ Collection' }).waitFor();
  await page.getByRole('button', { name: 'Sync…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Preview' }).click();
  await dialog.locator('.plan-outcome').waitFor({ timeout: 15_000 });
  assert.equal(await dialog.locator('.plan-outcome').innerText(), 'fast forward');
  assert.deepEqual(
    (await dialog.locator('.plan-files li').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim()),
    ['SKILL.md unchanged', 'checklist.md fast forward'],
  );
  // Overwriting strategies ask twice.
  await dialog.locator('select[name="strategy"]').selectOption('theirs');
  await dialog.getByRole('button', { name: 'Preview' }).click();
  await dialog.locator('.plan-outcome').waitFor();
  assert.equal(await dialog.getByRole('button', { name: 'Apply' }).isDisabled(), true);
  await dialog.locator('input[name="confirm"]').check();
  assert.equal(await dialog.getByRole('button', { name: 'Apply' }).isDisabled(), false);
  await dialog.locator('select[name="strategy"]').selectOption('auto');
  await dialog.getByRole('button', { name: 'Preview' }).click();
  await dialog.locator('.plan-outcome').waitFor();

  const started = Date.now();
  await dialog.getByRole('button', { name: 'Apply' }).click();
  await page.locator('.sync-started').waitFor();
  // Leave while it runs: the toast finds us on the Jobs page.
  await page.locator('nav.mainnav a', { hasText: 'Jobs' }).click();
  await page.waitForURL(/\/jobs$/);
  const toast = page.locator('.toast', { hasText: 'Synced skill:code-review' });
  await toast.waitFor({ timeout: 15_000 });
  const toastMs = Date.now() - started;
  assert.match(await toast.innerText(), /fast forward/);
  assert.equal(await page.locator('.feed-state').textContent(), 'live');
  await page.screenshot({ path: join(OUTPUT, 'sync-toast.png'), fullPage: true });

  // The notifications panel keeps it, with its trace id.
  await page.locator('.notifications-button').click();
  const note = page.locator('.notifications-panel .note').first();
  assert.match(await note.innerText(), /Synced skill:code-review/);
  assert.match(await note.locator('code').innerText(), /^[0-9a-f]{32}$/);

  const jobTrace = await note.locator('code').innerText();
  await page.locator('.notifications-button').click();

  // The debug drawer: recent requests (the UI's server functions included) and jobs, with
  // trace ids; the job's is the one the notification showed.
  await page.getByRole('button', { name: 'Debug' }).click();
  const drawer = page.locator('aside.debug-drawer');
  await drawer.locator('table.debug-requests').waitFor({ timeout: 15_000 });
  const routes = await drawer.locator('table.debug-requests tbody td:first-child').allInnerTexts();
  assert.ok(routes.some((r) => r.startsWith('POST /_sm/start_sync')), routes.join('\n'));
  for (const t of await drawer.locator('table.debug-requests code.trace').allInnerTexts()) {
    assert.match(t, /^[0-9a-f]{32}$/);
  }
  assert.ok((await drawer.locator('table.debug-jobs code.trace').allInnerTexts()).includes(jobTrace));
  await page.screenshot({ path: join(OUTPUT, 'debug-drawer.png'), fullPage: true });
  await drawer.getByRole('button', { name: 'Close' }).click();

  // Back to the artifacts: the status is synced now, and the page never reloaded.
  await toast.getByRole('link', { name: 'Open' }).click();
  await page.waitForURL(/\/artifacts\/skill%3Acode-review/);
  await page.locator('nav.mainnav a', { hasText: 'Artifacts' }).click();
  await page.locator('tr[data-id="skill:code-review"] td:nth-child(4)', { hasText: 'synced' }).waitFor();
  assert.equal(await page.evaluate(() => window.__marker), 1, 'a navigation reloaded the page');
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  console.log(`apply-to-toast: ${toastMs} ms`);
  await context.close();
});
