// "Update everywhere": one update job over every registered project (on the artifacts page) or
// one artifact in every project it is deployed in (on its page). The plan is grouped by place —
// the collection's upstream steps, then each project — and written nowhere; applying it runs
// exactly that plan, and what each project's step did is shown and is what is on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { hydratedPage, serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: true });

const projects = ['api-service', 'web-app'];
const copy = (project, rel) => readFileSync(join(env.server.home, 'demo', 'projects', project, '.claude', rel), 'utf8');
const collection = (rel) => readFileSync(join(env.server.home, 'collections', 'default', rel), 'utf8');
// Every file of a folder, by path, as one comparable text.
const tree = (dir) => JSON.stringify(readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .map((e) => [join(e.parentPath, e.name).slice(dir.length), readFileSync(join(e.parentPath, e.name), 'utf8')])
  .sort());
const copyTree = (project, rel) => tree(join(env.server.home, 'demo', 'projects', project, '.claude', rel));
const collectionTree = (rel) => tree(join(env.server.home, 'collections', 'default', rel));

// The badge of `id` in the group of `place` (the collection: '', else a project's folder name).
function badge(panel, place, id) {
  const group = place === ''
    ? panel.locator('.fleet-group[data-project=""]')
    : panel.locator(`.fleet-group[data-project$="/${place}"]`);
  return group.locator(`li[data-id="${id}"] .badge.action`);
}

test('on an artifact page: this artifact from its upstream and into every project it is deployed in', async () => {
  const { context, page, errors } = await hydratedPage(env.browser, env.server);
  await page.goto(new URL('/artifacts/skill%3Acode-review', env.server.url).href);
  await page.locator('.app[data-hydrated="true"]').waitFor({ timeout: 15_000 });
  const before = projects.map((p) => copyTree(p, 'skills/code-review'));

  await page.getByRole('button', { name: 'Update everywhere…' }).click();
  const plan = page.locator('.fleet-plan');
  await plan.waitFor({ timeout: 30_000 });
  assert.match(await plan.locator('p strong').innerText(),
    /^Plan \(job #\d+\): 3 step\(s\) would change things, in the collection and 2 project\(s\) — 3 planned\.$/);
  // One group per place, the collection first, and only this artifact in them.
  const heads = await plan.locator('.fleet-group h3').allInnerTexts();
  assert.deepEqual(heads.map((h) => h.trim()), ['Collection, from upstreams', 'Project api-service', 'Project web-app']);
  assert.equal(await plan.locator('li').count(), 3);
  for (const place of ['', ...projects]) {
    assert.equal((await badge(plan, place, 'skill:code-review').innerText()).trim(), 'planned', place);
  }
  assert.deepEqual(projects.map((p) => copyTree(p, 'skills/code-review')), before, 'the plan wrote nothing');
  await page.screenshot({ path: join(OUTPUT, 'update-everywhere-artifact-plan.png'), fullPage: true });

  await plan.getByRole('button', { name: 'Apply this plan' }).click();
  const summary = page.locator('.fleet-summary');
  await summary.waitFor({ timeout: 30_000 });
  assert.match(await summary.locator('p').first().innerText(),
    /^Update everywhere \(job #\d+\): success — 3 step\(s\) in the collection and 2 project\(s\), 0 need attention\.$/);
  for (const place of ['', ...projects]) {
    assert.equal((await badge(summary, place, 'skill:code-review').innerText()).trim(), 'updated', place);
  }
  // What it says it did is on disk: every project has the collection's new version.
  const updated = collectionTree('skills/code-review');
  for (const p of projects) {
    assert.equal(copyTree(p, 'skills/code-review'), updated, p);
    assert.notEqual(updated, before[projects.indexOf(p)]);
  }
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
});

test('on the artifacts page: every artifact everywhere, conflicts left pending in their project and the rest applied', async () => {
  const { context, page, errors } = await hydratedPage(env.browser, env.server);
  await page.getByRole('button', { name: 'Update everywhere…' }).click();
  const plan = page.locator('.fleet-plan');
  await plan.waitFor({ timeout: 30_000 });
  const head = await plan.locator('p strong').innerText();
  assert.match(head, /^Plan \(job #\d+\): \d+ step\(s\) would change things, in the collection and 2 project\(s\) — /);
  // code-review was updated everywhere by the first test: nothing left for it anywhere.
  assert.equal(await plan.locator('li[data-id="skill:code-review"]').count(), 0);
  assert.equal((await badge(plan, '', 'command:lint').innerText()).trim(), 'planned');
  assert.equal((await badge(plan, '', 'skill:incident-response').innerText()).trim(), 'conflict');
  assert.equal((await badge(plan, 'api-service', 'agent:docs-writer').innerText()).trim(), 'conflict');
  assert.equal((await badge(plan, 'api-service', 'agent:reviewer').innerText()).trim(), 'diverged');
  assert.equal((await badge(plan, 'web-app', 'agent:reviewer').innerText()).trim(), 'planned');
  assert.match(await plan.innerText(), /would need you afterwards: a conflict waits as a pending merge in its project/);
  const docsWriter = copy('api-service', 'agents/docs-writer.md');
  await page.screenshot({ path: join(OUTPUT, 'update-everywhere-plan.png'), fullPage: true });

  await plan.getByRole('button', { name: 'Apply this plan' }).click();
  const summary = page.locator('.fleet-summary');
  await summary.waitFor({ timeout: 30_000 });
  // A divergence cannot be applied with the auto strategy: the job ends in error, the rest done.
  assert.match(await summary.locator('p').first().innerText(), /^Update everywhere \(job #\d+\): error — /);
  assert.equal((await badge(summary, 'web-app', 'agent:reviewer').innerText()).trim(), 'updated');
  assert.equal((await badge(summary, 'api-service', 'agent:docs-writer').innerText()).trim(), 'conflict');
  assert.equal((await badge(summary, 'api-service', 'agent:reviewer').innerText()).trim(), 'diverged');
  assert.equal((await badge(summary, '', 'command:lint').innerText()).trim(), 'updated');
  assert.equal(copy('web-app', 'agents/reviewer.md'), collection('agents/reviewer.md'));
  assert.equal(copy('api-service', 'agents/docs-writer.md'), docsWriter, 'a conflict leaves the copy as it was');
  await page.screenshot({ path: join(OUTPUT, 'update-everywhere.png'), fullPage: true });
  // Each line leads to the artifact in that project.
  await summary.locator('.fleet-group[data-project$="/api-service"] li[data-id="agent:docs-writer"] a').click();
  await page.locator('.pending-merge').waitFor({ timeout: 15_000 });
  assert.match(page.url(), /project=.*api-service/);
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
});
