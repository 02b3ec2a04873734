// The moderators' pages in a real browser (Debian's chromium driven by playwright-core): on
// /history a moderator reads people by name beside their ids, times as people say them,
// right-to-left titles right to left and secrets masked, filters, ticks drafts and rejects
// them, and lands back on the same filtered History with the outcome; on /agents each agent
// shows what stops it (paused, the kill switch, or nothing), and the kill switch does not turn
// off without a reason. Screenshots of both pages at desktop and phone widths are written to
// tests/artifacts/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, decide, postIntake, psql, samplePost, startServer } from '../lib/harness.mjs';
import { launchBrowser, newPage } from '../lib/browser.mjs';

const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const AWS_KEY = 'AKIAZ7QW3ERTY6UIOP4X';
const RTL_TITLE = '\u05e9\u05d7\u05e8\u05d5\u05e8 \u05d4\u05ea\u05d5\u05e8 \u05e0\u05ea\u05e7\u05e2';
let srv, browser;
const held = {};

/** Holds a post through the real intake API; returns its draft id. */
async function hold(patch) {
  const res = await postIntake(srv, samplePost(patch));
  assert.equal(res.status, 202, res.text);
  return res.json.draft_id;
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  srv = await startServer({ delivery: { workers: 0 } });
  const helper = { id: 'bot-1', name: 'helperbot' };
  const fixer = { id: 'bot-2', name: 'fixer' };
  const alice = { id: '1001', name: 'alice' };
  const bob = { id: '1002', name: 'bob' };
  held.pending = [];
  for (let i = 0; i < 3; i++) held.pending.push(await hold({ agent: helper, invoker: alice, post: { topic_id: String(600 + i), body: `Restart the **ingest** worker, attempt ${i}.` } }));
  held.secret = await hold({ agent: fixer, invoker: bob, post: { category: 'infra', title: `Rotate key ${AWS_KEY} now`, body: 'The old key leaked.' } });
  held.rtl = await hold({ agent: fixer, invoker: bob, post: { category: 'infra', title: RTL_TITLE, body: '\u05d4\u05e4\u05e2\u05d9\u05dc\u05d5 \u05de\u05d7\u05d3\u05e9 \u05d0\u05ea \u05d4\u05e9\u05d9\u05e8\u05d5\u05ea.' } });
  held.decided = await hold({ agent: fixer, invoker: alice, post: { topic_id: '700', body: 'Use `VACUUM ANALYZE` after the bulk load.' } });
  assert.equal((await decide(srv, held.decided, { decision: 'reject', reason: 'not now' })).status, 200);
  browser = await launchBrowser();
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    await srv?.stop();
  }
});

/** A moderator's page in a fresh browser context, signed in through dev sign-in. */
async function moderatorPage(viewport = DESKTOP) {
  const page = await newPage(browser, { viewport });
  await page.goto(`${srv.url}/auth/dev`);
  await page.fill('#dev-user-id', '4004');
  await page.fill('#dev-username', 'mona');
  await page.fill('#dev-groups', 'moderators');
  await page.click('button[type=submit]');
  await page.waitForURL((url) => !url.pathname.startsWith('/auth'));
  return page;
}

