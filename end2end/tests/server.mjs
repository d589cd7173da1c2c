// Starts a real `skillmeat serve` on a free port with a fresh home, and stops it afterwards.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const BIN = process.env.SKILLMEAT_BIN ?? join(root, 'target', 'release', 'skillmeat');
export const SITE_ROOT = process.env.SKILLMEAT_SITE_ROOT ?? join(root, 'target', 'site');
export const OUTPUT = join(root, 'end2end', 'output');

// `demo: true` fills the home with `skillmeat demo` first (every drift status occurs).
export async function startServer({ demo = false } = {}) {
  const home = mkdtempSync(join(tmpdir(), 'skillmeat-e2e-home-'));
  if (demo) {
    execFileSync(BIN, ['--home', home, 'demo'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const proc = spawn(BIN, ['serve', '--port', '0', '--home', home, '--site-root', SITE_ROOT], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SKILLMEAT_LOG: 'warn' },
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const { url, loginUrl } = await new Promise((resolveUrl, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`server printed no URL in 20 s\n${stdout}\n${stderr}`)), 20_000);
    proc.stdout.on('data', (d) => {
      stdout += d;
      const m = stdout.match(/running at (http:\/\/\S+)/);
      const login = stdout.match(/Log in once in your browser: (http:\/\/\S+)/);
      if (m && login) { clearTimeout(timer); resolveUrl({ url: m[1], loginUrl: login[1] }); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}\n${stderr}`)); });
  });
  // The URL is printed once the socket is bound; poll until the app answers anyway.
  for (let i = 0; i < 50; i++) {
    try { if ((await fetch(new URL('/healthz', url))).ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    loginUrl,
    home,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}
