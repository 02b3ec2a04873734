// Discourse Connect sign-in (CONTRACT §6, auth = sso) against a test identity provider, and
// the attacks on it: bad signature, replayed nonce, expired nonce, tampered payload, open
// redirects, a callback opened in another browser (login CSRF), identity fields too long to
// keep. Also auth = proxy: identity headers honoured only from trusted proxies, and refused
// whole when they do not fit. Each "browser" is a cookie jar over real HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { countRows, newSecret, postIntake, psql, samplePost, startServer } from '../lib/harness.mjs';
import { ssoEncode, ssoSign, startFakeIdp } from '../lib/fake_idp.mjs';
import { makeClient } from '../lib/web.mjs';

const SSO_SECRET = crypto.randomBytes(24).toString('hex');
let srv, idp;
before(async () => {
  idp = await startFakeIdp({
    secret: SSO_SECRET,
    users: {
      alice: { external_id: '1001', username: 'alice', groups: 'staff' },
      mona: { external_id: '4004', username: 'mona', groups: 'trust_level_2,moderators' },
      mallory: { external_id: '6666', username: 'mallory', groups: 'staff' },
    },
  });
  srv = await startServer({
    server: { auth: 'sso' },
    forums: { eng: { inbound_secret: newSecret(), rate_limit: 'none', sso_url: `${idp.url}/session/sso_provider`, sso_secret: SSO_SECRET } },
  });
  const text = (await import('node:fs')).readFileSync(srv.configFile, 'utf8');
  srv.secret = /inbound_secret = (\S+)/.exec(text)[1];
});
after(async () => {
  try {
    await srv.stop();
  } finally {
    await idp.stop();
  }
});

/** A browser: a cookie jar that sends its cookies back to agentgate, as a browser would. */
function newBrowser() {
  const jar = new Map();
  return {
    jar,
    async get(url, headers = {}) {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(url, { redirect: 'manual', headers: cookie ? { ...headers, cookie } : headers });
      for (const line of res.headers.getSetCookie()) {
        const [pair, ...attributes] = line.split(';');
        const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
        if (value === '' || attributes.some((a) => /^\s*max-age=0$/i.test(a))) jar.delete(name);
        else jar.set(name, value);
      }
      return res;
    },
  };
}

/** Starts a sign-in in `browser` (a fresh one by default); returns the redirect to the IdP, the
 * nonce agentgate asked about, and the browser. */
async function startLogin(returnTo = '/', browser = newBrowser()) {
  const res = await browser.get(`${srv.url}/auth/login?forum=eng&return_to=${encodeURIComponent(returnTo)}`);
  assert.equal(res.status, 303);
  const location = new URL(res.headers.get('location'));
  const sso = location.searchParams.get('sso');
  const sig = location.searchParams.get('sig');
  const payload = Object.fromEntries(new URLSearchParams(Buffer.from(sso, 'base64').toString()));
  return { location, sso, sig, payload, browser, response: res };
}

/** Opens the forum's answer in the browser that started the sign-in (or `browser`). */
async function finish(url, browser) {
  return browser.get(url);
}

/** The forum's answer for `user` to `login`. */
const answerFor = (login, user) => idp.answer(login.payload.nonce, login.payload.return_sso_url, user);

const sessionCookie = (res) => res.headers.getSetCookie().find((c) => c.startsWith('agentgate_session='));

/** Opens `url` in `browser`: refused, and no session in that browser. */
async function refusedWithoutSession(url, browser = newBrowser()) {
  const res = await finish(url, browser);
  assert.equal(res.status, 403);
  assert.equal(sessionCookie(res), undefined);
  assert.equal(browser.jar.has('agentgate_session'), false);
}

