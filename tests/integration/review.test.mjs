// The invoker reads and decides (CONTRACT §4.2, §4.3, §6, §7) over real HTTP with dev
// sign-in: the authorization matrix, revision-bound approval, races, CSRF and Origin, the
// forum's decision API, and hostile content rendered inert.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countRows, postIntake, psql, samplePost, sign, startServer, webhookId } from '../lib/harness.mjs';
import { anonymous, devSignIn } from '../lib/web.mjs';

let srv;
const people = {};
before(async () => {
  // no delivery workers: these tests look at decisions, not at their delivery
  srv = await startServer({ delivery: { workers: 0 } });
  people.invoker = await devSignIn(srv, { user_id: '1001', username: 'alice', name: 'Alice' });
  people.delegate = await devSignIn(srv, { user_id: '2002', username: 'bob', name: 'Bob' });
  people.other = await devSignIn(srv, { user_id: '3003', username: 'carol' });
  people.moderator = await devSignIn(srv, { user_id: '4004', username: 'mona', groups: 'staff, moderators' });
  people.agent = await devSignIn(srv, { user_id: 'bot-42', username: 'helperbot' });
  people.anonymous = anonymous(srv);
});
after(async () => {
  await srv.stop();
});

/** Holds a fresh draft; optionally delegates it to bob. */
async function newDraft({ delegate = false, body = 'Restart the **ingest** worker.', post } = {}) {
  const res = await postIntake(srv, samplePost({ post: post ?? { topic_id: '5531', body } }));
  assert.equal(res.status, 202, res.text);
  const id = res.json.draft_id;
  if (delegate) {
    const d = await people.invoker.post(`/drafts/${id}/delegate`, { username: 'bob' });
    assert.equal(d.status, 303, d.text);
  }
  return id;
}

const state = (id) => psql(srv.database, `SELECT state FROM drafts WHERE id = '${id}'`);
const revision = async (id) => Number(await psql(srv.database, `SELECT revision FROM drafts WHERE id = '${id}'`));

// role -> expected status for each action; 303 means it took effect
const matrix = {
  'GET /drafts/{id}': { anonymous: 303, invoker: 200, delegate: 200, other: 404, moderator: 200, agent: 404 },
  'POST approve': { anonymous: 403, invoker: 303, delegate: 303, other: 404, moderator: 403, agent: 404 },
  'POST reject': { anonymous: 403, invoker: 303, delegate: 303, other: 404, moderator: 403, agent: 404 },
  'POST edit': { anonymous: 403, invoker: 303, delegate: 303, other: 404, moderator: 403, agent: 404 },
  'POST delegate': { anonymous: 403, invoker: 303, delegate: 403, other: 404, moderator: 403, agent: 404 },
  'API decision': { invoker: 200, delegate: 200, other: 403, moderator: 403, agent: 403 },
};
const actorIds = { invoker: ['1001', 'alice'], delegate: ['2002', 'bob'], other: ['3003', 'carol'], moderator: ['4004', 'mona'], agent: ['bot-42', 'helperbot'] };

/**
 * A signed forum request (CONTRACT §4.2, §4.3): a POST signs its body, a GET signs
 * "GET {path}". A decision body gets the path's draft_id unless it names one. Returns the
 * answer and the request as sent ({url, method, headers, body}) for replays.
 */
async function signedApi(method, path, bodyObject, { id = webhookId() } = {}) {
  const draftId = /\/drafts\/([^/]+)/.exec(path)?.[1];
  const object = bodyObject && !('draft_id' in bodyObject) ? { draft_id: draftId, ...bodyObject } : bodyObject;
  const body = method === 'GET' ? '' : JSON.stringify(object ?? {});
  const ts = Math.floor(Date.now() / 1000);
  const payload = method === 'GET' ? `GET ${path}` : body;
  const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(srv.secret, id, ts, payload) };
  const sent = { url: `${srv.url}${path}`, method, headers, body: method === 'GET' ? undefined : body };
  return { ...(await send(sent)), sent };
}

