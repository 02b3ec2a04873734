// What the approver sees is the truth, and a captured forum request acts once (CONTRACT §4.1,
// §4.2, §4.3, §7; issues 9 and 12), over real HTTP against a real PostgreSQL:
// decisions bound to their draft and single use, reads signed over method and path, secrets
// masked everywhere and kept through edits, Redact, the kill switch and pauses refusing
// approvals without losing them, many flags, topic titles and links, state-aware pages,
// redirect-after-post with the typed text kept, moderators' back links and names.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countRows, postIntake, psql, runCli, samplePost, sign, startServer, webhookId } from '../lib/harness.mjs';
import { devSignIn } from '../lib/web.mjs';

let srv;
const people = {};
before(async () => {
  srv = await startServer({ delivery: { workers: 0 } });
  people.invoker = await devSignIn(srv, { user_id: '1001', username: 'alice', name: 'Alice' });
  people.moderator = await devSignIn(srv, { user_id: '4004', username: 'mona', name: 'Mona', groups: 'moderators' });
});
after(async () => {
  await srv.stop();
});

const AWS_SECRET = 'q7VtZp2LxR9mW4kN8sB3dF6hJ1yC5gT0aE2uI9oP';
const SECRET_BODY = `Set this in the config:\n\naws_secret_access_key = ${AWS_SECRET}\n\nthen restart the **ingest** worker.`;

async function newDraft(post, patch = {}) {
  const res = await postIntake(srv, samplePost({ post: { topic_id: '5531', body: 'Restart the **ingest** worker.', ...post }, ...patch }));
  assert.equal(res.status, 202, res.text);
  return res.json.draft_id;
}

const state = (id) => psql(srv.database, `SELECT state FROM drafts WHERE id = '${id}'`);
const body = (id) => psql(srv.database, `SELECT r.body FROM drafts d JOIN draft_revisions r ON r.draft_id = d.id AND r.revision = d.revision WHERE d.id = '${id}'`);

/** A signed forum request: POST signs its body, GET signs "GET {path}". */
async function signed(method, path, object, { id = webhookId() } = {}) {
  const text = method === 'GET' ? '' : JSON.stringify(object);
  const ts = Math.floor(Date.now() / 1000);
  const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(srv.secret, id, ts, method === 'GET' ? `GET ${path}` : text) };
  const sent = { url: `${srv.url}${path}`, method, headers, body: method === 'GET' ? undefined : text };
  return { ...(await send(sent)), sent };
}

async function send({ url, method, headers, body: text }) {
  const res = await fetch(url, { method, headers, body: text });
  const answer = await res.text();
  return { status: res.status, text: answer, json: answer ? JSON.parse(answer) : null };
}

const approveBody = (id, extra = {}) => ({ draft_id: id, actor: { id: '1001', name: 'alice' }, decision: 'approve', acknowledged_flags: [], ...extra });

/** Follows a form's 303 and returns the page it lands on. */
async function landing(client, res) {
  assert.equal(res.status, 303, res.text.slice(0, 200));
  const page = await client.get(res.headers.get('location'));
  return { ...page, location: res.headers.get('location') };
}

/** The text a reader sees in a page: tags and attribute values gone. */
const visible = (html) => html.replace(/<[^>]*>/g, ' ');

