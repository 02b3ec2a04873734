// End to end in a real browser (Debian's chromium driven by playwright-core): an engineer signs
// in through the forum (a test identity provider speaking Discourse Connect), reads the held
// draft, edits and approves it; a reason is required to reject; another engineer gets 404; a
// moderator reads but cannot act; signing out works; hostile content never runs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, WAIT_LIMIT_MS, newSecret, postIntake, psql, samplePost, startServer } from '../lib/harness.mjs';
import { startFakeIdp } from '../lib/fake_idp.mjs';

const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
const SSO_SECRET = crypto.randomBytes(24).toString('hex');
let srv, idp, browser;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  idp = await startFakeIdp({
    secret: SSO_SECRET,
    users: {
      alice: { external_id: '1001', username: 'alice', name: 'Alice Engineer', groups: 'staff' },
      bob: { external_id: '2002', username: 'bob', groups: 'staff' },
      mona: { external_id: '4004', username: 'mona', groups: 'moderators' },
    },
  });
  srv = await startServer({
    delivery: { workers: 0 },
    server: { auth: 'sso' },
    forums: { eng: { inbound_secret: newSecret(), rate_limit: 'none', sso_url: `${idp.url}/session/sso_provider`, sso_secret: SSO_SECRET } },
  });
  srv.secret = /inbound_secret = (\S+)/.exec(fs.readFileSync(srv.configFile, 'utf8'))[1];
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    timeout: WAIT_LIMIT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  try {
    await browser?.close();
    await srv?.stop();
  } finally {
    await idp?.stop();
  }
});

/** A fresh browser context that fails the test on any dialog or page error. */
async function newPage() {
  const context = await browser.newContext();
  // waits for the page are bounded like every other wait of the suite, not by playwright's 30 s
  context.setDefaultTimeout(WAIT_LIMIT_MS);
  const page = await context.newPage();
  page.incidents = [];
  page.on('dialog', async (dialog) => {
    page.incidents.push(`dialog: ${dialog.message()}`);
    await dialog.dismiss();
  });
  page.on('pageerror', (error) => page.incidents.push(`pageerror: ${error.message}`));
  return page;
}

async function signIn(page, who, target) {
  await page.goto(target);
  // agentgate sends the browser to the forum, which asks who is signing in
  await page.getByRole('button', { name: `Log in as ${who}` }).click();
  await page.waitForURL((url) => url.href.startsWith(srv.url));
}

async function hold(post) {
  const res = await postIntake(srv, post);
  assert.equal(res.status, 202, res.text);
  return res.json;
}