/** Sends a captured request again, unchanged or onto another URL. */
async function send({ url, method, headers, body }) {
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : null };
}

/**
 * A page form refused: it redirects (303) back to the draft page with the error's code, and
 * that page answers with the error's status and says why.
 */
async function expectRefused(client, res, id, code, status, sentence) {
  assert.equal(res.status, 303, res.text.slice(0, 300));
  const location = res.headers.get('location');
  assert.match(location, new RegExp(`^/drafts/${id}\\?(.*&)?error=${code}(&|$)`));
  const page = await client.get(location);
  assert.equal(page.status, status);
  if (sentence) assert.match(page.text, sentence);
  return page;
}

describe('authorization matrix', () => {
  for (const [action, cells] of Object.entries(matrix)) {
    for (const [role, expected] of Object.entries(cells)) {
      it(`${action} as ${role} answers ${expected}`, async () => {
        const id = await newDraft({ delegate: true });
        const who = people[role];
        let res;
        if (action === 'GET /drafts/{id}') {
          res = await who.get(`/drafts/${id}`);
          if (expected === 200) {
            assert.match(res.text, /ingest/);
            const forms = /action="\/drafts\/[^"]+\/approve"/.test(res.text);
            assert.equal(forms, role === 'invoker' || role === 'delegate', 'decision forms shown only to deciders');
          } else {
            assert.doesNotMatch(res.text, /ingest/, 'no content leaks');
          }
          if (expected === 303) assert.match(res.headers.get('location'), /^\/auth\/login\?return_to=/);
        } else if (action === 'API decision') {
          const [aid, aname] = actorIds[role];
          res = await signedApi('POST', `/v1/forums/eng/drafts/${id}/decision`, { actor: { id: aid, name: aname }, decision: 'approve', acknowledged_flags: [] });
        } else {
          const verb = action.split(' ')[1];
          const fields = { approve: { revision: '1' }, reject: { revision: '1', reason: 'not right' }, edit: { revision: '1', body: 'Edited body' }, delegate: { username: 'carol' } }[verb];
          res = await who.post(`/drafts/${id}/${verb}`, fields);
          if (expected !== 303) assert.doesNotMatch(res.text, /ingest/, 'no content leaks');
        }
        assert.equal(res.status, expected, res.text.slice(0, 300));
        const after = await state(id);
        if (action === 'POST approve' || action === 'API decision') assert.equal(after, expected === 303 || expected === 200 ? 'approved' : 'pending');
        if (action === 'POST reject') assert.equal(after, expected === 303 ? 'rejected' : 'pending');
        if (action === 'POST edit') assert.equal(await revision(id), expected === 303 ? 2 : 1);
      });
    }
  }

  it('shows each user only the drafts they invoked or were handed on /', async () => {
    const id = await newDraft();
    assert.match((await people.invoker.get('/')).text, new RegExp(id));
    assert.doesNotMatch((await people.other.get('/')).text, new RegExp(id));
    const anon = await people.anonymous.get('/');
    assert.equal(anon.status, 303);
  });

  it('gives the same 404 for a draft that does not exist and for a malformed id', async () => {
    for (const path of ['/drafts/00000000-0000-4000-8000-000000000000', '/drafts/not-a-uuid', "/drafts/1'%20OR%20'1'='1"]) {
      const res = await people.invoker.get(path);
      assert.equal(res.status, 404, path);
    }
  });
});

