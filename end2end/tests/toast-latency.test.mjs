// Start-to-toast over 20 small jobs: from the POST that queues an applied job to its toast on
// screen (event stream, then render), measured in the page. A figure, not a pass/fail
// threshold: it is printed and written to end2end/output/toast-latency.json for the README.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { serverAndBrowser } from './browser.mjs';

const JOBS = 20;
const env = serverAndBrowser({ demo: true });

test(`start-to-toast over ${JOBS} small jobs`, async () => {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await page.goto(env.server.loginUrl);
  await page.locator('.app[data-hydrated="true"]').waitFor({ timeout: 15_000 });
  await page.locator('nav.mainnav a', { hasText: 'Jobs' }).click();
  await page.waitForURL(/\/jobs$/);
  await page.locator('.feed-state', { hasText: 'live' }).waitFor({ state: 'attached', timeout: 15_000 });
  const project = join(env.server.home, 'demo', 'projects', 'web-app');
  const times = await page.evaluate(async ({ jobs, project }) => {
    // A toast for job `id`: resolved by a MutationObserver the moment it is in the DOM.
    const toastFor = (id) => new Promise((resolve, reject) => {
      const selector = `.toast[data-job="${id}"]`;
      if (document.querySelector(selector)) { resolve(performance.now()); return; }
      const timer = setTimeout(() => { observer.disconnect(); reject(new Error(`no toast for job ${id}`)); }, 15_000);
      const observer = new MutationObserver(() => {
        if (document.querySelector(selector)) {
          const at = performance.now();
          clearTimeout(timer);
          observer.disconnect();
          resolve(at);
        }
      });
      observer.observe(document.body, { childList: true, subtree: true });
    });
    // Deploying the changelog where it is already up to date: a real, applied, quick job. Its
    // plan first (sync.preview_required is on): every apply below names it.
    const request = { direction: 'collection-to-project', project_path: project, artifacts: ['skill:changelog'] };
    const planned = await fetch('/api/v1/sync/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...request, dry_run: true }),
    });
    if (planned.status !== 202) throw new Error(`POST answered ${planned.status}: ${await planned.text()}`);
    const plan = (await planned.json()).id;
    for (;;) {
      const job = await (await fetch(`/api/v1/sync/jobs/${plan}`)).json();
      if (job.state !== 'queued' && job.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const out = [];
    for (let i = 0; i < jobs; i++) {
      const started = performance.now();
      const response = await fetch('/api/v1/sync/jobs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...request, dry_run: false, plan_job: plan }),
      });
      if (response.status !== 202) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
      const { id } = await response.json();
      out.push((await toastFor(id)) - started);
    }
    return out;
  }, { jobs: JOBS, project });
  assert.equal(times.length, JOBS);
  const sorted = [...times].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const figures = {
    jobs: JOBS,
    median_ms: +((sorted[JOBS / 2 - 1] + sorted[JOBS / 2]) / 2).toFixed(1),
    p90_ms: +pick(0.9).toFixed(1),
    min_ms: +sorted[0].toFixed(1),
    max_ms: +sorted[JOBS - 1].toFixed(1),
  };
  writeFileSync(join(OUTPUT, 'toast-latency.json'), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`start-to-toast over ${JOBS} jobs: median ${figures.median_ms} ms, p90 ${figures.p90_ms} ms, min ${figures.min_ms} ms, max ${figures.max_ms} ms`);
  await page.screenshot({ path: join(OUTPUT, 'toast-latency.png'), fullPage: true });
  await context.close();
});