describe('Discourse Connect sign-in', () => {
  it('signs in through the forum and comes back to the page asked for', async () => {
    const draft = await postIntake(srv, samplePost());
    const login = await startLogin(`/drafts/${draft.json.draft_id}`);
    assert.equal(`${login.location.origin}${login.location.pathname}`, `${idp.url}/session/sso_provider`);
    assert.equal(login.sig, ssoSign(SSO_SECRET, login.sso), 'agentgate signs its request');
    assert.equal(login.payload.return_sso_url, `${srv.url}/auth/sso`);
    assert.match(login.payload.nonce, /^[A-Za-z0-9_-]{43}$/);
    // the forum's page asks who signs in; the browser test clicks it, here we answer directly
    const idpPage = await fetch(login.location);
    assert.equal(idpPage.status, 200, 'the IdP accepted agentgate\'s signature');
    const answer = idp.answer(login.payload.nonce, login.payload.return_sso_url, idp.users.alice);
    const res = await finish(answer, login.browser);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/drafts/${draft.json.draft_id}`);
    const client = makeClient(srv, sessionCookie(res).split(';')[0]);
    const page = await client.get(`/drafts/${draft.json.draft_id}`);
    assert.equal(page.status, 200);
    assert.equal(await countRows(srv.database, 'audit_events', "action = 'auth.sign_in' AND details->>'username' = 'alice'"), 1);
  });

  it('makes members of moderator_groups moderators', async () => {
    const login = await startLogin('/');
    const res = await finish(answerFor(login, idp.users.mona), login.browser);
    assert.equal(res.status, 303);
    assert.equal(await psql(srv.database, "SELECT is_moderator FROM users WHERE user_id = '4004'"), 't');
  });
});

describe('Discourse Connect attacks are refused', () => {

  it('refuses a bad signature', async () => {
    const login = await startLogin();
    const sso = ssoEncode({ nonce: login.payload.nonce, external_id: '1001', username: 'alice' });
    await refusedWithoutSession(`${srv.url}/auth/sso?sso=${encodeURIComponent(sso)}&sig=${ssoSign('wrong-secret', sso)}`, login.browser);
    await refusedWithoutSession(`${srv.url}/auth/sso?sso=${encodeURIComponent(sso)}&sig=`, login.browser);
    await refusedWithoutSession(`${srv.url}/auth/sso?sso=${encodeURIComponent(sso)}&sig=${'z'.repeat(64)}`, login.browser);
    await refusedWithoutSession(`${srv.url}/auth/sso?sso=${encodeURIComponent(sso)}&sig=${ssoSign(SSO_SECRET, sso).slice(0, 63)}`, login.browser);
    await refusedWithoutSession(`${srv.url}/auth/sso?sso=${encodeURIComponent(sso)}`, login.browser);
  });

  it('refuses a replayed nonce', async () => {
    const login = await startLogin();
    const answer = answerFor(login, idp.users.alice);
    const loginCookie = login.browser.jar.get('agentgate_login');
    assert.equal((await finish(answer, login.browser)).status, 303);
    // the same browser, pre-login cookie and all, brings the answer back again
    const replaying = newBrowser();
    replaying.jar.set('agentgate_login', loginCookie);
    await refusedWithoutSession(answer, replaying);
  });

  it('refuses an expired nonce', async () => {
    const login = await startLogin();
    await psql(srv.database, "UPDATE sso_nonces SET expires_at = now() - interval '1 second'");
    await refusedWithoutSession(answerFor(login, idp.users.alice), login.browser);
  });

  it('refuses a nonce agentgate never issued', async () => {
    await refusedWithoutSession(idp.answer('made-up-nonce', `${srv.url}/auth/sso`, idp.users.alice));
  });

  it('refuses a tampered payload', async () => {
    const login = await startLogin();
    const url = new URL(answerFor(login, idp.users.alice));
    const fields = Object.fromEntries(new URLSearchParams(Buffer.from(url.searchParams.get('sso'), 'base64').toString()));
    fields.groups = 'moderators';
    url.searchParams.set('sso', ssoEncode(fields));
    await refusedWithoutSession(url.toString(), login.browser);
  });

  it('refuses an answer that names another return_sso_url', async () => {
    const login = await startLogin();
    const forged = new URL(idp.answer(login.payload.nonce, 'http://evil.example/auth/sso', idp.users.alice));
    await refusedWithoutSession(`${srv.url}/auth/sso${forged.search}`, login.browser);
  });

  for (const target of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/\r\nSet-Cookie:x=y', 'javascript:alert(1)']) {
    it(`never redirects off-site after sign-in (return_to=${target})`, async () => {
      const login = await startLogin(target);
      const res = await finish(answerFor(login, idp.users.alice), login.browser);
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/');
    });
  }

  it('fixes return_sso_url itself, whatever the request says', async () => {
    const res = await fetch(`${srv.url}/auth/login?forum=eng&return_sso_url=http://evil.example`, { redirect: 'manual' });
    const sso = new URL(res.headers.get('location')).searchParams.get('sso');
    assert.equal(new URLSearchParams(Buffer.from(sso, 'base64').toString()).get('return_sso_url'), `${srv.url}/auth/sso`);
  });

  it('offers no dev sign-in when auth = sso', async () => {
    const res = await fetch(`${srv.url}/auth/dev`, { redirect: 'manual' });
    assert.equal(res.status, 404);
  });
});

