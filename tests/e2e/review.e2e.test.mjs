// End to end in a real browser (Debian's chromium driven by playwright-core): an engineer signs
// in through the forum (a test identity provider speaking Discourse Connect), reads the held
// draft, edits and approves it; a reason is required to reject; another engineer gets 404; a
// moderator reads but cannot act; signing out works; hostile content never runs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, newSecret, postIntake, psql, samplePost, startServer } from '../lib/harness.mjs';
import { launchBrowser, newPage } from '../lib/browser.mjs';
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
  browser = await launchBrowser();
});

after(async () => {
  try {
    await browser?.close();
    await srv?.stop();
  } finally {
    await idp?.stop();
  }
});

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
    const page = await newPage(browser);
    await signIn(page, 'alice', held.review_url);
    assert.equal(new URL(page.url()).pathname, `/drafts/${held.draft_id}`);
    await assert.doesNotReject(page.getByRole('heading', { name: 'Ingest is stuck' }).first().waitFor());
    // the preview is rendered CommonMark
    assert.equal(await page.locator('article.preview strong').first().textContent(), 'ingest');

    await page.locator('details summary').filter({ hasText: /edit/i }).first().click();
    await page.locator('#edit-body').fill('Restart the **ingest** worker, then check the queue depth.');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${srv.url}/drafts/${held.draft_id}?done=edited&revision=2`);
    assert.equal(await psql(srv.database, `SELECT revision FROM drafts WHERE id = '${held.draft_id}'`), '2');
    assert.match(await page.locator('article.preview').textContent(), /queue depth/);
    assert.match(await page.getByRole('status').first().textContent(), /Saved as revision 2\./);
    // a reload shows the page again; it never resubmits the form
    await page.reload();
    assert.equal(await psql(srv.database, `SELECT revision FROM drafts WHERE id = '${held.draft_id}'`), '2');

    await page.screenshot({ path: path.join(ARTIFACTS, 'draft-page.png'), fullPage: true });
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${srv.url}/drafts/${held.draft_id}?done=approved`);
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
    const page = await newPage(browser);
    await signIn(page, 'alice', held.review_url);
    await page.locator('#reject-reason').fill('   ');
    const response = page.waitForResponse((r) => r.url().includes('error=reason_required'));
    await page.getByRole('button', { name: 'Reject' }).click();
    // refused: back on the draft page (not the form's address) with the reason and status 400
    assert.equal((await response).status(), 400);
    assert.equal(new URL(page.url()).pathname, `/drafts/${held.draft_id}`);
    assert.match(await page.getByRole('alert').textContent(), /Give a reason/);
    assert.equal(await psql(srv.database, `SELECT state FROM drafts WHERE id = '${held.draft_id}'`), 'pending');
    await page.locator('#reject-reason').fill('The advice would expose the staging credentials.');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.waitForURL(`${srv.url}/drafts/${held.draft_id}?done=rejected`);
    assert.equal(await psql(srv.database, `SELECT state FROM drafts WHERE id = '${held.draft_id}'`), 'rejected');
    await page.context().close();
  });

  it('shows another engineer a 404 without content', async () => {
    const held = await hold(samplePost({ post: { topic_id: '1', body: 'confidential remediation steps' } }));
    const page = await newPage(browser);
    await signIn(page, 'bob', held.review_url);
    const response = await page.goto(held.review_url);
    assert.equal(response.status(), 404);
    assert.doesNotMatch(await page.content(), /confidential remediation/);
    await page.context().close();
  });

  it('lets a moderator read but not act', async () => {
    const held = await hold(samplePost({ post: { topic_id: '1', body: 'moderators may read this' } }));
    const page = await newPage(browser);
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
    const page = await newPage(browser);
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
    assert.deepEqual(page.incidents, []);
    await page.screenshot({ path: path.join(ARTIFACTS, 'hostile-draft.png'), fullPage: true });
    await page.context().close();
  });
});

/**
 * Takes the same page at desktop and phone widths into tests/artifacts/NAME-{desktop,phone}.png.
 * At each width `check(label)` asserts what a reader would notice there; at phone width nothing
 * may be wider than the screen (only code blocks and tables scroll, inside their own boxes).
 */
