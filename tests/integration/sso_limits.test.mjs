// /auth/login is rate limited per client address (CONTRACT §6), and what sign-ins leave behind
// (nonces, sessions, rate buckets) is purged once expired, a bounded number at a time. Clients
// come from distinct loopback addresses (127.0.0.x) over real HTTP; expiry is made observable by
// inserting already-expired rows with SQL, then triggering the purge with a sign-in.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { countRows, newSecret, psql, startServer } from '../lib/harness.mjs';
import { startFakeIdp } from '../lib/fake_idp.mjs';

const SSO_SECRET = crypto.randomBytes(24).toString('hex');
// sign_in_rate_limit = 5/h below: a bucket refills one sign-in every 12 minutes, so no refill can
// happen while the test runs, however slow the machine (with 5/m one came every 12 s)
const LIMIT = 5;
let srv, idp;

before(async () => {
  idp = await startFakeIdp({ secret: SSO_SECRET, users: { alice: { external_id: '1001', username: 'alice' } } });
  srv = await startServer({
    // 127.0.0.3 plays a reverse proxy: its X-Forwarded-For names the client
    server: { auth: 'sso', sign_in_rate_limit: `${LIMIT}/h`, trusted_proxies: '127.0.0.3' },
    forums: { eng: { inbound_secret: newSecret(), sso_url: `${idp.url}/session/sso_provider`, sso_secret: SSO_SECRET } },
  });
});
after(async () => {
  try {
    await srv.stop();
  } finally {
    await idp.stop();
  }
});

/** GET `path` on agentgate from the loopback address `from`. */
function getFrom(from, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${srv.url}${path}`, { localAddress: from, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
  });
}

const loginFrom = (from, headers) => getFrom(from, '/auth/login?forum=eng', headers);
const nonceRows = () => countRows(srv.database, 'sso_nonces');
const expiredNonces = () => countRows(srv.database, 'sso_nonces', 'expires_at <= now()');

/** Sends sign-in starts until the first 429 (at most LIMIT + 20); each answer with the nonce
 * rows counted just before and after it. */
async function exhaust(from, headers) {
  const answers = [];
  for (let i = 0; i < LIMIT + 20; i++) {
    const before = await nonceRows();
    const res = await loginFrom(from, typeof headers === 'function' ? headers(i) : headers);
    answers.push({ ...res, before, after: await nonceRows() });
    if (res.status === 429) break;
  }
  return answers;
}

function assertLimited(answers) {
  const statuses = answers.map((a) => a.status);
  assert.deepEqual(statuses.slice(0, LIMIT), Array(LIMIT).fill(303), `the first ${LIMIT} pass: ${statuses}`);
  const refused = answers.at(-1);
  assert.equal(refused.status, 429, `a burst beyond the limit is refused: ${statuses}`);
  assert.match(refused.headers['retry-after'] ?? '', /^[1-9][0-9]*$/);
  assert.equal(refused.headers['set-cookie'], undefined);
  assert.match(refused.text, /Too many sign-ins were started from your address/);
  assert.equal(refused.after, refused.before, 'a refused sign-in stores no nonce');
}

describe('sign-in rate limit per client address', () => {
  it('answers 429 with Retry-After beyond the limit, stores nothing more, and spares other addresses', async () => {
    // X-Forwarded-For from a client that is not a trusted proxy changes nothing
    assertLimited(await exhaust('127.0.0.1', (i) => ({ 'x-forwarded-for': `203.0.113.${i}` })));
    assert.equal((await loginFrom('127.0.0.1')).status, 429, 'still refused');
    assert.equal((await loginFrom('127.0.0.2')).status, 303, 'another address signs in');
  });

  it("counts a trusted proxy's clients by X-Forwarded-For", async () => {
    assertLimited(await exhaust('127.0.0.3', { 'x-forwarded-for': '203.0.113.50, 198.51.100.7' }));
    assert.equal((await loginFrom('127.0.0.3', { 'x-forwarded-for': '198.51.100.8' })).status, 303);
  });
});

describe('purging what sign-ins leave behind', () => {
  it('purges expired nonces, at most 100 per sign-in started', async () => {
    await psql(srv.database, `INSERT INTO sso_nonces (nonce_hash, forum, return_to, created_at, expires_at)
      SELECT sha256(('stale ' || i)::bytea), 'eng', '/', now() - interval '1 hour', now() - interval '1 minute'
      FROM generate_series(1, 150) i`);
    assert.equal(await expiredNonces(), 150);
    const live = (await nonceRows()) - 150;
    assert.equal((await loginFrom('127.0.0.4')).status, 303);
    assert.equal(await expiredNonces(), 50, 'bounded work: 100 purged');
    assert.equal((await loginFrom('127.0.0.4')).status, 303);
    assert.equal(await expiredNonces(), 0);
    assert.equal(await nonceRows(), live + 2, 'live nonces are kept');
  });

  it('forgets rate buckets that are full again', async () => {
    await psql(srv.database, `INSERT INTO sso_login_buckets (address, tokens, refilled_at)
      VALUES ('192.0.2.1', 0, now() - interval '2 hours'), ('192.0.2.2', 4, now() - interval '90 minutes')`);
    assert.equal((await loginFrom('127.0.0.5')).status, 303);
    assert.equal((await countRows(srv.database, 'sso_login_buckets', "address LIKE '192.0.2.%'")), 0);
    assert.equal((await countRows(srv.database, 'sso_login_buckets', "address = '127.0.0.5'")), 1);
  });

  it('purges expired and idle sessions when someone signs in', async () => {
    await psql(srv.database, `INSERT INTO sessions (token_hash, forum, user_id, username, method, created_at, last_seen_at, expires_at, idle_timeout) VALUES
      (sha256('expired'::bytea), 'eng', 'old-expired', 'x', 'sso', now() - interval '13 hours', now() - interval '1 hour', now() - interval '1 minute', interval '2 hours'),
      (sha256('idle'::bytea), 'eng', 'old-idle', 'x', 'sso', now() - interval '5 hours', now() - interval '3 hours', now() + interval '7 hours', interval '2 hours'),
      (sha256('live'::bytea), 'eng', 'still-live', 'x', 'sso', now() - interval '1 hour', now() - interval '1 hour', now() + interval '11 hours', interval '2 hours')`);
    const login = await loginFrom('127.0.0.6');
    assert.equal(login.status, 303);
    const cookie = login.headers['set-cookie']?.[0]?.split(';')[0] ?? '';
    const payload = new URLSearchParams(Buffer.from(new URL(login.headers.location).searchParams.get('sso'), 'base64').toString());
    const answer = new URL(idp.answer(payload.get('nonce'), payload.get('return_sso_url'), idp.users.alice));
    assert.equal((await getFrom('127.0.0.6', `/auth/sso${answer.search}`, { cookie })).status, 303);
    assert.equal((await countRows(srv.database, 'sessions', "user_id IN ('old-expired', 'old-idle')")), 0);
    assert.equal((await countRows(srv.database, 'sessions', "user_id IN ('still-live', '1001')")), 2);
  });
});