describe('a captured forum request acts on nothing else', () => {
  it('refuses a decision whose body names another draft, or none', async () => {
    const [a, b] = [await newDraft(), await newDraft()];
    const other = await signed('POST', `/v1/forums/eng/drafts/${b}/decision`, approveBody(a));
    assert.equal(other.status, 400);
    assert.equal(other.json.error.field, 'draft_id');
    const none = await signed('POST', `/v1/forums/eng/drafts/${b}/decision`, { actor: { id: '1001', name: 'alice' }, decision: 'approve' });
    assert.equal(none.status, 400);
    assert.equal(none.json.error.code, 'missing_field');
    assert.equal(await state(a), 'pending');
    assert.equal(await state(b), 'pending');
  });

  it('refuses a captured decision replayed onto another draft of the same invoker', async () => {
    const [a, b] = [await newDraft(), await newDraft()];
    const first = await signed('POST', `/v1/forums/eng/drafts/${a}/decision`, approveBody(a));
    assert.equal(first.status, 200, first.text);
    const replay = await send({ ...first.sent, url: `${srv.url}/v1/forums/eng/drafts/${b}/decision` });
    assert.equal(replay.status, 400);
    assert.equal(await state(b), 'pending');
  });

  it('answers the same webhook-id with the first answer and decides once', async () => {
    const id = await newDraft();
    const first = await signed('POST', `/v1/forums/eng/drafts/${id}/decision`, approveBody(id));
    assert.equal(first.status, 200);
    const again = await send(first.sent);
    assert.equal(again.status, 200);
    assert.equal(again.text, first.text);
    const racing = await Promise.all(Array.from({ length: 4 }, () => send(first.sent)));
    for (const r of racing) assert.equal(r.text, first.text);
    assert.equal(await countRows(srv.database, 'audit_events', `draft_id = '${id}' AND action = 'draft.approve'`), 1);
    assert.equal(await countRows(srv.database, 'outbox', `draft_id = '${id}'`), 1);
  });

  it('remembers a refusal too: the same id is refused the same way after the draft changed', async () => {
    const id = await newDraft({ body: 'key AKIAIOSFODNN7ABCDEFG' });
    const first = await signed('POST', `/v1/forums/eng/drafts/${id}/decision`, approveBody(id));
    assert.equal(first.status, 400);
    assert.equal(first.json.error.code, 'flags_not_acknowledged');
    const ok = await signed('POST', `/v1/forums/eng/drafts/${id}/decision`, approveBody(id, { acknowledged_flags: ['secret.aws_access_key'] }));
    assert.equal(ok.status, 200);
    const again = await send(first.sent);
    assert.equal(again.status, 400);
    assert.equal(again.text, first.text);
  });

  it('purges remembered ids after more than twice the timestamp tolerance', async () => {
    const id = await newDraft();
    const first = await signed('POST', `/v1/forums/eng/drafts/${id}/decision`, approveBody(id));
    assert.equal(first.status, 200);
    const key = first.sent.headers['webhook-id'];
    await psql(srv.database, `UPDATE forum_decision_requests SET received_at = now() - interval '11 minutes' WHERE webhook_id = '${key}'`);
    const other = await newDraft();
    await signed('POST', `/v1/forums/eng/drafts/${other}/decision`, approveBody(other));
    assert.equal(await countRows(srv.database, 'forum_decision_requests', `webhook_id = '${key}'`), 1, 'kept for at least 10 minutes');
    await psql(srv.database, `UPDATE forum_decision_requests SET received_at = now() - interval '16 minutes' WHERE webhook_id = '${key}'`);
    await signed('POST', `/v1/forums/eng/drafts/${other}/decision`, approveBody(other));
    assert.equal(await countRows(srv.database, 'forum_decision_requests', `webhook_id = '${key}'`), 0);
  });

  it('signs a read over its method and path: a captured read replayed onto another draft is refused', async () => {
    const [a, b] = [await newDraft({ body: 'first draft' }), await newDraft({ body: 'second draft' })];
    const read = await signed('GET', `/v1/forums/eng/drafts/${a}`);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.json.post.body, 'first draft');
    const replay = await send({ ...read.sent, url: `${srv.url}/v1/forums/eng/drafts/${b}` });
    assert.equal(replay.status, 401);
    assert.doesNotMatch(replay.text, /second draft/);
    // the old way, an empty body signed, no longer reads
    const ts = Math.floor(Date.now() / 1000);
    const wid = webhookId();
    const old = await fetch(`${srv.url}/v1/forums/eng/drafts/${a}`, { headers: { 'webhook-id': wid, 'webhook-timestamp': String(ts), 'webhook-signature': sign(srv.secret, wid, ts, '') } });
    assert.equal(old.status, 401);
  });
});