describe('deciding', () => {
  it('approves exactly the revision shown and refuses a stale one with 409', async () => {
    const id = await newDraft();
    const edit = await people.invoker.post(`/drafts/${id}/edit`, { revision: '1', body: 'Second version\nwith two lines' });
    assert.equal(edit.status, 303);
    assert.equal(await revision(id), 2);
    assert.equal(edit.headers.get('location'), `/drafts/${id}?done=edited&revision=2`);
    assert.match((await people.invoker.get(edit.headers.get('location'))).text, /Saved as revision 2\./);
    const stale = await people.invoker.post(`/drafts/${id}/approve`, { revision: '1' });
    const page = await expectRefused(people.invoker, stale, id, 'revision_changed', 409, /changed since you opened it/);
    assert.match(page.text, /Second version/);
    assert.equal(await state(id), 'pending');
    const ok = await people.invoker.post(`/drafts/${id}/approve`, { revision: '2' });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), `/drafts/${id}?done=approved`);
    assert.equal(await state(id), 'approved');
    const audit = await psql(srv.database, `SELECT details->>'revision' FROM audit_events WHERE draft_id = '${id}' AND action = 'draft.approve'`);
    assert.equal(audit, '2');
    const editAudit = JSON.parse(await psql(srv.database, `SELECT details FROM audit_events WHERE draft_id = '${id}' AND action = 'draft.edit'`));
    assert.equal(editAudit.diff.added, 2);
    assert.equal(editAudit.diff.deleted, 1);
  });

  it('produces exactly one decision from a double click, two tabs or two approvers racing', async () => {
    const id = await newDraft({ delegate: true });
    const attempts = [
      ...Array.from({ length: 4 }, () => people.invoker.post(`/drafts/${id}/approve`, { revision: '1' })),
      ...Array.from({ length: 4 }, () => people.delegate.post(`/drafts/${id}/reject`, { revision: '1', reason: 'no' })),
    ];
    const results = await Promise.all(attempts);
    for (const r of results) assert.equal(r.status, 303);
    const won = results.filter((r) => /done=(approved|rejected)/.test(r.headers.get('location')));
    assert.equal(won.length, 1, results.map((r) => r.headers.get('location')).join(','));
    for (const r of results) if (!won.includes(r)) assert.match(r.headers.get('location'), /error=not_pending/);
    assert.equal(await countRows(srv.database, 'audit_events', `draft_id = '${id}' AND action IN ('draft.approve', 'draft.reject')`), 1);
  });

  it('refuses to reject without a reason', async () => {
    const id = await newDraft();
    const res = await people.invoker.post(`/drafts/${id}/reject`, { revision: '1', reason: '   ' });
    await expectRefused(people.invoker, res, id, 'reason_required', 400, /Give a reason/);
    assert.equal(await state(id), 'pending');
  });

  it('requires an acknowledgement for every flag before approving', async () => {
    const id = await newDraft({ body: 'Use AKIAZ7QW3ERTY6UIOP4X and then rm -rf /srv/data' });
    const flags = Number(await psql(srv.database, `SELECT jsonb_array_length(flags) FROM drafts WHERE id = '${id}'`));
    assert.ok(flags >= 2);
    const page = await people.invoker.get(`/drafts/${id}`);
    assert.doesNotMatch(page.text, /AKIAZ7QW3ERTY6UIOP4X/, 'secrets are shown masked');
    const partial = await people.invoker.post(`/drafts/${id}/approve`, { revision: '1', ack: ['0'] });
    await expectRefused(people.invoker, partial, id, 'flags_not_acknowledged', 400, /acknowledgement of every flag/);
    assert.equal(await state(id), 'pending');
    const all = await people.invoker.post(`/drafts/${id}/approve`, { revision: '1', ack: Array.from({ length: flags }, (_, i) => String(i)) });
    assert.equal(all.status, 303);
    assert.equal(await state(id), 'approved');
  });

  it('records a delegate decision as on behalf of the invoker', async () => {
    const id = await newDraft({ delegate: true });
    const res = await people.delegate.post(`/drafts/${id}/approve`, { revision: '1' });
    assert.equal(res.status, 303);
    assert.equal(await psql(srv.database, `SELECT details->>'on_behalf_of' FROM audit_events WHERE draft_id = '${id}' AND action = 'draft.approve'`), 'alice');
    const page = await people.invoker.get(`/drafts/${id}`);
    assert.match(page.text, /on behalf of alice/);
  });

  it('refuses to delegate to someone who never signed in, to the agent, or to oneself', async () => {
    const id = await newDraft();
    for (const username of ['nobody', 'helperbot', 'alice']) {
      const res = await people.invoker.post(`/drafts/${id}/delegate`, { username });
      const page = await expectRefused(people.invoker, res, id, 'unknown_colleague', 400, /No colleague of that username/);
      assert.match(page.text, new RegExp(`value="${username}"`), 'what was typed is kept');
    }
    assert.equal(await psql(srv.database, `SELECT coalesce(delegate_id, 'none') FROM drafts WHERE id = '${id}'`), 'none');
  });

  it('audits a moderator opening a draft that is not theirs', async () => {
    const id = await newDraft();
    await people.moderator.get(`/drafts/${id}`);
    assert.equal(await countRows(srv.database, 'audit_events', `draft_id = '${id}' AND action = 'draft.view'`), 1);
    await people.invoker.get(`/drafts/${id}`);
    assert.equal(await countRows(srv.database, 'audit_events', `draft_id = '${id}' AND action = 'draft.view'`), 1);
  });
});