/** Screenshots of the current page at desktop and phone widths. */
async function screenshots(page, name) {
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-desktop.png`), fullPage: true });
  // on a desktop the tables fit: no column hides behind a scroll bar
  const hidden = await page.locator('.table-scroll').evaluateAll((boxes) => boxes.map((b) => b.scrollWidth - b.clientWidth));
  assert.ok(hidden.every((px) => px <= 0), `${name}: a table is ${Math.max(...hidden)}px too wide`);
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-phone.png`), fullPage: true });
  // nothing but the tables' own scroll boxes may be wider than a phone
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${name} is ${overflow}px wider than a phone`);
  await page.setViewportSize(DESKTOP);
}

describe('history in the browser', () => {
  it('reads people, times, directions and masked secrets as people expect', async () => {
    const page = await moderatorPage();
    await page.goto(`${srv.url}/history`);
    const row = (id) => page.locator('tr', { has: page.locator(`a[href="/drafts/${id}"]`) });
    const decided = row(held.decided);
    assert.equal((await decided.locator('td[data-label="Agent"]').innerText()).trim(), 'fixer (bot-2)');
    assert.equal((await decided.locator('td[data-label="Invoker"]').innerText()).trim(), 'alice (1001)');
    assert.match(await decided.locator('td[data-label="Decided by"]').innerText(), /^alice \(1001\)\s+just now$/);
    assert.match(await decided.locator('td[data-label="Decided by"] time').getAttribute('title'), /^\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC$/);
    assert.match(await decided.locator('td[data-label="Held"]').innerText(), /^(just now|1 min ago)\s+\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC$/);
    // the excerpt of a reply is plain text, not Markdown
    assert.equal(await decided.locator('.draft-link').innerText(), 'Use VACUUM ANALYZE after the bulk load.');
    // right-to-left text reads right to left; the secret is masked everywhere on the page
    assert.equal(await row(held.rtl).locator('.draft-link bdi').evaluate((el) => getComputedStyle(el).direction), 'rtl');
    assert.equal(await row(held.decided).locator('.draft-link bdi').evaluate((el) => getComputedStyle(el).direction), 'ltr');
    const text = await page.locator('body').innerText();
    assert.ok(!text.includes(AWS_KEY));
    assert.equal(await row(held.secret).locator('.draft-link').innerText(), 'Rotate key AKIA\u2022\u2022\u2022\u2022\u2022\u2022\u27e81\u27e9 now');
    assert.ok(!(await page.content()).includes(AWS_KEY));
    assert.deepEqual(page.incidents, []);
    await screenshots(page, 'history');
    await page.context().close();
  });

  it('rejects ticked drafts and returns to the same filtered History with the outcome', async () => {
    const page = await moderatorPage();
    await page.goto(`${srv.url}/history`);
    await page.selectOption('#filter-state', 'pending');
    await page.fill('#filter-agent', 'helperbot');
    await page.click('button:has-text("Show")');
    await page.waitForURL(/state=pending/);
    const boxes = page.locator('input[name="draft"]');
    assert.equal(await boxes.count(), 3);
    await page.check(`#select-${held.pending[0]}`);
    await page.check(`#select-${held.pending[1]}`);
    await page.fill('#bulk-reason', 'duplicate answers');
    await page.click('button:has-text("Reject selected")');
    await page.waitForURL(/done=rejected/);
    const url = new URL(page.url());
    assert.equal(url.pathname, '/history');
    assert.equal(url.searchParams.get('state'), 'pending');
    assert.equal(url.searchParams.get('agent'), 'helperbot');
    assert.equal((await page.locator('.notice[role="status"]').innerText()).trim(), 'Rejected 2 drafts.');
    // still the filtered list: the form keeps its values and only the untouched draft is left
    assert.equal(await page.locator('#filter-state').inputValue(), 'pending');
    assert.equal(await page.locator('#filter-agent').inputValue(), 'helperbot');
    assert.deepEqual(await page.locator('input[name="draft"]').evaluateAll((els) => els.map((e) => e.value)), [held.pending[2]]);
    assert.equal(await page.getByText('Back to your drafts').count(), 0);
    assert.equal(await psql(srv.database, `SELECT count(*) FROM drafts WHERE state = 'rejected' AND decided_by_id = '4004' AND decided_by_name = 'mona'`), '2');
    // a reload shows the page again and changes nothing
    await page.reload();
    assert.equal(await psql(srv.database, "SELECT count(*) FROM audit_events WHERE action = 'draft.reject' AND details->>'bulk' = 'true'"), '2');
    await page.context().close();
  });
});

describe('agents in the browser', () => {
  it('shows each agent stopped by what stops it, and needs a reason to turn the kill switch off', async () => {
    const page = await moderatorPage();
    await page.goto(`${srv.url}/agents`);
    const agentRow = (name) => page.locator('tbody tr', { has: page.locator('th', { hasText: name }) });
    assert.equal((await agentRow('helperbot').locator('th').innerText()).trim(), 'helperbot (bot-1)');
    assert.equal((await agentRow('helperbot').locator('.badge').innerText()).trim(), 'active');
    // pause one agent
    await agentRow('fixer').locator('input[name="reason"]').fill('posting keys');
    await agentRow('fixer').locator('button:has-text("Pause")').click();
    await page.waitForURL(/done=paused/);
    assert.equal((await agentRow('fixer').locator('.badge').innerText()).trim(), 'paused');
    assert.match(await agentRow('fixer').locator('td[data-label="Status"]').innerText(), /by mona \(4004\) just now \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC: posting keys$/);
    // stop everyone
    await page.fill('#killswitch-reason', 'incident 12');
    await page.check('#killswitch-confirm');
    await page.click('button:has-text("Stop all agents")');
    await page.waitForURL(/done=killswitch-on/);
    assert.equal((await agentRow('helperbot').locator('.badge').innerText()).trim(), 'stopped by the kill switch');
    assert.equal((await agentRow('fixer').locator('.badge').innerText()).trim(), 'paused');
    assert.match(await agentRow('fixer').locator('td[data-label="Status"]').innerText(), /and stopped by the kill switch/);
    assert.match(await page.locator('.killswitch-status').innerText(), /^Turned on by mona \(4004\) just now \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC: incident 12\.$/);
    assert.equal(await page.locator('.badge', { hasText: /^active$/ }).count(), 0);
    await screenshots(page, 'agents');
    // turning it off without a reason is not sent: the switch stays on
    await page.check('#killswitch-off-confirm');
    await page.click('button:has-text("Turn the kill switch off")');
    assert.equal(await page.locator('#killswitch-off-reason').evaluate((el) => el.validity.valueMissing), true);
    assert.equal(new URL(page.url()).searchParams.get('done'), 'killswitch-on');
    assert.equal(await psql(srv.database, 'SELECT engaged FROM killswitch'), 't');
    await page.fill('#killswitch-off-reason', 'resolved');
    await page.click('button:has-text("Turn the kill switch off")');
    await page.waitForURL(/done=killswitch-off/);
    assert.equal((await agentRow('helperbot').locator('.badge').innerText()).trim(), 'active');
    assert.match(await page.locator('.killswitch-status').innerText(), /^Last turned off by mona \(4004\) just now \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC: resolved\.$/);
    assert.deepEqual(page.incidents, []);
    await page.context().close();
  });
});