async function screenshots(page, name, check = async () => {}) {
  for (const [width, height, label] of [[1280, 900, 'desktop'], [390, 844, 'phone']]) {
    await page.setViewportSize({ width, height });
    await check(label);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name} at ${label} width is ${overflow}px wider than the window`);
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

const AWS_SECRET = 'q7VtZp2LxR9mW4kN8sB3dF6hJ1yC5gT0aE2uI9oP';

describe('what the approver sees is the truth', () => {
  it('renders GitHub-flavoured Markdown, right-to-left paragraphs and one scroll box per code block', async () => {
    const code = Array.from({ length: 80 }, (_, i) => `line ${i + 1}`).join('\n');
    const held = await hold(samplePost({ post: { topic_id: '6002', topic_title: 'Ingest is stuck again', topic_url: 'https://forum.example/t/6002', reply_to_post_id: '99001', body: `| host | state |\n|---|---|\n| db1 | ~~down~~ up |\n\n- [x] drained the queue\n- [ ] restart\n\nשלום, זו פסקה בעברית.\n\n\`\`\`\n${code}\n\`\`\`\n` } }));
    const page = await newPage(browser);
    await signIn(page, 'alice', held.review_url);
    const preview = page.locator('article.preview');
    assert.equal(await preview.locator('table td').first().textContent(), 'db1');
    assert.equal(await preview.locator('del').textContent(), 'down');
    assert.equal(await preview.locator('input[type=checkbox]:checked').count(), 1);
    const hebrew = preview.locator('p', { hasText: 'שלום' });
    assert.equal(await hebrew.evaluate((p) => getComputedStyle(p).direction), 'rtl');
    const english = preview.locator('td').first();
    assert.equal(await english.evaluate((p) => getComputedStyle(p).direction), 'ltr');
    const boxes = await page.evaluate(() => {
      const scrolls = (el) => el.scrollHeight > el.clientHeight + 1 && ['auto', 'scroll'].includes(getComputedStyle(el).overflowY);
      const pre = document.querySelector('article.preview pre');
      return { pre: scrolls(pre), article: scrolls(document.querySelector('article.preview')) };
    });
    assert.deepEqual(boxes, { pre: true, article: false });
    // where: the topic's title as a link
    const where = page.locator('dl.facts a', { hasText: 'Ingest is stuck again' });
    assert.equal(await where.getAttribute('href'), 'https://forum.example/t/6002');
    await page.context().close();
  });

  it('shows a wording warning, where no rule matched, with its message next to the line it is about', async () => {
    const body = 'Thanks for the quick reply!\n\nThe customer list with names, home addresses, dates of birth and mobile phone numbers is attached below for the whole team to work through.\n';
    const held = await hold(samplePost({ post: { topic_id: '6003', reply_to_post_id: '99002', body, forum_ref: 'ref-wording' } }));
    assert.deepEqual(held.flags.map((f) => [f.code, f.severity]), [['pii.reads_like', 'warning']]);
    const page = await newPage(browser);
    await signIn(page, 'alice', held.review_url);
    await screenshots(page, 'draft-wording', async () => {
      await page.locator('.flag-message', { hasText: /Reads like a post with personal data, though no personal-data rule matched/ }).first().waitFor({ state: 'visible' });
      await page.locator('.flag-excerpt', { hasText: 'dates of birth' }).first().waitFor({ state: 'visible' });
    });
    assert.deepEqual(page.incidents, []);
    await page.context().close();
  });

  it('masks secrets everywhere, keeps an untouched one through an edit, shows a word diff, and takes screenshots', async () => {
    await hold(samplePost({ post: { topic_id: '5531', topic_title: 'Deploy keys for staging', body: 'Restart the **ingest** worker after the config change.' } }));
    const held = await hold(samplePost({ post: { category: 'infra', title: 'Staging key AKIAIOSFODNN7ABCDEFG', body: `Put this in \`~/.aws/credentials\`:\n\naws_secret_access_key = ${AWS_SECRET}\n\nThen run \`rm -rf /srv/cache\` and mail ops@corp-mail.net.\n\nIf the upload still fails with \"permission denied\", open the directory up and give the app every right:\n\n    chmod -R 777 /srv/app/uploads\n    psql -c 'GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO PUBLIC;'\n` } }));
    const page = await newPage(browser);
    await signIn(page, 'alice', `${srv.url}/`);
    assert.doesNotMatch(await page.content(), /q7VtZp2LxR9mW4kN|IOSFODNN7ABCDEFG/);
    assert.match(await page.locator('main').textContent(), /Put this in ~\/.aws\/credentials: aws_secret_access_key = ••••••⟨\d⟩/);
    await screenshots(page, 'index', async () => {
      // the invoker's own pending draft is there, its title masked and its flags counted
      await page.locator('main', { hasText: 'Staging key AKIA••••••' }).waitFor({ state: 'visible' });
    });

    await page.goto(held.review_url);
    assert.doesNotMatch(await page.title(), /IOSFODNN7ABCDEFG/);
    assert.match(await page.title(), /^Staging key AKIA••••••⟨\d⟩ · agentgate$/);
    assert.doesNotMatch(await page.content(), /q7VtZp2LxR9mW4kN|IOSFODNN7ABCDEFG/);
    assert.match(await page.locator('#secret-warning').textContent(), /2 secrets masked on this page will be published in full/);
    assert.ok(await page.locator('.flag-message').count() >= 5);
    await screenshots(page, 'draft-flags', async () => {
      // each flag says why in words, next to the passage it is about
      for (const message of [/An AWS access key ID/, /Makes files writable by every user/, /Grants rights to everyone/, /Deletes a directory tree/]) {
        await page.locator('.flag-message', { hasText: message }).first().waitFor({ state: 'visible' });
      }
      await page.locator('.flag-excerpt', { hasText: 'chmod -R 777' }).first().waitFor({ state: 'visible' });
    });

    await page.locator('details summary').filter({ hasText: /edit/i }).first().click();
    const text = await page.locator('#edit-body').inputValue();
    assert.match(text, /aws_secret_access_key = ••••••⟨\d⟩/);
    await page.locator('#edit-body').fill(text.replace('Then run', 'Then carefully run'));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${srv.url}/drafts/${held.draft_id}?done=edited&revision=2`);
    const saved = await psql(srv.database, `SELECT body FROM draft_revisions WHERE draft_id = '${held.draft_id}' AND revision = 2`);
    assert.ok(saved.includes(`aws_secret_access_key = ${AWS_SECRET}`), 'the untouched secret is kept');
    // the changed line shows the one word added, not the whole paragraph replaced
    assert.equal((await page.locator('.diff-add .diff-word').first().textContent()).trim(), 'carefully');
    assert.equal(await page.locator('.diff-del .diff-word').count(), 0);
    assert.doesNotMatch(await page.content(), /q7VtZp2LxR9mW4kN/);
    await page.locator('#revisions-heading').scrollIntoViewIfNeeded();
    await screenshots(page, 'draft-edited', async () => {
      // the success message and the inserted word in revision 2's diff are on screen
      await page.getByRole('status').filter({ hasText: 'Saved as revision 2.' }).first().waitFor({ state: 'visible' });
      await page.locator('.diff-add .diff-word', { hasText: 'carefully' }).first().waitFor({ state: 'visible' });
    });

    await page.locator('.flag-item', { hasText: 'aws_secret_access_key' }).getByRole('button', { name: 'Redact' }).click();
    await page.waitForURL(`${srv.url}/drafts/${held.draft_id}?done=redacted&revision=3`);
    assert.ok((await psql(srv.database, `SELECT body FROM draft_revisions WHERE draft_id = '${held.draft_id}' AND revision = 3`)).includes('aws_secret_access_key = [REDACTED]'));
    assert.deepEqual(page.incidents, []);
    await page.context().close();
  });

  it('shows the kill switch on every page, refuses Approve and keeps the draft pending', async () => {
    const held = await hold(samplePost());
    await psql(srv.database, "UPDATE killswitch SET engaged = true, reason = 'incident 7'");
    try {
      const page = await newPage(browser);
      await signIn(page, 'alice', held.review_url);
      assert.match(await page.locator('.stop-banner').textContent(), /Kill switch on: every agent is stopped\.\s+incident 7/);
      assert.ok(await page.getByRole('button', { name: 'Approve' }).isDisabled());
      await page.goto(`${srv.url}/`);
      assert.equal(await page.locator('.stop-banner').count(), 1);
      await page.context().close();
    } finally {
      await psql(srv.database, "UPDATE killswitch SET engaged = false, reason = NULL");
    }
    assert.equal(await psql(srv.database, `SELECT state FROM drafts WHERE id = '${held.draft_id}'`), 'pending');
  });

  it('follows an approval until it is published, without a manual reload', async () => {
    const held = await hold(samplePost());
    const page = await newPage(browser);
    await signIn(page, 'alice', held.review_url);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${srv.url}/drafts/${held.draft_id}?done=approved`);
    assert.equal(await page.locator('#state-label').textContent(), 'Approved, being released');
    // the forum publishes it (the delivery worker's effect, written directly: no workers here)
    await psql(srv.database, `UPDATE drafts SET state = 'released', post_id = '77', post_url = 'https://forum.example/p/77' WHERE id = '${held.draft_id}'`);
    await page.locator('#state-label', { hasText: 'Published' }).waitFor({ timeout: 20000 });
    assert.equal(await page.locator('#post-link').getAttribute('href'), 'https://forum.example/p/77');
    assert.equal(await page.locator('dt', { hasText: 'Expires' }).count(), 0);
    await page.context().close();
  });

  it('gives a moderator a way back to the filtered History and says who decides', async () => {
    const held = await hold(samplePost());
    const page = await newPage(browser);
    // signing in returns to the very address, its back link included
    await signIn(page, 'mona', `${srv.url}/drafts/${held.draft_id}?from=${encodeURIComponent('/history?state=pending&agent=bot-42')}`);
    const back = page.locator('.breadcrumb a');
    assert.equal(await back.getAttribute('href'), '/history?state=pending&agent=bot-42');
    assert.equal((await back.textContent()).trim(), '← History');
    const main = await page.locator('main').textContent();
    assert.match(main, /Only its invoker, alice \(1001\), decides\./);
    assert.doesNotMatch(main, /Waiting for your decision/);
    await page.context().close();
  });
});
