// Undeploy and remove from the artifact page: each asks first; a copy with local edits is
// refused until forced; remove is refused while the artifact is deployed until "also
// undeploy" is ticked; afterwards the files are gone and the pages say so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { hydratedPage, serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: true });

const project = (name, rel) => join(env.server.home, 'demo', 'projects', name, '.claude', rel);

test('undeploy an edited copy (forced), then remove from the collection with its other copy', async () => {
  const { context, page, errors } = await hydratedPage(env.browser, env.server);
  // web-app tuned fix-tests: a copy with local edits.
  await page.locator('tr[data-id="command:fix-tests"] .project-status', { hasText: 'web-app' }).click();
  await page.waitForURL(/project=.*web-app/);
  const manage = page.locator('section.manage');
  await manage.getByRole('button', { name: 'Undeploy from web-app…' }).click();
  await manage.getByRole('button', { name: 'Cancel' }).click();
  await manage.getByRole('button', { name: 'Undeploy from web-app…' }).click();
  await manage.getByRole('button', { name: 'Undeploy', exact: true }).click();
  await manage.locator('.remove-error').waitFor({ timeout: 15_000 });
  assert.match(await manage.locator('.remove-error').innerText(), /local edits/);
  assert.ok(existsSync(project('web-app', 'commands/fix-tests.md')));

  await manage.locator('input[name="force"]').check();
  await manage.getByRole('button', { name: 'Undeploy', exact: true }).click();
  await page.waitForURL((u) => !u.search.includes('web-app'), { timeout: 15_000 });
  assert.ok(!existsSync(project('web-app', 'commands/fix-tests.md')));
  // api-service still has it: remove is refused until "also undeploy" is ticked.
  await page.locator('section.manage').getByRole('button', { name: 'Remove from the collection…' }).click();
  const confirm = page.locator('section.manage .remove-confirm');
  await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
  await page.locator('section.manage .remove-error').waitFor({ timeout: 15_000 });
  assert.match(await page.locator('section.manage .remove-error').innerText(), /still deployed/);
  await page.screenshot({ path: join(OUTPUT, 'remove-refused.png'), fullPage: true });
  await confirm.locator('input[name="undeploy"]').check();
  await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/', { timeout: 15_000 });
  await page.locator('tr[data-id="skill:code-review"]').waitFor();
  assert.equal(await page.locator('tr[data-id="command:fix-tests"]').count(), 0);
  assert.ok(!existsSync(project('api-service', 'commands/fix-tests.md')));
  assert.ok(!existsSync(join(env.server.home, 'collections', 'default', 'commands', 'fix-tests.md')));
  // The two refusals above are 409 answers the page shows; nothing else went wrong.
  const unexpected = errors.filter((e) => !/status of 409/.test(e));
  assert.deepEqual(unexpected, [], `browser errors: ${unexpected.join('\n')}`);
  await context.close();
});