describe('reviewing in the browser', () => {
  it('signs in through the forum, edits, approves the edited revision, and signs out', async () => {
    const held = await hold(samplePost({ post: { category: 'infra', title: 'Ingest is stuck', body: 'Restart the **ingest** worker:\n\n    systemctl restart ingest\n' } }));
    const page = await newPage();
    await signIn(page, 'alice', held.review_url);
    assert.equal(new URL(page.url()).pathname, `/drafts/${held.draft_id}`);
    await assert.doesNotReject(page.getByRole('heading', { name: 'Ingest is stuck' }).first().waitFor());
    // the preview is rendered CommonMark
    assert.equal(await page.locator('article.preview strong').first().textContent(), 'ingest');

    await page.locator('details summary').filter({ hasText: /edit/i }).first().click();
    await page.locator('#edit-body').fill('Restart the **ingest** worker, then check the queue depth.');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${srv.url}/drafts/${held.draft_id}`);
    assert.equal(await psql(srv.database, `SELECT revision FROM drafts WHERE id = '${held.draft_id}'`), '2');
    assert.match(await page.locator('article.preview').textContent(), /queue depth/);

    await page.screenshot({ path: path.join(ARTIFACTS, 'draft-page.png'), fullPage: true });
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${srv.url}/drafts/${held.draft_id}`);
    assert.equal(await psql(srv.database, `SELECT state || ' ' || revision FROM drafts WHERE id = '${held.draft_id}'`), 'approved 2');
    assert.equal(await psql(srv.database, `SELECT details->>'revision' FROM audit_events WHERE draft_id = '${held.draft_id}' AND action = 'draft.approve'`), '2');
    assert.equal(await page.getByRole('button', { name: 'Approve' }).count(), 0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(held.review_url);
    assert.ok(page.url().startsWith(idp.url), 'signed out: back to the forum to sign in');
    assert.deepEqual(page.incidents, []);
    await page.context().close();
  });

  it('refuses to reject without a reason', async () => {
    const held = await hold(samplePost());
    const page = await newPage();
    await signIn(page, 'alice', held.review_url);
    await page.locator('#reject-reason').fill('   ');
    const response = page.waitForResponse((r) => r.url().endsWith('/reject'));
    await page.getByRole('button', { name: 'Reject' }).click();
    assert.equal((await response).status(), 400);
    assert.equal(await psql(srv.database, `SELECT state FROM drafts WHERE id = '${held.draft_id}'`), 'pending');
    await page.locator('#reject-reason').fill('The advice would expose the staging credentials.');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.waitForURL(`${srv.url}/drafts/${held.draft_id}`);
    assert.equal(await psql(srv.database, `SELECT state FROM drafts WHERE id = '${held.draft_id}'`), 'rejected');
    await page.context().close();
  });

  it('shows another engineer a 404 without content', async () => {
    const held = await hold(samplePost({ post: { topic_id: '1', body: 'confidential remediation steps' } }));
    const page = await newPage();
    await signIn(page, 'bob', held.review_url);
    const response = await page.goto(held.review_url);
    assert.equal(response.status(), 404);
    assert.doesNotMatch(await page.content(), /confidential remediation/);
    await page.context().close();
  });

  it('lets a moderator read but not act', async () => {
    const held = await hold(samplePost({ post: { topic_id: '1', body: 'moderators may read this' } }));
    const page = await newPage();
    await signIn(page, 'mona', held.review_url);
    assert.match(await page.locator('main').textContent(), /moderators may read this/);
    assert.equal(await page.getByRole('button', { name: 'Approve' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Reject' }).count(), 0);
    assert.match(await page.locator('main').textContent(), /moderator/i);
    await page.context().close();
  });
});

describe('hostile content in the browser', () => {
  it('renders script, event handlers, javascript: links, textarea breakouts and bidi overrides inert', async () => {
    const evil = `<script>alert('title')</script><img src=x onerror=alert('img')>"'></textarea><svg onload=alert('svg')>\u202Egnp.exe`;
    const held = await hold({
      agent: { id: 'bot-evil', name: evil },
      invoker: { id: '1001', name: evil },
      post: {
        category: 'infra',
        title: evil,
        body: `${evil}\n\n[click me](javascript:alert('link'))\n\n<script>alert('body')</script>\n\n<img src="x" onerror="alert('body-img')">`,
      },
      context: { question_url: "javascript:alert('ctx')", agent_run_url: evil, prompt_excerpt: evil },
    });
    const page = await newPage();
    await signIn(page, 'alice', held.review_url);
    await page.waitForLoadState('load');
    await page.locator('details summary').filter({ hasText: /edit/i }).first().click();
    const links = page.locator('a[href^="javascript:" i]');
    assert.equal(await links.count(), 0);
    for (const link of await page.locator('a').all()) {
      const href = (await link.getAttribute('href')) ?? '';
      assert.doesNotMatch(href, /^\s*javascript:/i);
    }
    assert.equal(await page.locator('main script').count(), 0);
    assert.equal(await page.locator('[onerror], [onload]').count(), 0);
    // the text is shown, as text
    assert.match(await page.locator('main').textContent(), /<script>alert\('title'\)<\/script>/);
    // let the browser run whatever it would run, up to its next frame, before looking
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    assert.deepEqual(page.incidents, []);
    await page.screenshot({ path: path.join(ARTIFACTS, 'hostile-draft.png'), fullPage: true });
    await page.context().close();
  });
});
