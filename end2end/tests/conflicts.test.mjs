// The conflict modal: sync an artifact both sides changed, get the pending merge, and resolve
// it in the browser — file by file (ours / theirs), and hunk by hunk (theirs / both, with the
// strategy for the rest) — until nothing is unresolved and the status is synced; the timeline
// then shows the conflict and how each file was settled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, OUTPUT } from './server.mjs';
import { launch, hydratedPage } from './browser.mjs';

const ID = 'skill:incident-response';
let browser;
let server;

before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  browser = await launch();
});
after(async () => { await browser?.close(); });

// Each test produces its own conflict, so each gets a fresh demo home.
async function withServer(body) {
  server = await startServer({ demo: true });
  try {
    await body();
  } finally {
    await server.stop();
  }
}

function collectionFile(path) {
  return readFileSync(join(server.home, 'collections', 'default', 'skills', 'incident-response', path), 'utf8');
}

// Syncs upstream into the collection (both changed the runbook and its description) and opens
// the conflict modal on the pending merge that leaves.
async function conflictModal() {
  const { context, page, errors } = await hydratedPage(browser, server);
  await page.locator(`tr[data-id="${ID}"] a`).first().click();
  await page.locator('.pair-selector .tab[aria-current="true"]', { hasText: 'Upstream ↔ Collection' }).waitFor();

  await page.getByRole('button', { name: 'Sync…' }).click();
  const sync = page.getByRole('dialog');
  await sync.getByRole('button', { name: 'Preview' }).click();
  await sync.locator('.plan-outcome').waitFor({ timeout: 15_000 });
  assert.equal(await sync.locator('.plan-outcome').innerText(), 'conflict');
  await sync.getByRole('button', { name: 'Apply' }).click();
  await page.locator('.toast', { hasText: `Conflict in ${ID}` }).waitFor({ timeout: 15_000 });
  // The page refreshes on its own and offers the merge.
  await page.locator('.pending-merge', { hasText: 'A merge is waiting in the collection' }).waitFor();
  await page.getByRole('button', { name: 'Resolve conflicts…' }).click();
  const modal = page.getByRole('dialog');
  await modal.locator('.conflict-file').first().waitFor({ timeout: 15_000 });
  assert.deepEqual(
    await modal.locator('.conflict-file').evaluateAll((els) => els.map((e) => e.dataset.path)),
    ['SKILL.md', 'runbook.md'],
  );
  assert.deepEqual(await modal.locator('.unresolved li').allInnerTexts(), ['SKILL.md', 'runbook.md']);
  return { context, page, modal, errors };
}

// Resolves, checks nothing is left, and that upstream ↔ collection reads `status` without a
// reload: `synced` when the result is upstream's, `modified` when the collection kept edits of
// its own (it is ahead of upstream then, which is what DESIGN §4 calls modified).
// Whole files kept from one side (`overwrites`, as the dialog words them) are confirmed a
// second time first; Go back keeps every choice.
async function resolveAndCheckStatus(page, modal, status, overwrites) {
  await modal.getByRole('button', { name: 'Resolve', exact: true }).click();
  const confirm = modal.locator('.confirm-overwrite');
  await confirm.waitFor();
  assert.deepEqual(await confirm.locator('li').allInnerTexts(), overwrites);
  await confirm.getByRole('button', { name: 'Go back' }).click();
  assert.equal(await modal.locator('.confirm-overwrite').count(), 0);
  await modal.getByRole('button', { name: 'Resolve', exact: true }).click();
  await confirm.getByRole('button', { name: 'Yes, resolve' }).click();
  await modal.locator('.resolve-outcome').waitFor({ timeout: 15_000 });
  assert.match(await modal.locator('.resolve-outcome').innerText(), /applied/);
  assert.equal(await modal.locator('.unresolved li').count(), 0);
  await modal.locator('.unresolved-none').waitFor();
  await modal.getByRole('button', { name: 'Close' }).click();
  // No conflict any more; the banner is gone.
  await page.locator('.card.tier-collection h2 .badge', { hasText: status }).waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('.pending-merge').count(), 0);
}

