// Login CSRF in real browsers (Debian's chromium via playwright-core, two separate browser
// contexts): a Discourse Connect answer obtained in one browser signs nobody in when another
// browser opens it, while the browser that started the sign-in is signed in as usual.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { countRows, newSecret, startServer } from '../lib/harness.mjs';
import { launchBrowser, newContext } from '../lib/browser.mjs';
import { startFakeIdp } from '../lib/fake_idp.mjs';

const SSO_SECRET = crypto.randomBytes(24).toString('hex');
let srv, idp, browser;

before(async () => {
  idp = await startFakeIdp({
    secret: SSO_SECRET,
    users: {
      alice: { external_id: '1001', username: 'alice', groups: 'staff' },
      mallory: { external_id: '6666', username: 'mallory', groups: 'staff' },
    },
  });
  srv = await startServer({
    delivery: { workers: 0 },
    server: { auth: 'sso' },
    forums: { eng: { inbound_secret: newSecret(), sso_url: `${idp.url}/session/sso_provider`, sso_secret: SSO_SECRET } },
  });
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

const cookieNames = async (context) => (await context.cookies(srv.url)).map((c) => c.name);

/** In `page`, starts a sign-in and picks `who` on the forum's page; the forum's answer (the
 * callback URL its redirect names) is held back and returned instead of being opened. */
async function answerWithoutOpening(page, who) {
  const held = new Promise((resolve) => {
    page.route((url) => url.href.startsWith(`${idp.url}/session/sso_provider?`) && url.searchParams.has('user'), async (route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      resolve(response.headers().location);
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'answer held back' });
    });
  });
  await page.goto(`${srv.url}/auth/login?forum=eng`);
  await page.getByRole('button', { name: `Log in as ${who}` }).click();
  const callback = await held;
  assert.ok(callback.startsWith(`${srv.url}/auth/sso?`), callback);
  return callback;
}

describe('a sign-in belongs to the browser that started it', () => {
  it("signs nobody in when the forum's answer is opened in another browser", async () => {
    const attacker = await newContext(browser);
    const victim = await newContext(browser);
    try {
      const callback = await answerWithoutOpening(await attacker.newPage(), 'mallory');
      const page = await victim.newPage();
      const response = await page.goto(callback);
      assert.equal(response.status(), 403);
      await page.getByText('started in another browser').waitFor();
      assert.ok(!(await cookieNames(victim)).includes('agentgate_session'));
      // the victim is not signed in: agentgate sends them to sign in
      await page.goto(`${srv.url}/`);
      assert.ok(page.url().startsWith(idp.url), page.url());
      assert.equal(await countRows(srv.database, 'sessions', "user_id = '6666'"), 0);
    } finally {
      await attacker.close();
      await victim.close();
    }
  });

  it('signs in the browser that started the sign-in', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${srv.url}/auth/login?forum=eng`);
      assert.ok((await cookieNames(context)).includes('agentgate_login'));
      await page.getByRole('button', { name: 'Log in as alice' }).click();
      await page.waitForURL(`${srv.url}/`);
      const names = await cookieNames(context);
      assert.ok(names.includes('agentgate_session'), names.join());
      assert.ok(!names.includes('agentgate_login'), 'the pre-login cookie is gone');
    } finally {
      await context.close();
    }
  });
});