const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');
const pageText = async (res) => (await res.text()).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const loginCookieLine = (res) => res.headers.getSetCookie().find((c) => /^(__Host-)?agentgate_login=/.test(c));

describe('a sign-in belongs to the browser that started it', () => {
  it('sets a short-lived HttpOnly pre-login cookie and stores only its hash', async () => {
    const login = await startLogin();
    const line = loginCookieLine(login.response);
    assert.ok(line, 'a pre-login cookie is set');
    const attributes = line.split(';').slice(1).map((a) => a.trim().toLowerCase());
    for (const expected of ['path=/', 'max-age=600', 'httponly', 'samesite=lax']) assert.ok(attributes.includes(expected), line);
    assert.ok(!attributes.includes('secure'), 'no Secure under http');
    const token = login.browser.jar.get('agentgate_login');
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await countRows(srv.database, 'sso_nonces', `browser_hash = decode('${sha256(token)}', 'hex')`), 1);
    assert.equal(await countRows(srv.database, 'sso_nonces', `browser_hash = convert_to('${token}', 'UTF8')`), 0);
  });

  for (const victimKind of ['no pre-login cookie', 'a pre-login cookie of its own']) {
    it(`signs nobody in when the forum's answer is opened in another browser (${victimKind})`, async () => {
      // the attacker starts a sign-in in their own browser and gets the forum's answer for their
      // own account, then makes the victim's browser open it
      const attacker = await startLogin('/');
      const callback = answerFor(attacker, idp.users.mallory);
      const victim = victimKind === 'no pre-login cookie' ? newBrowser() : (await startLogin('/')).browser;
      const victimLoginCookie = victim.jar.get('agentgate_login');
      const res = await finish(callback, victim);
      assert.equal(res.status, 403);
      assert.equal(sessionCookie(res), undefined);
      assert.match(await pageText(res), /started in another browser/);
      assert.equal(victim.jar.has('agentgate_session'), false);
      assert.equal(victim.jar.get('agentgate_login'), victimLoginCookie, "the victim's own sign-in is left alone");
      assert.equal(await countRows(srv.database, 'sessions', "user_id = '6666'"), 0);
      assert.equal(await countRows(srv.database, 'audit_events', "action = 'auth.sign_in' AND details->>'user_id' = '6666'"), 0);
      // and the answer is spent: not even the attacker's browser can use it now
      await refusedWithoutSession(callback, attacker.browser);
    });
  }

  it('clears the pre-login cookie once the sign-in is done', async () => {
    const login = await startLogin();
    const res = await finish(answerFor(login, idp.users.alice), login.browser);
    assert.equal(res.status, 303);
    assert.match(loginCookieLine(res) ?? '', /^agentgate_login=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax$/);
    assert.equal(login.browser.jar.has('agentgate_login'), false);
    assert.ok(login.browser.jar.has('agentgate_session'));
  });

  it('keeps one pre-login cookie for sign-ins started in two tabs of a browser', async () => {
    const first = await startLogin('/');
    const cookie = first.browser.jar.get('agentgate_login');
    const second = await startLogin('/', first.browser);
    assert.equal(second.browser.jar.get('agentgate_login'), cookie);
    assert.equal((await finish(answerFor(second, idp.users.alice), second.browser)).status, 303);
  });

  it('names the cookie __Host-agentgate_login and marks it Secure when public_url is https', async () => {
    const secure = await startServer({
      server: { auth: 'sso', public_url: 'https://agentgate.example' },
      forums: { eng: { inbound_secret: newSecret(), sso_url: `${idp.url}/session/sso_provider`, sso_secret: SSO_SECRET } },
    });
    try {
      const browser = newBrowser();
      const res = await browser.get(`${secure.url}/auth/login?forum=eng`);
      assert.equal(res.status, 303);
      assert.match(loginCookieLine(res), /^__Host-agentgate_login=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);
      const payload = new URLSearchParams(Buffer.from(new URL(res.headers.get('location')).searchParams.get('sso'), 'base64').toString());
      const answer = new URL(idp.answer(payload.get('nonce'), payload.get('return_sso_url'), idp.users.alice));
      const done = await browser.get(`${secure.url}/auth/sso${answer.search}`);
      assert.equal(done.status, 303);
      assert.ok(browser.jar.has('__Host-agentgate_session'));
      assert.equal(browser.jar.has('__Host-agentgate_login'), false);
    } finally {
      await secure.stop();
    }
  });
});