describe('secrets are never shown in clear', () => {
  it('masks the list, the window title, the source, the preview and the edit box, keeping the key name', async () => {
    const id = await newDraft({ topic_id: undefined, category: 'infra', title: `Key AKIAIOSFODNN7ABCDEFG leaked`, body: SECRET_BODY });
    for (const page of [await people.invoker.get('/'), await people.invoker.get(`/drafts/${id}`), await people.moderator.get(`/drafts/${id}`)]) {
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.text, /q7VtZp2LxR9mW4kN|IOSFODNN7ABCDEFG/);
    }
    const page = await people.invoker.get(`/drafts/${id}`);
    assert.match(page.text, /<title>Key AKIA••••••⟨\d⟩ leaked · agentgate<\/title>/);
    assert.match(page.text, /aws_secret_access_key = ••••••⟨\d⟩/);
    assert.match(page.text, /2 secrets masked on this page will be published in full/);
    const list = await people.invoker.get('/');
    assert.match(list.text, /Key AKIA••••••⟨\d⟩ leaked/);
  });

  it('masks a secret written into a rejection reason, in the decision and the timeline', async () => {
    const id = await newDraft();
    const res = await people.invoker.post(`/drafts/${id}/reject`, { revision: '1', reason: `it leaks password=${'hunter2hunter'} again` });
    const page = await landing(people.invoker, res);
    assert.doesNotMatch(page.text, /hunter2hunter/);
    assert.match(page.text, /password&#61;••••••⟨\d⟩ again/);
  });

  it('keeps an untouched secret through an edit, and flags it still', async () => {
    const id = await newDraft({ body: SECRET_BODY });
    const page = await people.invoker.get(`/drafts/${id}`);
    const box = /<textarea name="body"[^>]*>\n?([\s\S]*?)<\/textarea>/.exec(page.text)[1];
    const shown = box.replace(/&#61;/g, '=').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    assert.match(shown, /aws_secret_access_key = ••••••⟨1⟩/);
    const edited = shown.replace('then restart', 'then carefully restart');
    const res = await people.invoker.post(`/drafts/${id}/edit`, { revision: '1', body: edited });
    const saved = await landing(people.invoker, res);
    assert.match(saved.text, /Saved as revision 2\./);
    assert.ok((await body(id)).includes(`aws_secret_access_key = ${AWS_SECRET}`), await body(id));
    assert.ok((await body(id)).includes('then carefully restart'));
    assert.ok((await psql(srv.database, `SELECT flags::text FROM drafts WHERE id = '${id}'`)).includes('secret.'), 'the secret is still flagged');
    const audit = await psql(srv.database, `SELECT details::text FROM audit_events WHERE draft_id = '${id}' AND action = 'draft.edit'`);
    assert.doesNotMatch(audit, /q7VtZp2LxR9mW4kN/, 'the audited diff is masked');
    assert.doesNotMatch(saved.text, /q7VtZp2LxR9mW4kN/);
  });

  it('treats a changed or removed placeholder as the editor\'s explicit change', async () => {
    const id = await newDraft({ body: SECRET_BODY });
    const res = await people.invoker.post(`/drafts/${id}/edit`, { revision: '1', body: 'aws_secret_access_key = use-the-vault\n\nthen restart.' });
    await landing(people.invoker, res);
    assert.equal(await body(id), 'aws_secret_access_key = use-the-vault\n\nthen restart.');
  });

  it('redacts one secret flag into a new revision', async () => {
    const id = await newDraft({ body: SECRET_BODY });
    const flags = JSON.parse(await psql(srv.database, `SELECT flags::text FROM drafts WHERE id = '${id}'`));
    const index = flags.findIndex((f) => f.code.startsWith('secret.'));
    const res = await people.invoker.post(`/drafts/${id}/redact`, { revision: '1', flag: String(index) });
    const page = await landing(people.invoker, res);
    assert.match(page.text, /The secret was redacted: saved as revision 2\./);
    assert.ok((await body(id)).includes('aws_secret_access_key = [REDACTED]'), await body(id));
    assert.doesNotMatch(page.text, /will be published in full/);
    assert.equal(await psql(srv.database, `SELECT details->'diff'->>'redacted' FROM audit_events WHERE draft_id = '${id}' AND action = 'draft.edit'`), 'true');
    const notSecret = await people.invoker.post(`/drafts/${id}/redact`, { revision: '2', flag: '99' });
    assert.match(notSecret.headers.get('location'), /error=not_a_secret/);
  });
  it('shows the line the wording check reads as a credential in full, counts no secret and will not redact it', async () => {
    const text = 'I pasted the login for the staging admin account in the team chat so everyone can sign in; the password is the one we use for the shared vault, ask me if it does not work.';
    const id = await newDraft({ body: text });
    const flags = JSON.parse(await psql(srv.database, `SELECT flags::text FROM drafts WHERE id = '${id}'`));
    const index = flags.findIndex((f) => f.code === 'secret.reads_like');
    // the case under test: the wording check's secret flag, and no secret rule's
    assert.ok(index >= 0 && flags.filter((f) => f.code.startsWith('secret.')).length === 1, JSON.stringify(flags));
    const page = await people.invoker.get(`/drafts/${id}`);
    assert.doesNotMatch(page.text, /will be published in full/);
    assert.match(page.text, /the password is the one we use for the shared vault/);
    assert.doesNotMatch(page.text, /action="\/drafts\/[^"]+\/redact"/);
    const res = await people.invoker.post(`/drafts/${id}/redact`, { revision: '1', flag: String(index) });
    assert.match(res.headers.get('location'), /error=not_a_secret/);
    assert.equal(await body(id), text);
  });
});

describe('the kill switch and pauses refuse approvals and keep the review', () => {
  it('says so on every page, refuses Approve (page 423, API 423) and approves once resumed', async () => {
    const id = await newDraft();
    const viaApi = await newDraft();
    assert.equal((await runCli(['--config', srv.configFile, 'killswitch', 'on', '--reason', 'incident 7'])).status, 0);
    try {
      for (const path of ['/', `/drafts/${id}`]) assert.match((await people.invoker.get(path)).text, /Kill switch on: every agent is stopped\.[\s\S]*incident 7/);
      for (const path of ['/agents', '/history', '/audit']) assert.match((await people.moderator.get(path)).text, /Kill switch on: every agent is stopped\./, path);
      const res = await people.invoker.post(`/drafts/${id}/approve`, { revision: '1' });
      const page = await landing(people.invoker, res);
      assert.equal(page.status, 423);
      assert.match(page.text, /Not approved: the kill switch is on/);
      assert.equal(await state(id), 'pending');
      const api = await signed('POST', `/v1/forums/eng/drafts/${viaApi}/decision`, approveBody(viaApi));
      assert.equal(api.status, 423);
      assert.equal(api.json.status, 'blocked');
      assert.equal(api.json.error.code, 'kill_switch_on');
      assert.equal(await state(viaApi), 'pending');
      // a 423 is worth retrying: the same request succeeds once agents are resumed
      assert.equal((await runCli(['--config', srv.configFile, 'killswitch', 'off'])).status, 0);
      assert.equal((await send(api.sent)).status, 200);
      assert.equal(await state(viaApi), 'approved');
    } finally {
      await runCli(['--config', srv.configFile, 'killswitch', 'off']);
    }
    for (const path of ['/', '/agents', `/drafts/${id}`]) assert.doesNotMatch((await people.moderator.get(path)).text, /Kill switch on/, `${path} once it is off`);
    const again = await people.invoker.post(`/drafts/${id}/approve`, { revision: '1' });
    assert.match(again.headers.get('location'), /done=approved/);
    assert.equal(await state(id), 'approved');
  });

  it('refuses to approve a paused agent\'s draft, says so, and approves after resume', async () => {
    const id = await newDraft({}, { agent: { id: 'bot-paused', name: 'pausedbot' } });
    assert.equal((await runCli(['--config', srv.configFile, 'agent', 'pause', 'eng', 'bot-paused', '--reason', 'noisy'])).status, 0);
    assert.match((await people.invoker.get(`/drafts/${id}`)).text, /This draft&#39;s agent is paused<\/strong> \(<bdi>noisy<\/bdi>\)|This draft's agent is paused/);
    assert.match((await people.invoker.get('/')).text, /agent paused: cannot be approved now/);
    const api = await signed('POST', `/v1/forums/eng/drafts/${id}/decision`, approveBody(id));
    assert.equal(api.status, 423);
    assert.equal(api.json.error.code, 'agent_paused');
    const page = await landing(people.invoker, await people.invoker.post(`/drafts/${id}/approve`, { revision: '1' }));
    assert.equal(page.status, 423);
    assert.equal(await state(id), 'pending');
    assert.equal((await runCli(['--config', srv.configFile, 'agent', 'resume', 'eng', 'bot-paused'])).status, 0);
    assert.equal((await signed('POST', `/v1/forums/eng/drafts/${id}/decision`, approveBody(id))).status, 200);
  });
});

describe('smaller defects', () => {
  it('approves a draft with 70 flags, each acknowledged', async () => {
    const mails = Array.from({ length: 70 }, (_, i) => `person${i}@corp-mail.net`).join('\n\n');
    const id = await newDraft({ body: `Contacts:\n\n${mails}` });
    const count = Number(await psql(srv.database, `SELECT jsonb_array_length(flags) FROM drafts WHERE id = '${id}'`));
    assert.ok(count >= 63, `flags: ${count}`);
    const res = await people.invoker.post(`/drafts/${id}/approve`, { revision: '1', ack: Array.from({ length: count }, (_, i) => String(i)) });
    assert.match(res.headers.get('location'), /done=approved/);
    assert.equal(await state(id), 'approved');
  });

  it('refuses a top-level dotted key such as "agent.id" in an intake body', async () => {
    const res = await postIntake(srv, { ...samplePost(), 'agent.id': 'someone-else' });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.field, 'agent.id');
  });

  it('audits a moderator\'s delivery retry under user:<id> with the name', async () => {
    const id = await newDraft();
    assert.equal((await signed('POST', `/v1/forums/eng/drafts/${id}/decision`, approveBody(id))).status, 200);
    await psql(srv.database, `INSERT INTO deliveries (webhook_id, draft_id, forum, event_type, payload, created_at, outcome, attempts) SELECT webhook_id, draft_id, forum, event_type, payload, now(), 'failed', 9 FROM outbox WHERE draft_id = '${id}'; DELETE FROM outbox WHERE draft_id = '${id}'; UPDATE drafts SET state = 'release_failed' WHERE id = '${id}'`);
    const res = await people.moderator.post(`/drafts/${id}/retry`, {});
    assert.match(res.headers.get('location'), /done=retried/);
    assert.equal(await psql(srv.database, `SELECT actor || ' ' || (details->>'actor_name') FROM audit_events WHERE draft_id = '${id}' AND action = 'delivery.retry'`), 'user:4004 Mona');
  });
});

describe('where, why and when read as people read them', () => {
  it('stores a reply\'s topic title and link and shows them on the draft page and on /', async () => {
    const id = await newDraft({ topic_title: 'Ingest is stuck again', topic_url: 'https://forum.example/t/ingest-stuck/5531', reply_to_post_id: '99001' });
    assert.equal(await psql(srv.database, `SELECT topic_title || ' ' || topic_url FROM drafts WHERE id = '${id}'`), 'Ingest is stuck again https://forum.example/t/ingest-stuck/5531');
    for (const path of [`/drafts/${id}`, '/']) {
      const page = await people.invoker.get(path);
      assert.match(page.text, /<a href="https:\/\/forum.example\/t\/ingest-stuck\/5531" rel="noopener noreferrer"><bdi>Ingest is stuck again<\/bdi><\/a>/);
    }
    const read = await signed('GET', `/v1/forums/eng/drafts/${id}`);
    assert.equal(read.json.post.topic_title, 'Ingest is stuck again');
  });

  it('shows a topic link only for http(s) and refuses a topic title on a new topic', async () => {
    const id = await newDraft({ topic_title: 'Odd', topic_url: 'javascript:alert(1)' });
    const page = await people.invoker.get(`/drafts/${id}`);
    assert.doesNotMatch(page.text, /href="javascript:/);
    const res = await postIntake(srv, samplePost({ post: { category: 'infra', title: 'T', body: 'b', topic_title: 'x' } }));
    assert.equal(res.status, 400);
    assert.equal(res.json.error.field, 'post.topic_title');
  });

  it('lists excerpts as plain text with GFM rendered in the preview, raw HTML never', async () => {
    const id = await newDraft({ body: '**Restart** the `ingest` worker:\n\n| host | state |\n|---|---|\n| db1 | ~~down~~ up |\n\n- [x] drained\n\n<b>raw</b>' });
    const list = await people.invoker.get('/');
    assert.match(list.text, /Restart the ingest worker: host state db1 down up/);
    const page = await people.invoker.get(`/drafts/${id}`);
    assert.match(page.text, /<table>/);
    assert.match(page.text, /<del>down<\/del>/);
    assert.match(page.text, /<input type="checkbox" checked="" disabled="" \/>/);
    assert.doesNotMatch(page.text, /<b>raw<\/b>/);
  });

  it('shows each flag with its explanation and times with UTC stated', async () => {
    const id = await newDraft({ body: 'then run rm -rf /srv/data' });
    const page = await people.invoker.get(`/drafts/${id}`);
    assert.match(page.text, /class="flag-message">[^<]+</);
    assert.match(page.text, /just now/);
    assert.match(page.text, /\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC/);
    assert.doesNotMatch(visible(page.text), /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/, 'no raw ISO time in what people read');
  });

  it('says nothing about expiry or acknowledgements once decided, and links the published post', async () => {
    const id = await newDraft({ body: 'then run rm -rf /srv/data' });
    const pending = await people.invoker.get(`/drafts/${id}`);
    assert.match(pending.text, /<dt>Expires<\/dt>/);
    const flags = Number(await psql(srv.database, `SELECT jsonb_array_length(flags) FROM drafts WHERE id = '${id}'`));
    await people.invoker.post(`/drafts/${id}/approve`, { revision: '1', ack: Array.from({ length: flags }, (_, i) => String(i)) });
    const approved = await people.invoker.get(`/drafts/${id}?done=approved`);
    assert.match(approved.text, /Approved\. It is released to the forum now\./);
    assert.match(approved.text, /<meta http-equiv="refresh" content="3">/, 'the page follows the release');
    await psql(srv.database, `UPDATE drafts SET state = 'released', post_id = '77', post_url = 'https://forum.example/p/77' WHERE id = '${id}'`);
    const released = await people.invoker.get(`/drafts/${id}`);
    assert.doesNotMatch(released.text, /<dt>Expires<\/dt>/);
    assert.doesNotMatch(released.text, /Look at each one before you approve/);
    assert.doesNotMatch(released.text, /http-equiv="refresh"/);
    assert.match(released.text, /Published on the forum: <a href="https:\/\/forum.example\/p\/77"/);
  });

  it('keeps what was typed when an edit is refused, and the address is the draft page', async () => {
    const id = await newDraft();
    await people.invoker.post(`/drafts/${id}/edit`, { revision: '1', body: 'Someone else edited this' });
    const stale = await people.invoker.post(`/drafts/${id}/edit`, { revision: '1', body: 'My careful rewrite' });
    const page = await landing(people.invoker, stale);
    assert.match(page.location, new RegExp(`^/drafts/${id}\\?error=revision_changed&echo=[0-9a-f-]{36}$`));
    assert.equal(page.status, 409);
    assert.match(page.text, /My careful rewrite<\/textarea>/);
    // another user cannot read that echo
    const other = await devSignIn(srv, { user_id: '2002', username: 'bob' });
    await psql(srv.database, `UPDATE drafts SET delegate_id = '2002', delegate_name = 'bob' WHERE id = '${id}'`);
    assert.doesNotMatch((await other.get(page.location)).text, /My careful rewrite/);
    const empty = await landing(people.invoker, await people.invoker.post(`/drafts/${id}/edit`, { revision: '2', body: '   ' }));
    assert.equal(empty.status, 400);
  });
});

describe('moderators never hit a dead end', () => {
  it('links back to where they came from (a local path only), says who decides and shows names beside ids', async () => {
    const id = await newDraft({}, { invoker: { id: '1001', name: 'alice' } });
    const from = '/history?state=pending&forum=eng';
    const page = await people.moderator.get(`/drafts/${id}?from=${encodeURIComponent(from)}`);
    assert.match(page.text, /<a href="\/history\?state&#61;pending&amp;forum&#61;eng">← History<\/a>/);
    assert.match(page.text, /Only its invoker, alice \(1001\), decides\./);
    assert.doesNotMatch(page.text, /Waiting for your decision/);
    assert.match(page.text, /Waiting for alice \(1001\)&#39;s decision|Waiting for alice \(1001\)'s decision/);
    assert.match(page.text, /helperbot \(bot-42\)/);
    const evil = await people.moderator.get(`/drafts/${id}?from=${encodeURIComponent('//evil.example/x')}`);
    assert.doesNotMatch(evil.text, /evil\.example/);
    assert.match(evil.text, /<a href="\/history">← History<\/a>/);
  });
});
