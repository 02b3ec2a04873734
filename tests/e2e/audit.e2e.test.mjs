// /audit in a real browser (Debian's chromium driven by playwright-core): a moderator reads what
// each event changed (an edit's title and changed lines behind a disclosure), filters by action
// with the form, pages to older events, and the page fits a phone's width without sideways
// scrolling. Screenshots at desktop and phone widths go to tests/artifacts/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, decide, postIntake, psql, samplePost, startServer } from '../lib/harness.mjs';
import { launchBrowser, newPage } from '../lib/browser.mjs';
import { devSignIn } from '../lib/web.mjs';

const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
const WIDTHS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };
let srv, browser, moderatorCookie, draftId;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  srv = await startServer({ delivery: { workers: 0 } });
  const alice = await devSignIn(srv, { user_id: '1001', username: 'alice', name: 'Alice Engineer' });
  const mona = await devSignIn(srv, { user_id: '4004', username: 'mona', groups: 'moderators' });
  moderatorCookie = mona.cookie;
  // older events, enough for a second page
  await psql(srv.database, `INSERT INTO audit_events (actor, action, forum, details)
    SELECT 'cli:root', 'agent.pause', 'eng', jsonb_build_object('agent_id', 'bot-' || n, 'reason', 'drill ' || n) FROM generate_series(1, 60) n`);
  const held = await postIntake(srv, samplePost({ post: { category: 'infra', title: 'Disk alerts on ingest-3', body: 'The disk on ingest-3 is full.\n\nRestart the **ingest** worker, then clear /var/tmp.\n\nexport AWS_ACCESS_KEY_ID=AKIAZ7QW3ERTY6UIOP4X' } }));
  assert.equal(held.status, 202, held.text);
  draftId = held.json.draft_id;
  const edit = await alice.post(`/drafts/${draftId}/edit`, { revision: '1', title: 'Disk full on ingest-3', body: 'The disk on ingest-3 is full.\n\nRestart the **ingest** worker, then clear /var/tmp and /srv/cache.\n\nexport AWS_ACCESS_KEY_ID=AKIAZ7QW3ERTY6UIOP4X' });
  assert.equal(edit.status, 303, edit.text);
  for (let i = 0; i < 3; i++) {
    const other = await postIntake(srv, samplePost({ agent: { id: `bot-${i}`, name: `helper ${i}` }, post: { topic_id: String(700 + i), body: `Reply ${i}` } }));
    assert.equal((await decide(srv, other.json.draft_id, i === 1 ? { decision: 'reject', reason: 'Wrong topic: ask in #infra' } : {})).status, 200);
  }
  assert.equal((await mona.get(`/drafts/${draftId}`)).status, 200);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/** A page of a fresh context signed in as the moderator, at `viewport`. */
async function moderatorPage(viewport) {
  const page = await newPage(browser, { viewport, deviceScaleFactor: viewport.width < 600 ? 2 : 1 });
  const [name, value] = moderatorCookie.split('=');
  await page.context().addCookies([{ name, value, url: srv.url }]);
  return page;
}

describe('/audit in the browser', () => {
  for (const [name, viewport] of Object.entries(WIDTHS)) {
    it(`shows the events and what they changed at ${name} width, without sideways scrolling`, async () => {
      const page = await moderatorPage(viewport);
      await page.goto(`${srv.url}/audit?action=draft.edit`);
      const edit = page.locator('tr', { has: page.locator('code', { hasText: 'draft.edit' }) });
      await assert.doesNotReject(edit.first().waitFor());
      assert.match(await edit.first().locator('.title-change').innerText(), /Disk alerts on ingest-3\s*→\s*Disk full on ingest-3/);
      const diff = edit.first().locator('details.audit-diff');
      assert.equal(await diff.locator('pre').isVisible(), false, 'the changed lines start folded');
      await diff.locator('summary').click();
      assert.equal(await diff.locator('pre').isVisible(), true);
      assert.match(await diff.locator('pre').innerText(), /clear \/var\/tmp and \/srv\/cache/);
      assert.doesNotMatch(await page.content(), /AKIAZ7QW3ERTY6UIOP4X/);
      await page.goto(`${srv.url}/audit`);
      await page.locator('tr', { has: page.locator('code', { hasText: 'draft.reject' }) }).first().waitFor();
      const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the ${name} window`);
      await page.screenshot({ path: path.join(ARTIFACTS, `audit-${name}.png`), fullPage: true });
      assert.deepEqual(page.incidents, []);
      await page.context().close();
    });
  }

  it('filters with the form and pages to older events', async () => {
    const page = await moderatorPage(WIDTHS.desktop);
    await page.goto(`${srv.url}/audit`);
    await page.getByLabel('Action').selectOption('draft.reject');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/action=draft\.reject/);
    const rows = page.locator('table.audit-events tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /Rejected[\s\S]*Wrong topic: ask in #infra/);
    await page.getByRole('link', { name: 'Clear filters' }).click();
    await page.waitForURL(`${srv.url}/audit`);
    const first = await rows.first().getAttribute('id');
    await page.getByRole('link', { name: 'Older events →' }).click();
    await page.waitForURL(/before=/);
    const older = await rows.evaluateAll((trs) => trs.map((tr) => tr.id));
    assert.ok(older.length > 0 && !older.includes(first));
    await page.getByRole('link', { name: 'Newest events' }).click();
    await page.waitForURL(`${srv.url}/audit`);
    assert.equal(await rows.first().getAttribute('id'), first);
    assert.deepEqual(page.incidents, []);
    await page.context().close();
  });
});