test('resolve a conflict file by file: one ours, one theirs; nothing left unresolved', () => withServer(async () => {
  const { context, page, modal, errors } = await conflictModal();
  const skill = modal.locator('.conflict-file[data-path="SKILL.md"]');
  const runbook = modal.locator('.conflict-file[data-path="runbook.md"]');
  // Every version of a file can be read before deciding.
  await runbook.getByRole('button', { name: 'Theirs' }).click();
  assert.match(await runbook.locator('.file-text').innerText(), /incident commander/);
  await runbook.getByRole('button', { name: 'Base' }).click();
  assert.doesNotMatch(await runbook.locator('.file-text').innerText(), /incident commander|PagerDuty/);
  await runbook.getByRole('button', { name: 'Merged' }).click();
  assert.match(await runbook.locator('.file-text').innerText(), /^<<<<<<< collection/m);

  await skill.locator('input[value="ours"]').check();
  await runbook.locator('input[value="theirs"]').check();
  await page.screenshot({ path: join(OUTPUT, 'conflict-modal.png'), fullPage: true });
  await resolveAndCheckStatus(page, modal, 'modified', [
    "SKILL.md: keep ours (collection) — the upstream's changes to it are dropped",
    "runbook.md: take theirs (upstream) — the collection's edits to it are dropped",
  ]);
  assert.match(collectionFile('SKILL.md'), /to postmortem, for production services\./);
  const runbookText = collectionFile('runbook.md');
  assert.match(runbookText, /and the incident commander\./);
  assert.match(runbookText, /every 20 minutes/);
  assert.doesNotMatch(runbookText, /PagerDuty|every hour|<<<<<<<|>>>>>>>/);
  await page.screenshot({ path: join(OUTPUT, 'conflict-resolved.png'), fullPage: true });

  // The artifacts page agrees, without a reload.
  await page.locator('nav.mainnav a', { hasText: 'Artifacts' }).click();
  await page.locator(`tr[data-id="${ID}"] td:nth-child(4)`, { hasText: 'modified' }).waitFor();
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
}));

test('resolve by hunk, the strategy for the other file: nothing unresolved, and synced', () => withServer(async () => {
  const { context, page, modal, errors } = await conflictModal();
  const runbook = modal.locator('.conflict-file[data-path="runbook.md"]');
  await runbook.locator('input[value="hunks"]').check();
  const hunks = runbook.locator('.hunk');
  assert.equal(await hunks.count(), 2);
  assert.match(await hunks.nth(0).locator('.hunk-side.ours').innerText(), /PagerDuty/);
  assert.match(await hunks.nth(0).locator('.hunk-side.theirs').innerText(), /incident commander/);
  assert.match(await hunks.nth(1).locator('.hunk-side.ours').innerText(), /every hour/);
  // Undecided hunks keep the Resolve button off, and say why.
  assert.equal(await modal.getByRole('button', { name: 'Resolve', exact: true }).isDisabled(), true);
  assert.match(await modal.locator('.resolve-problem').innerText(), /every hunk of runbook\.md/);
  await hunks.nth(0).locator('input[value="theirs"]').check();
  await hunks.nth(1).locator('input[value="both"]').check();
  await hunks.nth(1).locator('input[value="theirs"]').check();
  assert.equal(await modal.getByRole('button', { name: 'Resolve', exact: true }).isDisabled(), false);
  await modal.locator('select[name="strategy"]').selectOption('theirs');
  await page.screenshot({ path: join(OUTPUT, 'conflict-hunks.png'), fullPage: true });
  // Upstream's side everywhere: the collection ends equal to upstream, so synced.
  // Only SKILL.md is settled whole (by the strategy); runbook.md was decided hunk by hunk.
  await resolveAndCheckStatus(page, modal, 'synced', [
    "SKILL.md: take theirs (upstream) — the collection's edits to it are dropped",
  ]);

  const runbookText = collectionFile('runbook.md');
  assert.match(runbookText, /Page the on-call owner of the failing service and the incident commander\.\n/);
  assert.match(runbookText, /Post a status update every 20 minutes, even when nothing changed\.\n/);
  assert.doesNotMatch(runbookText, /PagerDuty|every hour|<<<<<<<|=======|>>>>>>>/);
  // SKILL.md took the strategy: upstream's description.
  assert.match(collectionFile('SKILL.md'), /to a blameless postmortem\./);
  // The timeline tells it: the conflict, then its resolution with how each file was settled.
  const latest = page.locator('ol.timeline li.event').first();
  await latest.locator('.badge.event-kind', { hasText: 'resolve' }).waitFor({ timeout: 15_000 });
  assert.match(await latest.locator('li.conflicted', { hasText: 'runbook.md' }).innerText(), /hunks/);
  assert.match(await latest.locator('li.conflicted', { hasText: 'SKILL.md' }).innerText(), /theirs/);
  assert.equal(await page.locator('ol.timeline li.event').nth(1).locator('.badge.event-kind').innerText(), 'conflict');
  assert.match(await page.locator('.conflict-history').innerText(), /1 conflicted merge — 1 resolved, 0 aborted, 0 pending/);
  await page.locator('#timeline').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(OUTPUT, 'timeline.png'), fullPage: true });
  await page.locator('nav.mainnav a', { hasText: 'Artifacts' }).click();
  await page.locator(`tr[data-id="${ID}"] td:nth-child(4)`, { hasText: 'synced' }).waitFor();
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
}));

