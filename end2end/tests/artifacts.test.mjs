// Browsing demo data: the artifacts page with its statuses and filters, the artifact page's
// version cards, project chooser, pair selector, diff views and history — read with JavaScript
// off (server-rendered) and used hydrated (client-side navigation, no reloads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { hydratedPage, serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: true });

const row = (page, id) => page.locator(`tr[data-id="${id}"]`);

async function statusIn(page, id, column) {
  return (await row(page, id).locator('td').nth(column).innerText()).trim();
}

test('artifacts and their statuses read without JavaScript; filters are a plain form', async () => {
  const context = await env.browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(env.server.loginUrl);

  assert.equal(await page.locator('table.artifacts tbody tr').count(), 10);
  assert.match(await page.locator('.summary').innerText(), /^10 artifacts · \d+ need attention · 10 shown$/);
  // Upstream ↔ collection, as DESIGN §4 names them.
  assert.equal(await statusIn(page, 'skill:code-review', 3), 'outdated');
  assert.equal(await statusIn(page, 'command:release-notes', 3), 'conflict');
  assert.equal(await statusIn(page, 'agent:docs-writer', 3), 'modified');
  assert.equal(await statusIn(page, 'skill:changelog', 3), 'synced');
  assert.equal(await statusIn(page, 'skill:changelog', 2), 'v1.0.0', 'the pin is shown');
  // Collection ↔ each project.
  const projects = await row(page, 'agent:reviewer').locator('.project-status').allInnerTexts();
  assert.deepEqual(projects.map((t) => t.replace(/\s+/g, ' ').trim()), ['api-service diverged', 'web-app added']);

  // Filter by status: a GET form, so the URL says what is shown.
  await page.locator('select[name="status"]').selectOption('conflict');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/status=conflict/);
  const ids = await page.locator('table.artifacts tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
  assert.deepEqual(ids, ['skill:incident-response', 'command:release-notes', 'agent:docs-writer']);
  assert.equal(await page.locator('select[name="status"]').inputValue(), 'conflict', 'the form keeps its value');
  // Search by name, and a search that matches nothing.
  await page.goto(new URL('/?q=review', env.server.url).href);
  assert.deepEqual(
    await page.locator('table.artifacts tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id)),
    ['skill:code-review', 'agent:reviewer'],
  );
  await page.goto(new URL('/?q=nothing-like-this', env.server.url).href);
  assert.equal(await page.locator('.empty-state h2').innerText(), 'Nothing matches');
  await page.screenshot({ path: join(OUTPUT, 'artifacts-no-js.png'), fullPage: true });

  // The artifact page: three cards, the project chooser, the diff, the history.
  await page.goto(new URL('/', env.server.url).href);
  await row(page, 'agent:docs-writer').locator('a').first().click();
  await page.waitForURL(/\/artifacts\/agent%3Adocs-writer$/);
  assert.deepEqual(await page.locator('.card h2').allInnerTexts().then((t) => t.map((x) => x.replace(/\s+/g, ' ').trim())),
    ['Upstream', 'Collection modified', 'Project conflict']);
  assert.deepEqual(await page.locator('.project-chooser .chip').allInnerTexts(), ['api-service', 'web-app']);
  assert.equal(await page.locator('.pair-selector .tab.current').first().innerText(), 'Collection ↔ Project');
  // Collection vs api-service: each side added its own last line.
  const lines = await page.locator('table.diff tr.add td.code, table.diff tr.del td.code').allInnerTexts();
  assert.deepEqual(lines, ["Every page ends with a 'Next steps' section.", 'Document every environment variable the service reads.']);
  assert.match(await page.locator('table.diff tr.gap').first().innerText(), /unchanged lines/);
  assert.ok(await page.locator('table.history tbody tr').count() >= 1);

  // Switch project and pair: web-app is merely behind; upstream ↔ collection shows the
  // collection's own edit.
  await page.locator('.project-chooser .chip', { hasText: 'web-app' }).click();
  await page.waitForURL(/project=.*web-app/);
  assert.equal(await page.locator('.card.tier-project h2 .badge').innerText(), 'outdated');
  await page.locator('.pair-selector .tab', { hasText: 'Upstream ↔ Collection' }).click();
  await page.waitForURL(/pair=uc/);
  assert.deepEqual(await page.locator('table.diff tr.add td.code').allInnerTexts(), ["Every page ends with a 'Next steps' section."]);
  assert.equal(await page.locator('table.diff tr.del').count(), 0);
  // Side by side: old on the left, new on the right.
  await page.locator('.view-toggle .tab', { hasText: 'Side by side' }).click();
  await page.waitForURL(/view=split/);
  assert.equal(await page.locator('table.diff.split td.code.add').first().innerText(), "Every page ends with a 'Next steps' section.");
  await page.screenshot({ path: join(OUTPUT, 'artifact-no-js.png'), fullPage: true });

  // Any two recorded versions, from the history's form (oldest → newest by default).
  await page.goto(new URL('/artifacts/skill%3Aapi-docs', env.server.url).href);
  await page.locator('form.compare-versions').getByRole('button', { name: 'Compare versions' }).click();
  await page.waitForURL(/from=[0-9a-f]+&to=[0-9a-f]+/);
  await page.locator('.versions-compared').waitFor();
  assert.match((await page.locator('table.diff tr.add td.code').allInnerTexts()).join('\n'), /pagination/);
  assert.equal(await page.locator('table.diff tr.del').count(), 0);
  await page.screenshot({ path: join(OUTPUT, 'versions-compared.png'), fullPage: true });
  await context.close();
});

test('hydrated: client-side navigation between artifacts, pairs and views, without reloads', async () => {
  const { context, page, errors } = await hydratedPage(env.browser, env.server);
  await page.evaluate(() => { window.__marker = 7; });

  await row(page, 'skill:api-docs').locator('a').first().click();
  await page.waitForURL(/\/artifacts\/skill%3Aapi-docs/);
  await page.locator('.card.tier-collection').waitFor();
  // The collection took upstream's v1.1 (a fast-forward): both projects are behind (the new
  // line is only in the collection, the left side), and the history has two versions, the
  // newer in the collection.
  await page.locator('table.diff').first().waitFor();
  assert.deepEqual(await page.locator('.file-list code').allInnerTexts(), ['SKILL.md']);
  assert.equal(await page.locator('.diff-legend').innerText(), '− only in collection · + only in project');
  assert.match((await page.locator('table.diff tr.del td.code').allInnerTexts()).join('\n'), /pagination/);
  assert.equal(await page.locator('table.diff tr.add').count(), 0);
  assert.equal(await page.locator('table.history tbody tr').count(), 2);
  assert.equal(await page.locator('table.history tbody tr.current').count(), 1);
  // The unchanged lines before the change are collapsed; "Show" opens them in place.
  const gap = page.locator('table.diff tr.gap').first();
  const [, hidden] = (await gap.innerText()).match(/(\d+) unchanged lines/);
  await gap.getByRole('button', { name: 'Show' }).click();
  await page.locator('table.diff tr.expanded').first().waitFor();
  assert.equal(await page.locator('table.diff tr.expanded').count(), Number(hidden));
  assert.deepEqual(await page.locator('table.diff tr.expanded').first().locator('td.ln').allInnerTexts(), ['1', '1']);
  assert.equal(await page.locator('table.diff tr.expanded td.code').first().innerText(), '---');

  await page.locator('.pair-selector .tab', { hasText: 'Upstream ↔ Collection' }).click();
  await page.waitForURL(/pair=uc/);
  await page.locator('.diff-empty h2', { hasText: 'No differences' }).waitFor();
  await page.locator('.pair-selector .tab', { hasText: 'Upstream ↔ Project' }).click();
  await page.waitForURL(/pair=up/);
  await page.locator('table.diff').first().waitFor();
  await page.locator('.view-toggle .tab', { hasText: 'Side by side' }).click();
  await page.locator('table.diff.split').waitFor();

  assert.equal(await page.evaluate(() => window.__marker), 7, 'a navigation reloaded the page');
  await page.screenshot({ path: join(OUTPUT, 'artifact-hydrated.png'), fullPage: true });
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
});
