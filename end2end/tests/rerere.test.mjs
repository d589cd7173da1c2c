// One resolution, many projects: the same conflict in two projects, resolved in the first with
// the CLI; the second's conflict dialog says it was resolved the same way there, and one
// button takes that resolution and applies it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { BIN, OUTPUT } from './server.mjs';
import { hydratedPage, serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: false });
const ID = 'command:ship';

function cli(args, ok = [0]) {
  const r = spawnSync(BIN, ['--home', env.server.home, ...args], { encoding: 'utf8' });
  assert.ok(ok.includes(r.status), `skillmeat ${args.join(' ')} → ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('a conflict resolved in one project is taken in another with one button', async () => {
  const up = mkdtempSync(join(tmpdir(), 'skillmeat-e2e-rerere-up-'));
  mkdirSync(join(up, 'commands'));
  const base = '# Ship\n\nBuild.\nTest.\nRelease.\n';
  writeFileSync(join(up, 'commands/ship.md'), base);
  const git = (...args) => execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], { cwd: up, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'v1');
  cli(['add', `${up}#commands/ship.md`]);
  const projects = ['one', 'two'].map((n) => mkdtempSync(join(tmpdir(), `skillmeat-e2e-rerere-${n}-`)));
  for (const p of projects) {
    cli(['deploy', ID, '--project', p]);
    writeFileSync(join(p, '.claude/commands/ship.md'), base.replace('Test.', 'Test, locally.'));
  }
  writeFileSync(join(env.server.home, 'collections/default/commands/ship.md'), base.replace('Test.', 'Test, the team way.'));
  for (const p of projects) {
    cli(['sync', ID, '--direction', 'deploy', '--project', p, '-y'], [3]);
  }
  cli(['resolve', ID, '--project', projects[0], '--file', 'ship.md', '--theirs']);
  cli(['resolve', ID, '--project', projects[0], '--continue', '-y']);
  const resolved = readFileSync(join(projects[0], '.claude/commands/ship.md'), 'utf8');

  const { context, page, errors } = await hydratedPage(env.browser, env.server);
  await page.goto(new URL(`/artifacts/${encodeURIComponent(ID)}?project=${encodeURIComponent(projects[1])}&pair=cp`, env.server.url).toString());
  await page.locator('.app[data-hydrated="true"]').waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'Resolve conflicts…' }).click();
  const modal = page.getByRole('dialog');
  const file = modal.locator('.conflict-file[data-path="ship.md"]');
  await file.waitFor({ timeout: 15_000 });
  assert.match(await file.locator('.badge.reusable').innerText(), new RegExp(`resolved the same way in ${basename(projects[0])}`));
  await page.screenshot({ path: join(OUTPUT, 'conflict-reuse.png'), fullPage: true });
  await modal.getByRole('button', { name: 'Take the same resolution' }).click();
  await modal.locator('.resolve-outcome').waitFor({ timeout: 15_000 });
  assert.match(await modal.locator('.resolve-outcome').innerText(), /applied/);
  assert.equal(readFileSync(join(projects[1], '.claude/commands/ship.md'), 'utf8'), resolved);
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
});
