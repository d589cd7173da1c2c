// No layout shift on hydration: each page is loaded fresh with JavaScript, hydrates, settles,
// and the browser's own layout-shift entries (the CLS metric's input) must add up to nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OUTPUT } from './server.mjs';
import { serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: true });

test('pages do not move when they hydrate', async () => {
  const context = await env.browser.newContext();
  // Recorded from the first paint on, before any of the page's scripts run.
  await context.addInitScript(() => {
    window.__shifts = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        window.__shifts.push({
          value: e.value,
          sources: (e.sources ?? []).map((s) => s.node?.className || s.node?.nodeName || '?'),
        });
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
  const page = await context.newPage();
  await page.goto(env.server.loginUrl);
  const paths = ['/', '/artifacts/agent%3Adocs-writer', '/artifacts/skill%3Aapi-docs?pair=uc&view=split', '/jobs'];
  for (const path of paths) {
    await page.goto(new URL(path, env.server.url).href, { waitUntil: 'load' });
    await page.locator('.app[data-hydrated="true"]').waitFor({ timeout: 15_000 });
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(300);
    const shifts = await page.evaluate(() => window.__shifts);
    const total = shifts.reduce((sum, s) => sum + s.value, 0);
    assert.equal(total, 0, `${path} shifted by ${total.toFixed(4)}: ${JSON.stringify(shifts)}`);
  }
  await page.screenshot({ path: join(OUTPUT, 'layout-jobs.png'), fullPage: true });
  await context.close();
});