describe('identity fields are kept whole or refused', () => {
  const gina = (patch) => ({ external_id: '7007', username: 'gina', groups: 'staff', ...patch });
  const signInAs = async (user) => {
    const login = await startLogin();
    return finish(answerFor(login, user), login.browser);
  };
  const refused = async (res, text) => {
    assert.equal(res.status, 403);
    assert.equal(sessionCookie(res), undefined);
    assert.match(await pageText(res), text);
  };

  it('refuses a groups list over 1,023 bytes instead of cutting it into a moderator group', async () => {
    // cut at 1,023 bytes, this list would end in ",moderators" (of ",moderators_readonly")
    const groups = `${'g'.repeat(1012)},moderators_readonly`;
    assert.ok(groups.slice(0, 1023).endsWith(',moderators'));
    await refused(await signInAs(gina({ external_id: '7001', groups })), /groups is 1032 bytes long; agentgate keeps at most 1023 bytes/);
    assert.equal(await countRows(srv.database, 'users', "user_id = '7001'"), 0);
    assert.equal(await countRows(srv.database, 'sessions', "user_id = '7001'"), 0);
    assert.ok(await srv.waitForLog(/sign-in refused: identity groups of 1032 bytes is too long/));
  });

  it('keeps a groups list of exactly 1,023 bytes whole', async () => {
    const groups = `${'g'.repeat(1012)},moderators`;
    assert.equal(groups.length, 1023);
    assert.equal((await signInAs(gina({ external_id: '7002', groups }))).status, 303);
    assert.equal(await psql(srv.database, "SELECT is_moderator || ' ' || array_to_string(groups, ',') FROM users WHERE user_id = '7002'"), `true ${groups}`);
  });

  it('refuses a name over 256 bytes instead of cutting inside a UTF-8 character', async () => {
    const name = `${'a'.repeat(255)}é`; // 257 bytes: a cut at 256 splits the é
    for (let attempt = 0; attempt < 2; attempt++) {
      await refused(await signInAs(gina({ external_id: '7003', name })), /name is 257 bytes long; agentgate keeps at most 256 bytes/);
    }
    assert.equal(await countRows(srv.database, 'users', "user_id = '7003'"), 0);
    const fits = `${'a'.repeat(254)}é`;
    assert.equal((await signInAs(gina({ external_id: '7003', name: fits }))).status, 303);
    assert.equal(await psql(srv.database, "SELECT name FROM users WHERE user_id = '7003'"), fits);
  });

  for (const [field, value] of [
    ['name', 'Gina\u001b[31m'],
    ['name', 'Gina\tTab'],
    ['name', 'Gina\u009bC1'],
    ['username', 'gina\u001b]0;x\u0007'],
    ['groups', 'staff,\u001bmoderators'],
  ]) {
    it(`refuses control characters in ${field} (${JSON.stringify(value)})`, async () => {
      await refused(await signInAs(gina({ external_id: '7004', [field]: value })), new RegExp(`${field} is empty or holds characters agentgate does not accept`));
      assert.equal(await countRows(srv.database, 'users', "user_id = '7004'"), 0);
    });
  }
});

