// Push upstream (export a patch bundle and check the downloaded tar.gz) and rollback from the
// history (confirm, then see the history grow and the collection change).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { hydratedPage, serverAndBrowser } from './browser.mjs';
import { readTarGz } from './tar.mjs';

const env = serverAndBrowser({ demo: true });


test('push upstream: the exported bundle downloads, matches its sha256, and holds the edit', async () => {
  const { context, page, errors } = await hydratedPage(env.browser, env.server, { acceptDownloads: true });
  // web-app tuned fix-tests.
  await page.locator('tr[data-id="command:fix-tests"] .project-status', { hasText: 'web-app' }).click();
  await page.waitForURL(/project=.*web-app/);
  await page.getByRole('button', { name: 'Export a patch' }).click();
  await page.locator('.patch-result').waitFor({ timeout: 15_000 });
  const sha = await page.locator('.patch-sha').innerText();
  assert.match(sha, /^[0-9a-f]{64}$/);
  const url = await page.locator('.patch-url').inputValue();
  assert.ok(url.startsWith(env.server.url.replace(/\/$/, '')), url);
  assert.match(await page.locator('.patch-result').innerText(), /1 as patches, 0 whole/);

  const download = page.waitForEvent('download');
  await page.locator('.patch-download').click();
  const file = await (await download).path();
  const bytes = readFileSync(file);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), sha);
  const files = readTarGz(bytes);
  const names = [...files.keys()];
  const patch = names.find((n) => n.endsWith('.patch'));
  assert.ok(patch, `a .patch in ${names.join(', ')}`);
  assert.match(files.get(patch), /\+Run `npm test -- --watch=false` first\./);
  await page.screenshot({ path: join(OUTPUT, 'patch-export.png'), fullPage: true });
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
});

test('rollback from the history: confirm, and the history and the collection change', async () => {
  const { context, page, errors } = await hydratedPage(env.browser, env.server, { acceptDownloads: true });
  await page.locator('tr[data-id="skill:api-docs"] a').first().click();
  await page.locator('table.history').waitFor();
  const rows = page.locator('table.history tbody tr');
  assert.equal(await rows.count(), 2);
  const before = await page.locator('.card.tier-collection code').first().innerText();
  const older = rows.nth(1);
  const olderHash = (await older.locator('td').first().locator('code').innerText()).trim();
  assert.equal(await page.locator('ul.events li').count(), 0);

  await older.getByRole('button', { name: 'Restore…' }).click();
  await older.getByRole('button', { name: 'Cancel' }).click();
  await older.getByRole('button', { name: 'Restore…' }).click();
  await older.getByRole('button', { name: 'Restore', exact: true }).click();
  // The rollback is recorded, and the collection holds the older version now.
  await page.locator('ul.events li').first().waitFor({ timeout: 15_000 });
  assert.match(await page.locator('ul.events li').first().innerText(), new RegExp(olderHash));
  await page.locator('.card.tier-collection code', { hasText: olderHash }).first().waitFor();
  assert.notEqual(before, olderHash);
  assert.equal(await page.locator('table.history tbody tr.current td code').first().innerText(), olderHash);
  // The timeline's newest event is the rollback, to that version.
  const latest = page.locator('ol.timeline li.event').first();
  assert.equal(await latest.locator('.badge.event-kind').innerText(), 'rollback');
  assert.match(await latest.locator('.summary').innerText(), new RegExp(`→ ${olderHash}`));
  await page.screenshot({ path: join(OUTPUT, 'rollback.png'), fullPage: true });
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
});

test('tag the proposed version, then compare two versions and read the changelog', async () => {
  const { context, page, errors } = await hydratedPage(env.browser, env.server, { acceptDownloads: true });
  await page.locator('tr[data-id="skill:api-docs"] a').first().click();
  const control = page.locator('.tag-control');
  await control.waitFor();
  // No semver tag yet: v1.0.0 is proposed, not breaking.
  assert.equal(await control.locator('input[name="tag"]').inputValue(), 'v1.0.0');
  assert.equal(await control.locator('input[name="breaking"]').isChecked(), false);
  assert.match(await control.innerText(), /no semver tag yet: this starts the line/);
  await control.getByRole('button', { name: 'Tag' }).click();
  // The history shows the tag on the collection's version, and the page proposes nothing new.
  await page.locator('table.history tbody tr.current .badge', { hasText: 'v1.0.0' }).waitFor({ timeout: 15_000 });
  await page.locator('.tag-control', { hasText: 'is tagged v1.0.0: nothing changed since' }).waitFor({ timeout: 15_000 });
  // Compare the two recorded versions: the changelog lists the tagged release with its bump.
  const form = page.getByRole('form', { name: 'Compare two versions' });
  await form.getByRole('button', { name: 'Compare versions' }).click();
  await page.locator('section.changelog').waitFor({ timeout: 15_000 });
  // Oldest → newest by default: the newest version is the last step, with its bump and files.
  const step = page.locator('li.changelog-step').first();
  assert.match(await step.locator('.badge.bump').innerText(), /^(major|minor|patch|none)$/);
  assert.ok(await step.locator('ul.files li').count() > 0);
  assert.match(await page.locator('section.changelog h3').innerText(), /^Changelog [0-9a-f]{12} → [0-9a-f]{12}/);
  assert.match(await page.locator('.diff-bump').innerText(), /Suggested version bump/);
  await page.screenshot({ path: join(OUTPUT, 'changelog.png'), fullPage: true });
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
});
