// The kill-switch in the browser: an artifact whose syncs failed three times in a row shows why
// on its page, its Sync dialog's apply is refused by the server, and Unlock lifts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { hydratedPage, serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: true });
const ID = 'skill:code-review';

test('three failed syncs lock an artifact; its page says why and Unlock lifts it', async () => {
  const { context, page, errors } = await hydratedPage(env.browser, env.server);
  const upstream = join(env.server.home, 'demo', 'upstream');
  // The upstream goes away; three applies of its plan fail (each plan was made while it was
  // there, so each apply is a real try).
  const failures = await page.evaluate(async ({ id }) => {
    const post = async (body) => {
      const r = await fetch('/api/v1/sync/jobs', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      if (r.status !== 202) throw new Error(`POST answered ${r.status}: ${await r.text()}`);
      return (await r.json()).id;
    };
    const end = async (job) => {
      for (;;) {
        const j = await (await fetch(`/api/v1/sync/jobs/${job}`)).json();
        if (!['queued', 'running'].includes(j.state)) return j;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const request = { direction: 'upstream-to-collection', artifacts: [id] };
    const plan = await end(await post({ ...request, dry_run: true }));
    window.__plan = plan.id;
    return plan.state;
  }, { id: ID });
  assert.equal(failures, 'success');
  renameSync(upstream, `${upstream}.away`);
  const states = await page.evaluate(async ({ id }) => {
    const out = [];
    for (let i = 0; i < 3; i++) {
      const r = await fetch('/api/v1/sync/jobs', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ direction: 'upstream-to-collection', artifacts: [id], dry_run: false, plan_job: window.__plan }),
      });
      const job = (await r.json()).id;
      for (;;) {
        const j = await (await fetch(`/api/v1/sync/jobs/${job}`)).json();
        if (!['queued', 'running'].includes(j.state)) { out.push(j.state); break; }
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    return out;
  }, { id: ID });
  assert.deepEqual(states, ['error', 'error', 'error']);
  renameSync(`${upstream}.away`, upstream);

  await page.goto(new URL(`/artifacts/${encodeURIComponent(ID)}`, env.server.url).href);
  await page.locator('.app[data-hydrated="true"]').waitFor({ timeout: 15_000 });
  const banner = page.locator('.sync-locked');
  await banner.waitFor({ timeout: 15_000 });
  assert.match(await banner.innerText(), /Syncs of this artifact are locked — its last 3 syncs failed/);
  assert.notEqual((await banner.locator('.last-error').innerText()).trim(), '');
  await page.screenshot({ path: join(OUTPUT, 'sync-locked.png'), fullPage: true });

  // Unlock: the banner goes without a reload, and the failures list is empty.
  await banner.getByRole('button', { name: 'Unlock' }).click();
  await page.locator('.sync-locked').waitFor({ state: 'detached', timeout: 15_000 });
  const listed = await page.evaluate(async () => (await (await fetch('/api/v1/sync/failures')).json()).artifacts.length);
  assert.equal(listed, 0);
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
});