describe('auth = proxy', () => {
  it('honours identity headers from a trusted proxy only', async () => {
    const trusted = await startServer({ server: { auth: 'proxy', trusted_proxies: '127.0.0.1', proxy_forum: 'eng' } });
    const untrusted = await startServer({ server: { auth: 'proxy', trusted_proxies: '10.9.9.9', proxy_forum: 'eng' } });
    try {
      const draft = await postIntake(trusted, samplePost());
      const headers = { 'x-forwarded-user': '1001', 'x-forwarded-preferred-username': 'alice', 'x-forwarded-groups': 'staff' };
      const ok = await fetch(`${trusted.url}/drafts/${draft.json.draft_id}`, { headers, redirect: 'manual' });
      assert.equal(ok.status, 200);
      const other = await fetch(`${trusted.url}/drafts/${draft.json.draft_id}`, { headers: { ...headers, 'x-forwarded-user': '3003' }, redirect: 'manual' });
      assert.equal(other.status, 404);
      const draft2 = await postIntake(untrusted, samplePost());
      const ignored = await fetch(`${untrusted.url}/drafts/${draft2.json.draft_id}`, { headers, redirect: 'manual' });
      assert.equal(ignored.status, 303, 'an anonymous visitor, sent to sign in');
      await untrusted.waitForLog(/ignored X-Forwarded-User from an address not in trusted_proxies/);
    } finally {
      await trusted.stop();
      await untrusted.stop();
    }
  });
  /** GET over a raw socket, so that header values may hold bytes fetch() refuses to send. */
  const rawGet = (server, path, headers) => new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    const chunks = [];
    socket.on('connect', () => {
      const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      // write, not end: a client that half-closes its side is taken as gone (libmicrohttpd)
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${lines}\r\n`);
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...body] = text.split('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0),
        location: /\r\nLocation: ([^\r]*)/i.exec(head)?.[1],
        setsCookie: /\r\nSet-Cookie:/i.test(head),
        text: body.join('\r\n\r\n').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '),
      });
    });
  });

  it('refuses identity headers that do not fit, never cutting them', async () => {
    const proxied = await startServer({ server: { auth: 'proxy', trusted_proxies: '127.0.0.1', proxy_forum: 'eng' } });
    try {
      const base = { 'x-forwarded-user': '5005', 'x-forwarded-preferred-username': 'pat', 'x-forwarded-groups': 'staff' };
      const cases = [
        [{ 'x-forwarded-groups': `${'g'.repeat(1012)},moderators_readonly` }, /groups is 1032 bytes long; agentgate keeps at most 1023 bytes/],
        [{ 'x-forwarded-preferred-username': 'p'.repeat(129) }, /username is 129 bytes long; agentgate keeps at most 128 bytes/],
        [{ 'x-forwarded-user': '5'.repeat(129) }, /user id is 129 bytes long; agentgate keeps at most 128 bytes/],
        [{ 'x-forwarded-preferred-username': 'pat\u001b[2J' }, /username is empty or holds characters agentgate does not accept/],
      ];
      for (const [patch, text] of cases) {
        const headers = { ...base, ...patch };
        const page = await rawGet(proxied, '/history', headers);
        assert.equal(page.status, 303, 'not signed in, so sent to sign in');
        assert.equal(page.setsCookie, false);
        const login = await rawGet(proxied, page.location, headers);
        assert.equal(login.status, 403);
        assert.match(login.text, text);
      }
      assert.equal(await countRows(proxied.database, 'users'), 0);
      assert.equal(await countRows(proxied.database, 'sessions'), 0);
      // the same headers, fitting, sign in (and the long list's moderator group is not granted)
      assert.equal((await fetch(`${proxied.url}/`, { headers: base, redirect: 'manual' })).status, 200);
      assert.equal(await psql(proxied.database, "SELECT is_moderator FROM users WHERE user_id = '5005'"), 'f');
    } finally {
      await proxied.stop();
    }
  });
});