describe('forms are refused without CSRF token or from another origin', () => {
  it('refuses a missing or wrong csrf field', async () => {
    const id = await newDraft();
    const missing = await people.invoker.post(`/drafts/${id}/approve`, { revision: '1' }, { withCsrf: false });
    assert.equal(missing.status, 403);
    const wrong = await people.invoker.post(`/drafts/${id}/approve`, { revision: '1', csrf: 'a'.repeat(64) }, { withCsrf: false });
    assert.equal(wrong.status, 403);
    const otherToken = await people.invoker.post(`/drafts/${id}/approve`, { revision: '1', csrf: people.delegate.csrf }, { withCsrf: false });
    assert.equal(otherToken.status, 403);
    assert.equal(await state(id), 'pending');
  });

  it('refuses a form from another origin or with no origin at all', async () => {
    const id = await newDraft();
    const evil = await people.invoker.post(`/drafts/${id}/approve`, { revision: '1' }, { origin: 'http://evil.example' });
    assert.equal(evil.status, 403);
    const none = await people.invoker.post(`/drafts/${id}/approve`, { revision: '1' }, { origin: null });
    assert.equal(none.status, 403);
    assert.equal(await state(id), 'pending');
  });

  it('changes nothing on GET of an action URL', async () => {
    const id = await newDraft();
    const res = await people.invoker.get(`/drafts/${id}/approve`);
    assert.equal(res.status, 405);
    assert.equal(await state(id), 'pending');
  });

  it('signs out server-side: the old cookie no longer works', async () => {
    const client = await devSignIn(srv, { user_id: '1001', username: 'alice' });
    const id = await newDraft();
    assert.equal((await client.get(`/drafts/${id}`)).status, 200);
    const out = await client.post('/auth/logout', {});
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie'), /Max-Age=0/);
    assert.equal((await client.get(`/drafts/${id}`)).status, 303);
    assert.equal(await countRows(srv.database, 'audit_events', "action = 'auth.sign_out'"), 1);
  });

  it('sets a HttpOnly SameSite session cookie, a new one at every sign-in, and security headers', async () => {
    const a = await devSignIn(srv, { user_id: '1001', username: 'alice' });
    const b = await devSignIn(srv, { user_id: '1001', username: 'alice' });
    assert.notEqual(a.cookie, b.cookie);
    const res = await fetch(`${srv.url}/auth/dev`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: srv.url },
      body: new URLSearchParams({ forum: 'eng', user_id: '1001', username: 'alice' }),
    });
    const cookie = res.headers.get('set-cookie');
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\//);
    const page = await a.get('/');
    const csp = page.headers.get('content-security-policy');
    for (const part of ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "default-src 'none'"]) assert.ok(csp.includes(part), csp);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(page.headers.get('referrer-policy'));
    assert.match(page.text, /Development sign-in/i, 'dev mode warning bar');
    // the database keeps only the SHA-256 of the cookie's token, and the token nowhere
    const token = a.cookie.split('=')[1];
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await countRows(srv.database, 'sessions', `token_hash = sha256(convert_to('${token}', 'UTF8'))`), 1);
    assert.equal(await countRows(srv.database, 'sessions', `strpos(sessions::text, '${token}') > 0`), 0);
  });
});

