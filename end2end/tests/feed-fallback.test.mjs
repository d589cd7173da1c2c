// The live feed's fallback: when the event stream cannot be reached (here every request to it
// fails), the page says it is polling and still shows a finished job's toast, from the job
// list; once the stream answers again, the page goes back to live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: true });

test('a dropped event stream falls back to polling, and toasts still come', async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  // The stream is down from the start: every connection to it fails.
  await page.route('**/api/v1/events', (route) => route.abort('connectionfailed'));
  await page.goto(env.server.loginUrl);
  await page.locator('.app[data-hydrated="true"]').waitFor({ timeout: 15_000 });
  await page.locator('.feed-state', { hasText: 'polling' }).waitFor({ state: 'attached', timeout: 15_000 });

  // An applied job queued from outside the page (plan first: previews are required).
  const project = join(env.server.home, 'demo', 'projects', 'web-app');
  const id = await page.evaluate(async ({ project }) => {
    const request = { direction: 'collection-to-project', project_path: project, artifacts: ['skill:changelog'] };
    const post = async (body) => {
      const r = await fetch('/api/v1/sync/jobs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (r.status !== 202) throw new Error(`POST answered ${r.status}: ${await r.text()}`);
      return (await r.json()).id;
    };
    const plan = await post({ ...request, dry_run: true });
    for (;;) {
      const job = await (await fetch(`/api/v1/sync/jobs/${plan}`)).json();
      if (job.state !== 'queued' && job.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return post({ ...request, dry_run: false, plan_job: plan });
  }, { project });
  // Polling backs off to at most 10 s between looks: the toast comes within that.
  const toast = page.locator(`.toast[data-job="${id}"]`);
  await toast.waitFor({ timeout: 15_000 });
  assert.match(await toast.innerText(), /Synced skill:changelog/);
  await page.screenshot({ path: join(OUTPUT, 'feed-fallback.png'), fullPage: true });

  // The stream is back: the browser reconnects by itself and the page says live again.
  await page.unroute('**/api/v1/events');
  await page.locator('.feed-state', { hasText: 'live' }).waitFor({ state: 'attached', timeout: 20_000 });
  await context.close();
});
