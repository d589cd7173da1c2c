// Launches Debian's Chromium through playwright-core (never a downloaded browser).
import { before, after } from 'node:test';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startServer, OUTPUT } from './server.mjs';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

// A new page in a new context, logged in to `server` and hydrated, recording the browser's
// errors (uncaught exceptions and console errors) in `errors`.
export async function hydratedPage(browser, server, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(server.loginUrl);
  await page.locator('.app[data-hydrated="true"]').waitFor({ timeout: 15_000 });
  return { context, page, errors };
}

// Starts a server (with `serverOptions`) and a browser before the file's tests and stops them
// after; the returned object's `server` and `browser` are set once the `before` hook has run.
export function serverAndBrowser(serverOptions) {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    env.server = await startServer(serverOptions);
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}