describe('the forum decision and read API', () => {
  it('reads the current revision with flags; post_id and post_url stay null until released', async () => {
    const id = await newDraft({ body: 'mail me at maria.lopez@gmail.com' });
    const res = await signedApi('GET', `/v1/forums/eng/drafts/${id}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.draft_id, id);
    assert.equal(res.json.state, 'pending');
    assert.equal(res.json.revision, 1);
    assert.equal(res.json.post.body, 'mail me at maria.lopez@gmail.com');
    assert.equal(res.json.post.topic_id, '5531');
    assert.equal(res.json.post_id, null);
    assert.equal(res.json.post_url, null);
    assert.ok(res.json.flags.some((f) => f.code.startsWith('pii.')));
  });

  it('refuses unsigned reads and unknown drafts', async () => {
    const id = await newDraft();
    const unsigned = await fetch(`${srv.url}/v1/forums/eng/drafts/${id}`);
    assert.equal(unsigned.status, 401);
    const unknown = await signedApi('GET', '/v1/forums/eng/drafts/00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.status, 404);
  });

  it('decides with the same rules: flags acknowledged, reason to reject, 409 once decided', async () => {
    const id = await newDraft({ body: 'key AKIAZ7QW3ERTY6UIOP4X' });
    const path = `/v1/forums/eng/drafts/${id}/decision`;
    const actor = { id: '1001', name: 'alice' };
    const noAck = await signedApi('POST', path, { actor, decision: 'approve' });
    assert.equal(noAck.status, 400);
    assert.equal(noAck.json.error.code, 'flags_not_acknowledged');
    const noReason = await signedApi('POST', path, { actor, decision: 'reject' });
    assert.equal(noReason.status, 400);
    assert.equal(noReason.json.error.field, 'reason');
    const bad = await signedApi('POST', path, { actor, decision: 'maybe' });
    assert.equal(bad.status, 400);
    const ok = await signedApi('POST', path, { actor, decision: 'approve', acknowledged_flags: ['secret.aws_access_key'] });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.state, 'approved');
    const again = await signedApi('POST', path, { actor, decision: 'reject', reason: 'too late' });
    assert.equal(again.status, 409);
    assert.equal(await psql(srv.database, `SELECT details->>'source' FROM audit_events WHERE draft_id = '${id}' AND action = 'draft.approve'`), 'forum');
  });
});

describe('hostile content renders inert', () => {
  it('escapes script, event handlers, textarea breakouts and quotes in every shown field', async () => {
    const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>"'></textarea><b>\u202Egnp.exe`;
    const res = await postIntake(srv, {
      agent: { id: 'bot-x', name: evil },
      invoker: { id: '1001', name: evil },
      post: { category: 'c', title: evil, body: `${evil}\n\n[click](javascript:alert(3))\n\n<iframe src="http://evil.example"></iframe>` },
      context: { question_url: 'javascript:alert(4)', agent_run_url: evil, prompt_excerpt: evil },
    });
    assert.equal(res.status, 202, res.text);
    const page = await people.invoker.get(`/drafts/${res.json.draft_id}`);
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, /<script>alert/);
    assert.doesNotMatch(page.text, /<img src=x onerror/);
    assert.doesNotMatch(page.text, /<iframe/);
    assert.doesNotMatch(page.text, /href="javascript:/i);
    assert.doesNotMatch(page.text, /<\/textarea><b>/);
    assert.match(page.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });
});
