// Debian's chromium driven by playwright-core, set up one way for every browser test: headless
// as root with the flags DESIGN.md names, never a browser of playwright's own, and every wait
// bounded like the rest of the suite (WAIT_LIMIT_MS) rather than by playwright's 30 s.
import { chromium } from 'playwright-core';
import { WAIT_LIMIT_MS } from './harness.mjs';

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    timeout: WAIT_LIMIT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A fresh context (its own cookies), with the suite's bound on every wait. */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(WAIT_LIMIT_MS);
  return context;
}

/**
 * A page of a fresh context that records what must never happen on agentgate's pages: a script
 * error or a dialog (dismissed). A test asserts `page.incidents` is empty.
 */
export async function newPage(browser, options = {}) {
  const page = await (await newContext(browser, options)).newPage();
  page.incidents = [];
  page.on('pageerror', (error) => page.incidents.push(`pageerror: ${error.message}`));
  page.on('dialog', async (dialog) => {
    page.incidents.push(`dialog: ${dialog.message()}`);
    await dialog.dismiss();
  });
  return page;
}
