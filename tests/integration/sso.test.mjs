// Discourse Connect sign-in (CONTRACT §6, auth = sso) against a test identity provider, and
// the attacks on it: bad signature, replayed nonce, expired nonce, tampered payload, open
// redirects. Also auth = proxy: identity headers honoured only from trusted proxies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
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

/** Starts a sign-in; returns the redirect to the IdP and the nonce agentgate asked about. */
async function startLogin(returnTo = '/') {
  const res = await fetch(`${srv.url}/auth/login?forum=eng&return_to=${encodeURIComponent(returnTo)}`, { redirect: 'manual' });
  assert.equal(res.status, 303);
  const location = new URL(res.headers.get('location'));
  const sso = location.searchParams.get('sso');
  const sig = location.searchParams.get('sig');
  const payload = Object.fromEntries(new URLSearchParams(Buffer.from(sso, 'base64').toString()));
  return { location, sso, sig, payload };
}

async function finish(url) {
  return fetch(url, { redirect: 'manual' });
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
    const res = await finish(answer);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/drafts/${draft.json.draft_id}`);
    const client = makeClient(srv, res.headers.get('set-cookie').split(';')[0]);
    const page = await client.get(`/drafts/${draft.json.draft_id}`);
    assert.equal(page.status, 200);
    assert.equal(await countRows(srv.database, 'audit_events', "action = 'auth.sign_in' AND details->>'username' = 'alice'"), 1);
  });

  it('makes members of moderator_groups moderators', async () => {
    const login = await startLogin('/');
    const res = await finish(idp.answer(login.payload.nonce, login.payload.return_sso_url, idp.users.mona));
    assert.equal(res.status, 303);
    assert.equal(await psql(srv.database, "SELECT is_moderator FROM users WHERE user_id = '4004'"), 't');
  });
});

describe('Discourse Connect attacks are refused', () => {
  const refusedWithoutSession = async (url) => {
    const res = await finish(url);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('set-cookie'), null);
  };

  it('refuses a bad signature', async () => {
    const login = await startLogin();
    const sso = ssoEncode({ nonce: login.payload.nonce, external_id: '1001', username: 'alice' });
    await refusedWithoutSession(`${srv.url}/auth/sso?sso=${encodeURIComponent(sso)}&sig=${ssoSign('wrong-secret', sso)}`);
    await refusedWithoutSession(`${srv.url}/auth/sso?sso=${encodeURIComponent(sso)}&sig=`);
    await refusedWithoutSession(`${srv.url}/auth/sso?sso=${encodeURIComponent(sso)}&sig=${'z'.repeat(64)}`);
    await refusedWithoutSession(`${srv.url}/auth/sso?sso=${encodeURIComponent(sso)}&sig=${ssoSign(SSO_SECRET, sso).slice(0, 63)}`);
    await refusedWithoutSession(`${srv.url}/auth/sso?sso=${encodeURIComponent(sso)}`);
  });

  it('refuses a replayed nonce', async () => {
    const login = await startLogin();
    const answer = idp.answer(login.payload.nonce, login.payload.return_sso_url, idp.users.alice);
    assert.equal((await finish(answer)).status, 303);
    await refusedWithoutSession(answer);
  });

  it('refuses an expired nonce', async () => {
    const login = await startLogin();
    await psql(srv.database, "UPDATE sso_nonces SET expires_at = now() - interval '1 second'");
    await refusedWithoutSession(idp.answer(login.payload.nonce, login.payload.return_sso_url, idp.users.alice));
  });

  it('refuses a nonce agentgate never issued', async () => {
    await refusedWithoutSession(idp.answer('made-up-nonce', `${srv.url}/auth/sso`, idp.users.alice));
  });

  it('refuses a tampered payload', async () => {
    const login = await startLogin();
    const url = new URL(idp.answer(login.payload.nonce, login.payload.return_sso_url, idp.users.alice));
    const fields = Object.fromEntries(new URLSearchParams(Buffer.from(url.searchParams.get('sso'), 'base64').toString()));
    fields.groups = 'moderators';
    url.searchParams.set('sso', ssoEncode(fields));
    await refusedWithoutSession(url.toString());
  });

  it('refuses an answer that names another return_sso_url', async () => {
    const login = await startLogin();
    const forged = new URL(idp.answer(login.payload.nonce, 'http://evil.example/auth/sso', idp.users.alice));
    await refusedWithoutSession(`${srv.url}/auth/sso${forged.search}`);
  });

  for (const target of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/\r\nSet-Cookie:x=y', 'javascript:alert(1)']) {
    it(`never redirects off-site after sign-in (return_to=${target})`, async () => {
      const login = await startLogin(target);
      const res = await finish(idp.answer(login.payload.nonce, login.payload.return_sso_url, idp.users.alice));
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
});