test('keep both: the merge is settled by a fork, which appears beside the original', () => withServer(async () => {
  const { context, page, modal, errors } = await conflictModal();
  const oursBefore = collectionFile('runbook.md');
  await modal.getByRole('button', { name: 'Keep both (fork)' }).click();
  await modal.locator('.resolve-outcome').waitFor({ timeout: 15_000 });
  assert.match(await modal.locator('.resolve-outcome').innerText(), /Kept both: .* skill:incident-response-fork\./);
  await modal.locator('.unresolved-none').waitFor();
  await page.screenshot({ path: join(OUTPUT, 'conflict-forked.png'), fullPage: true });
  await modal.getByRole('button', { name: 'Close' }).click();
  assert.equal(await page.locator('.pending-merge').count(), 0);
  // Ours is untouched; theirs is the fork, under its own name.
  assert.equal(collectionFile('runbook.md'), oursBefore);
  const fork = readFileSync(join(server.home, 'collections', 'default', 'skills', 'incident-response-fork', 'SKILL.md'), 'utf8');
  assert.match(fork, /^name: incident-response-fork$/m);
  assert.match(fork, /to a blameless postmortem\./);
  // The timeline says how it was settled, and the fork is listed with the original's upstream.
  const latest = page.locator('ol.timeline li.event').first();
  await latest.locator('.badge.event-kind', { hasText: 'resolve' }).waitFor({ timeout: 15_000 });
  assert.match(await latest.locator('li.conflicted', { hasText: 'runbook.md' }).innerText(), /fork/);
  await page.locator('nav.mainnav a', { hasText: 'Artifacts' }).click();
  await page.locator(`tr[data-id="${ID}-fork"]`).waitFor({ timeout: 15_000 });
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
}));

// Moves the detection time of every pending merge in the home back by `days`.
function ageMerges(days) {
  const root = join(server.home, 'pending');
  const stamp = new Date(Date.now() - days * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
  for (const dir of readdirSync(root)) {
    const file = join(root, dir, 'merge.toml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(/^detected_at = .*$/m, `detected_at = "${stamp}"`));
  }
}

test('an abandoned merge: listed with its age, flagged once stale, and aborted from the dialog', () => withServer(async () => {
  const { context, page, modal, errors } = await conflictModal();
  await modal.getByRole('button', { name: 'Close' }).click();
  // Fresh: listed on the artifacts page, no banner.
  await page.locator('nav.mainnav a', { hasText: 'Artifacts' }).click();
  const list = page.locator('details.pending-merges');
  await list.locator('summary', { hasText: 'Pending merges (1)' }).waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('.stale-merges').count(), 0);
  assert.equal(await list.evaluate((e) => e.open), false, 'folded while nothing is stale');

  // Ten days later (the default conflicts.stale_after is 7 days) it is flagged.
  ageMerges(10);
  await page.reload();
  await page.locator('.stale-merges', { hasText: '1 pending merge looks abandoned' }).waitFor({ timeout: 15_000 });
  const row = list.locator(`tr[data-merge="${ID}"]`);
  assert.match(await row.innerText(), /10 d\s+stale/);
  assert.match(await row.innerText(), /collection/);
  assert.equal(await list.evaluate((e) => e.open), true, 'unfolded once something is stale');
  // The summary, then the table: nothing stray between them.
  const lines = (await list.innerText()).split('\n').filter((l) => l.trim());
  assert.equal(lines[0], 'Pending merges (1)');
  assert.match(lines[1], /^Artifact\s+Where\s+Direction\s+Age\s+Files$/);
  await page.screenshot({ path: join(OUTPUT, 'stale-merges.png'), fullPage: true });

  // Abort it from the conflict dialog, which asks once more first.
  await row.locator('a').click();
  await page.getByRole('button', { name: 'Resolve conflicts…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.locator('.conflict-file').first().waitFor({ timeout: 15_000 });
  const before = collectionFile('runbook.md');
  await dialog.getByRole('button', { name: 'Abort merge…' }).click();
  await dialog.locator('.confirm-abort').waitFor();
  await dialog.getByRole('button', { name: 'Keep it' }).click();
  assert.equal(await dialog.locator('.confirm-abort').count(), 0);
  await dialog.getByRole('button', { name: 'Abort merge…' }).click();
  await dialog.getByRole('button', { name: 'Yes, abort the merge' }).click();
  await dialog.getByText('The copy is as it was before the merge').waitFor({ timeout: 15_000 });
  await dialog.getByRole('button', { name: 'Close' }).click();
  assert.equal(await page.locator('.pending-merge').count(), 0);
  assert.equal(collectionFile('runbook.md'), before);
  // The artifacts page has nothing pending any more.
  await page.locator('nav.mainnav a', { hasText: 'Artifacts' }).click();
  await page.locator('table.artifacts').first().waitFor();
  assert.equal(await page.locator('details.pending-merges').count(), 0);
  assert.equal(await page.locator('.stale-merges').count(), 0);
  assert.deepEqual(errors, [], `browser errors: ${errors.join('\n')}`);
  await context.close();
}));
