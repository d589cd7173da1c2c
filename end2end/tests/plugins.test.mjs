// The Plugins page on a real marketplace (a git repository made here): the plugins with their
// counts and an unsupported source explained, one added with its button, and — after the
// marketplace moves on — the plugin's new command offered and applied as shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { OUTPUT } from './server.mjs';
import { hydratedPage, serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: true });

function marketplaceRepo() {
  const dir = mkdtempSync(join(tmpdir(), 'skillmeat-e2e-market-'));
  const write = (rel, text) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  const git = (...args) => execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], { cwd: dir, stdio: 'ignore' });
  write('.claude-plugin/marketplace.json', JSON.stringify({
    name: 'e2e-market',
    owner: { name: 'E2E' },
    plugins: [
      { name: 'e2e-kit', source: './e2e-kit', description: 'A kit for the test', version: '1.2.0' },
      { name: 'from-npm', source: { source: 'npm', package: 'x' } },
    ],
  }));
  write('e2e-kit/skills/e2e-review/SKILL.md', '---\nname: e2e-review\ndescription: Review.\n---\nReview.\n');
  write('e2e-kit/agents/e2e-planner.md', '---\nname: e2e-planner\ndescription: Plans.\n---\nPlan.\n');
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'v1');
  return { dir, write, git };
}

test('a marketplace is read, a plugin added, and its update applied as shown', async () => {
  const market = marketplaceRepo();
  const { context, page, errors } = await hydratedPage(env.browser, env.server);
  await page.locator('nav.mainnav a', { hasText: 'Plugins' }).click();
  await page.waitForURL(/\/plugins$/);
  await page.locator('input[name="spec"]').fill(market.dir);
  await page.locator('button', { hasText: 'Show plugins' }).click();
  const kit = page.locator('tr[data-plugin="e2e-kit"]');
  await kit.waitFor({ timeout: 15_000 });
  assert.match(await kit.innerText(), /1\.2\.0/);
  assert.match(await page.locator('tr[data-plugin="from-npm"]').innerText(), /not supported/);
  assert.equal(await page.locator('tr[data-plugin="from-npm"] button.add-plugin').isDisabled(), true);

  await kit.locator('button.add-plugin').click();
  await kit.locator('.plugin-added', { hasText: '2 added' }).waitFor({ timeout: 15_000 });
  await page.screenshot({ path: join(OUTPUT, 'plugins.png'), fullPage: true });

  // The marketplace moves on: the kit gains a command.
  market.write('e2e-kit/commands/e2e-ship.md', 'Ship it.\n');
  market.git('add', '-A');
  market.git('commit', '-q', '-m', 'v2');
  await page.reload();
  await page.locator('.app[data-hydrated="true"]').waitFor({ timeout: 15_000 });
  const offered = page.locator('.plugin-changes tr[data-change="added"]', { hasText: 'command:e2e-ship' });
  await offered.waitFor({ timeout: 15_000 });
  await page.locator('button.apply-plugin-changes').click();
  await page.locator('.notice.ok', { hasText: 'Applied 1 change' }).waitFor({ timeout: 15_000 });

  const listed = await page.evaluate(async () => (await (await fetch('/api/v1/artifacts')).json()).artifacts);
  const ship = listed.find((a) => a.id === 'command:e2e-ship');
  assert.equal(ship?.plugin, 'e2e-kit@e2e-market');
  // Grouped on the artifacts page too.
  await page.goto(new URL('/', env.server.url).toString());
  await page.locator('tr[data-id="command:e2e-ship"] .badge.plugin', { hasText: 'e2e-kit@e2e-market' }).waitFor({ timeout: 15_000 });
  assert.deepEqual(errors, []);
  await context.close();
});
