// An MCP server shared by a team, deployed into a project's `.mcp.json` beside the user's own
// server, then changed on both sides: the artifact page offers the pending merge, the conflict
// dialog lists the clashing key with its base, ours and theirs (a local secret never shown),
// and taking theirs writes only that key — the user's other edits and server stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { BIN, OUTPUT } from './server.mjs';
import { hydratedPage, serverAndBrowser } from './browser.mjs';

const env = serverAndBrowser({ demo: true });
const ID = 'mcp:github';
const LABEL = 'mcpServers.github › command';
const SECRET = 'ghp_0123456789abcdefghijABCDEFGHIJklmnop';

function teamRepo() {
  const dir = mkdtempSync(join(tmpdir(), 'skillmeat-e2e-team-'));
  const write = (rel, value) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), `${JSON.stringify(value, null, 2)}\n`);
  };
  const git = (...args) => execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.com', ...args], { cwd: dir, stdio: 'ignore' });
  const server = (command) => ({ command, args: ['-y', '@modelcontextprotocol/server-github'], env: { GITHUB_TOKEN: '${GITHUB_TOKEN}' } });
  write('mcp/github.json', server('npx'));
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'v1');
  return { dir, write, git, server };
}

// The CLI on the server's home; `ok` is the exit codes expected.
function cli(args, ok = [0]) {
  const r = spawnSync(BIN, ['--home', env.server.home, ...args], { encoding: 'utf8' });
  assert.ok(ok.includes(r.status), `skillmeat ${args.join(' ')} → ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('a clash in an MCP server is resolved per key in the conflict dialog', async () => {
  const team = teamRepo();
  const project = mkdtempSync(join(tmpdir(), 'skillmeat-e2e-mcp-project-'));
  const mcpFile = join(project, '.mcp.json');
  writeFileSync(mcpFile, '{\n  "mcpServers": {\n    "local-db": { "command": "pg-mcp" }\n  }\n}\n');
  cli(['add', `${team.dir}#mcp/github.json`]);
  cli(['deploy', ID, '--project', project]);
  // The user switches runner and adds a token of their own; the team switches runner too.
  const mine = JSON.parse(readFileSync(mcpFile, 'utf8'));
  mine.mcpServers.github.command = 'bunx';
  mine.mcpServers.github.env.GH_ENTERPRISE_TOKEN = SECRET;
  writeFileSync(mcpFile, JSON.stringify(mine, null, 2));
  team.write('mcp/github.json', team.server('pnpm'));
  team.git('commit', '-q', '-am', 'v2');
  cli(['update', ID, '-y']);
  cli(['sync', ID, '--direction', 'deploy', '--project', project, '-y'], [3]);
  const before = readFileSync(mcpFile, 'utf8');

  const { context, page, errors } = await hydratedPage(env.browser, env.server);
  await page.goto(new URL(`/artifacts/${encodeURIComponent(ID)}?project=${encodeURIComponent(project)}&pair=cp`, env.server.url).toString());
  await page.locator('.app[data-hydrated="true"]').waitFor({ timeout: 15_000 });
  await page.locator('.pending-merge', { hasText: 'A merge is waiting in project' }).waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'Resolve conflicts…' }).click();
  const modal = page.getByRole('dialog');
  const key = modal.locator(`.conflict-file[data-path="${LABEL}"]`);
  await key.waitFor({ timeout: 15_000 });
  assert.equal(await modal.locator('.conflict-file').count(), 1);
  assert.deepEqual(await modal.locator('.unresolved li').allInnerTexts(), [LABEL]);
  await modal.locator('h3', { hasText: 'Unresolved keys' }).waitFor();
  assert.equal(await modal.locator('.fork-button').count(), 0, 'keys are decided whole: no fork');
  await key.getByRole('button', { name: 'Ours' }).click();
  assert.equal(await key.locator('.file-text').innerText(), '"bunx"');
  await key.getByRole('button', { name: 'Theirs' }).click();
  assert.equal(await key.locator('.file-text').innerText(), '"pnpm"');
  await key.getByRole('button', { name: 'Base' }).click();
  assert.equal(await key.locator('.file-text').innerText(), '"npx"');
  assert.doesNotMatch(await modal.innerText(), /ghp_/);
  assert.equal(readFileSync(mcpFile, 'utf8'), before, 'reading the merge writes nothing');

  await key.locator('input[value="theirs"]').check();
  await page.screenshot({ path: join(OUTPUT, 'conflict-mcp-key.png'), fullPage: true });
  await modal.getByRole('button', { name: 'Resolve', exact: true }).click();
  const confirm = modal.locator('.confirm-overwrite');
  await confirm.waitFor();
  assert.match(await confirm.innerText(), /mcpServers\.github › command: take theirs/);
  await confirm.getByRole('button', { name: 'Yes, resolve' }).click();
  await modal.locator('.resolve-outcome').waitFor({ timeout: 15_000 });
  assert.match(await modal.locator('.resolve-outcome').innerText(), /applied/);
  await modal.getByRole('button', { name: 'Close' }).click();

  const after = JSON.parse(readFileSync(mcpFile, 'utf8'));
  assert.equal(after.mcpServers.github.command, 'pnpm');
  assert.equal(after.mcpServers.github.env.GH_ENTERPRISE_TOKEN, SECRET, 'the local edit stays');
  assert.deepEqual(after.mcpServers['local-db'], { command: 'pg-mcp' }, "the user's server stays");
  assert.equal(await page.locator('.pending-merge').count(), 0);
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
});
