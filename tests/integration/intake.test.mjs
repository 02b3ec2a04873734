// POST /v1/forums/{forum}/posts against a real agentgate and a real PostgreSQL: every row of
// CONTRACT §4.1's answer table, and that refusals store nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  countRows, eventually, newSecret, postIntake, psql, runCli, samplePost, sign, signedIntake, startServer, webhookId,
} from '../lib/harness.mjs';

let srv;
before(async () => {
  srv = await startServer({
    forums: {
      eng: { adapter: 'generic', inbound_secret: newSecret(), rate_limit: 'none', max_body_bytes: 4096 },
      infra: { adapter: 'generic', inbound_secret: newSecret(), rate_limit: 'none', allowed_categories: 'infra, help' },
      tight: { adapter: 'generic', inbound_secret: newSecret(), rate_limit: '3/h' },
    },
  });
  // the forum handles' secrets, read back from the config file
  const text = (await import('node:fs')).readFileSync(srv.configFile, 'utf8');
  srv.secrets = {};
  for (const m of text.matchAll(/\[forum (\w+)\][^[]*?inbound_secret = (\S+)/g)) srv.secrets[m[1]] = m[2];
  srv.secret = srv.secrets.eng;
});
after(async () => {
  await srv.stop();
});

const drafts = (where = 'true') => countRows(srv.database, 'drafts', where);

describe('202 held', () => {
  it('holds a reply, commits draft, revision and audit event, and answers with a review URL', async () => {
    const res = await postIntake(srv, samplePost());
    assert.equal(res.status, 202, res.text);
    assert.equal(res.json.status, 'held');
    assert.match(res.json.draft_id, /^[0-9a-f-]{36}$/);
    assert.equal(res.json.review_url, `${srv.url}/drafts/${res.json.draft_id}`);
    assert.ok(Array.isArray(res.json.flags));
    const row = await psql(srv.database, `SELECT state, forum, agent_id, invoker_name, topic_id, reply_to_post_id, forum_ref, webhook_id FROM drafts WHERE id = '${res.json.draft_id}'`);
    assert.equal(row, `pending|eng|bot-42|alice|5531|88120|ref-1|${res.id}`);
    assert.equal(await psql(srv.database, `SELECT body FROM draft_revisions WHERE draft_id = '${res.json.draft_id}' AND revision = 1`), 'Restart the **ingest** worker.');
    assert.equal(await countRows(srv.database, 'audit_events', `draft_id = '${res.json.draft_id}' AND action = 'intake.held'`), 1);
  });

  it('holds a new topic with category and title', async () => {
    const res = await postIntake(srv, samplePost({ post: { category: 'infra', title: 'Disk alerts', body: 'New topic body' } }));
    assert.equal(res.status, 202, res.text);
    assert.equal(await psql(srv.database, `SELECT category || '|' || coalesce(topic_id, 'null') FROM drafts WHERE id = '${res.json.draft_id}'`), 'infra|null');
    assert.equal(await psql(srv.database, `SELECT title FROM draft_revisions WHERE draft_id = '${res.json.draft_id}'`), 'Disk alerts');
  });

  it('accepts a charset parameter on the content type', async () => {
    const res = await postIntake(srv, samplePost(), { headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.equal(res.status, 202, res.text);
  });

  it('accepts any one valid signature among several (key rotation)', async () => {
    const id = webhookId();
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify(samplePost());
    const good = sign(srv.secret, id, ts, body);
    const other = sign(newSecret(), id, ts, body);
    const res = await postIntake(srv, body, { id, timestamp: ts, signature: `${other} v2,xyz ${good}` });
    assert.equal(res.status, 202, res.text);
  });

  it('reports flags found in the body with byte offsets', async () => {
    const body = 'Use key AKIAZ7QW3ERTY6UIOP4X then run rm -rf /var/lib/app';
    const res = await postIntake(srv, samplePost({ post: { topic_id: '1', body } }));
    assert.equal(res.status, 202, res.text);
    const codes = res.json.flags.map((f) => f.code);
    assert.ok(codes.includes('secret.aws_access_key'), JSON.stringify(res.json.flags));
    const aws = res.json.flags.find((f) => f.code === 'secret.aws_access_key');
    assert.equal(aws.field, 'body');
    assert.equal(Buffer.from(body).subarray(aws.start, aws.end).toString(), 'AKIAZ7QW3ERTY6UIOP4X');
    assert.equal(aws.severity, 'critical');
    assert.equal(await psql(srv.database, `SELECT jsonb_array_length(flags) FROM drafts WHERE id = '${res.json.draft_id}'`), String(res.json.flags.length));
  });
});

describe('202 replay', () => {
  it('answers a repeated webhook-id with the first body and stores nothing new', async () => {
    const id = webhookId();
    const first = await postIntake(srv, samplePost(), { id });
    const before = await drafts();
    const second = await postIntake(srv, samplePost(), { id });
    assert.equal(second.status, 202);
    assert.equal(second.text, first.text);
    assert.equal(await drafts(), before);
  });

  it('gives one draft and the same answer to identical requests arriving at once', async () => {
    const id = webhookId();
    const ts = Math.floor(Date.now() / 1000);
    const results = await Promise.all(Array.from({ length: 24 }, () => postIntake(srv, samplePost(), { id, timestamp: ts })));
    for (const r of results) assert.equal(r.status, 202, r.text);
    assert.equal(new Set(results.map((r) => r.text)).size, 1);
    assert.equal(await drafts(`webhook_id = '${id}'`), 1);
    assert.equal(await countRows(srv.database, 'audit_events', `action = 'intake.held' AND details->>'webhook_id' = '${id}'`), 1);
  });

  it('keeps webhook-ids separate per forum', async () => {
    const id = webhookId();
    const a = await postIntake(srv, samplePost(), { id });
    const b = await postIntake(srv, samplePost({ post: { category: 'infra', title: 't', body: 'b' } }), { id, forum: 'infra', secret: srv.secrets.infra });
    assert.equal(a.status, 202);
    assert.equal(b.status, 202, b.text);
    assert.notEqual(a.json.draft_id, b.json.draft_id);
  });
});

// Each case: the request, the expected status and error code (and field). Nothing may be stored.
const invalidBodies = [
  ['malformed JSON', '{"agent": {', 'malformed_json'],
  ['invalid UTF-8', Buffer.from('{"agent":{"id":"b\xff","name":"n"}}', 'latin1'), 'invalid_utf8'],
  ['duplicate keys', '{"agent":{"id":"a","name":"n"},"agent":{"id":"b","name":"n"},"invoker":{"id":"1","name":"a"},"post":{"topic_id":"1","body":"x"}}', 'duplicate_key'],
  ['deep nesting', '{"context":' + '['.repeat(40) + ']'.repeat(40) + '}', 'nesting_too_deep'],
  ['array root', '[]', 'invalid_field'],
  ['NUL in a string', '{"agent":{"id":"a\\u0000","name":"n"}}', 'malformed_json'],
  ['missing agent', { ...samplePost(), agent: undefined }, 'missing_field', 'agent'],
  ['missing agent.id', samplePost({ agent: { name: 'x' } }), 'missing_field', 'agent.id'],
  ['agent.id wrong type', samplePost({ agent: { id: 42, name: 'x' } }), 'invalid_field', 'agent.id'],
  ['empty invoker name', samplePost({ invoker: { id: '1', name: '' } }), 'invalid_field', 'invoker.name'],
  ['missing body', samplePost({ post: { topic_id: '1' } }), 'missing_field', 'post.body'],
  ['body wrong type', samplePost({ post: { topic_id: '1', body: ['x'] } }), 'invalid_field', 'post.body'],
  ['title too long', samplePost({ post: { category: 'c', title: 'x'.repeat(301), body: 'b' } }), 'invalid_field', 'post.title'],
  ['reply with a title', samplePost({ post: { topic_id: '1', title: 't', body: 'b' } }), 'invalid_field', 'post.title'],
  ['new topic without category', samplePost({ post: { title: 't', body: 'b' } }), 'missing_field', 'post.category'],
  ['new topic without title', samplePost({ post: { category: 'c', body: 'b' } }), 'missing_field', 'post.title'],
  ['unknown field', { ...samplePost(), admin: true }, 'invalid_field', 'admin'],
  ['unknown context field', samplePost({ context: { secret_sauce: 'x' } }), 'invalid_field', 'context.secret_sauce'],
  ['context wrong type', samplePost({ context: 'x' }), 'invalid_field', 'context'],
];

describe('400 invalid body', () => {
  for (const [name, body, code, field] of invalidBodies) {
    it(`refuses ${name} with ${code}${field ? ' naming ' + field : ''} and stores nothing`, async () => {
      const before = await drafts();
      const res = await postIntake(srv, body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error.code, code);
      assert.ok(res.json.error.message.length > 0);
      if (field) assert.equal(res.json.error.field, field);
      assert.equal(await drafts(), before);
    });
  }

  it('audits a refused body whose signature was valid', async () => {
    const res = await postIntake(srv, samplePost({ agent: { name: 'x' } }));
    assert.equal(res.status, 400);
    assert.equal(await countRows(srv.database, 'audit_events', `action = 'intake.refused' AND details->>'webhook_id' = '${res.id}' AND details->>'field' = 'agent.id'`), 1);
  });

  it('refuses an over-long webhook-id', async () => {
    const id = 'x'.repeat(300);
    const res = await postIntake(srv, samplePost(), { id });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'invalid_webhook_id');
  });
});

describe('401 signature', () => {
  // Each case's request options, made when the request is sent (timestamps are relative to
  // then). The body is valid, so only the signature check stands between it and a draft.
  const now = () => Math.floor(Date.now() / 1000);
  const cases = [
    ['no webhook-signature', () => ({ headers: { 'webhook-signature': null } }), 'missing_signature'],
    ['no webhook-id', () => ({ headers: { 'webhook-id': null } }), 'missing_signature'],
    ['no webhook-timestamp', () => ({ headers: { 'webhook-timestamp': null } }), 'missing_signature'],
    ['a bare v1,', () => ({ signature: 'v1,' }), 'bad_signature'],
    ['a truncated signature', () => ({ signature: 'v1,AAAA' }), 'bad_signature'],
    ['only an unknown version', () => ({ signature: 'v9,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' }), 'bad_signature'],
    ['another secret', () => ({ secret: newSecret() }), 'bad_signature'],
    ['a timestamp 6 minutes old', () => ({ timestamp: now() - 360 }), 'stale_timestamp'],
    ['a timestamp 6 minutes ahead', () => ({ timestamp: now() + 360 }), 'stale_timestamp'],
    ['a non-numeric timestamp', () => ({ timestamp: 'yesterday' }), 'stale_timestamp'],
  ];
  for (const [name, options, code] of cases) {
    it(`refuses ${name}`, async () => {
      const before = await drafts();
      const res = await postIntake(srv, samplePost(), options());
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json.error.code, code);
      assert.equal(await drafts(), before);
    });
  }

  it('refuses a body changed after signing', async () => {
    const id = webhookId();
    const ts = Math.floor(Date.now() / 1000);
    const signature = sign(srv.secret, id, ts, JSON.stringify(samplePost()));
    const res = await postIntake(srv, samplePost({ post: { topic_id: '1', body: 'tampered' } }), { id, timestamp: ts, signature });
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'bad_signature');
  });

  it('verifies the raw bytes, not a re-encoding of the JSON', async () => {
    const raw = '{ "agent" : {"id":"bot-42","name":"helperbot"}, "invoker":{"id":"1001","name":"alice"},\n "post":{"topic_id":"1","body":"caf\\u00e9"}}';
    const res = await postIntake(srv, raw);
    assert.equal(res.status, 202, res.text);
    assert.equal(await psql(srv.database, `SELECT body FROM draft_revisions WHERE draft_id = '${res.json.draft_id}'`), 'café');
  });
});

describe('403 policy', () => {
  it('refuses an agent that is its own invoker', async () => {
    const before = await drafts();
    const res = await postIntake(srv, samplePost({ agent: { id: 'same', name: 'a' }, invoker: { id: 'same', name: 'b' } }));
    assert.equal(res.status, 403);
    assert.equal(res.json.error.code, 'agent_is_invoker');
    assert.equal(await drafts(), before);
    assert.equal(await countRows(srv.database, 'audit_events', `action = 'intake.refused' AND details->>'webhook_id' = '${res.id}'`), 1);
  });

  it('refuses a category outside allowed_categories and accepts one inside', async () => {
    const refused = await postIntake(srv, samplePost({ post: { category: 'random', title: 't', body: 'b' } }), { forum: 'infra', secret: srv.secrets.infra });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json.error.code, 'category_not_allowed');
    const ok = await postIntake(srv, samplePost({ post: { category: 'help', title: 't', body: 'b' } }), { forum: 'infra', secret: srv.secrets.infra });
    assert.equal(ok.status, 202, ok.text);
  });
});

describe('404, 405, 413, 415', () => {
  it('answers 404 for an unknown forum', async () => {
    const res = await postIntake(srv, samplePost(), { forum: 'nope' });
    assert.equal(res.status, 404);
    assert.equal(res.json.error.code, 'unknown_forum');
  });

  it('answers 404 for an unknown path and 405 with Allow for a wrong method', async () => {
    const missing = await fetch(`${srv.url}/v1/nothing`);
    assert.equal(missing.status, 404);
    const wrong = await fetch(`${srv.url}/v1/forums/eng/posts`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
  });

  it('refuses a body over max_body_bytes by Content-Length, before reading it', async () => {
    const body = JSON.stringify(samplePost({ post: { topic_id: '1', body: 'x'.repeat(5000) } }));
    const before = await drafts();
    const res = await postIntake(srv, body);
    assert.equal(res.status, 413);
    assert.equal(res.json.error.code, 'body_too_large');
    assert.equal(await drafts(), before);
  });

  it('refuses a chunked body that grows over the limit while reading', async () => {
    // correctly signed and valid: only the size limit can refuse it
    const { raw, headers, id } = signedIntake(srv, samplePost({ post: { topic_id: '1', body: 'x'.repeat(6000) } }));
    const head = `POST /v1/forums/eng/posts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    const chunks = [];
    for (let at = 0; at < raw.length; at += 1024) {
      const piece = raw.subarray(at, at + 1024);
      chunks.push(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]));
    }
    const status = await rawRequest(srv.port, [Buffer.from(head), ...chunks, Buffer.from('0\r\n\r\n')]);
    assert.equal(status, 413);
    assert.equal(await drafts(`webhook_id = '${id}'`), 0);
  });

  it('refuses a non-JSON content type with 415', async () => {
    const res = await postIntake(srv, samplePost(), { headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 415);
    assert.equal(res.json.error.code, 'unsupported_media_type');
    const none = await postIntake(srv, samplePost(), { headers: { 'content-type': null } });
    assert.equal(none.status, 415);
  });
});

describe('423 and 429', () => {
  it('refuses every agent while the kill switch is on, and holds again after it is off', async () => {
    let r = await runCli(['--config', srv.configFile, 'killswitch', 'on', '--reason', 'incident 42']);
    assert.equal(r.status, 0, r.stderr);
    try {
      const before = await drafts();
      const res = await postIntake(srv, samplePost());
      assert.equal(res.status, 423, res.text);
      assert.equal(res.json.status, 'blocked');
      assert.equal(res.json.error.code, 'kill_switch_on');
      assert.equal(await drafts(), before);
    } finally {
      r = await runCli(['--config', srv.configFile, 'killswitch', 'off']);
      assert.equal(r.status, 0, r.stderr);
    }
    assert.equal((await postIntake(srv, samplePost())).status, 202);
    assert.equal(await countRows(srv.database, 'audit_events', `action IN ('killswitch.on', 'killswitch.off')`), 2);
  });

  it('refuses a paused agent only, and revokes its pending drafts when asked', async () => {
    const pending = await postIntake(srv, samplePost({ agent: { id: 'pausable', name: 'p' } }));
    assert.equal(pending.status, 202);
    let r = await runCli(['--config', srv.configFile, 'agent', 'pause', 'eng', 'pausable', '--reason', 'misbehaving', '--revoke-pending']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1 pending draft\(s\) revoked/);
    assert.equal(await psql(srv.database, `SELECT state FROM drafts WHERE id = '${pending.json.draft_id}'`), 'revoked');
    const paused = await postIntake(srv, samplePost({ agent: { id: 'pausable', name: 'p' } }));
    assert.equal(paused.status, 423);
    assert.equal(paused.json.error.code, 'agent_paused');
    const other = await postIntake(srv, samplePost({ agent: { id: 'other-bot', name: 'o' } }));
    assert.equal(other.status, 202);
    r = await runCli(['--config', srv.configFile, 'agent', 'resume', 'eng', 'pausable']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await postIntake(srv, samplePost({ agent: { id: 'pausable', name: 'p' } }))).status, 202);
  });

  it('answers 429 with Retry-After once an agent is over its rate limit', async () => {
    const opts = { forum: 'tight', secret: srv.secrets.tight };
    for (let i = 0; i < 3; i++) assert.equal((await postIntake(srv, samplePost(), opts)).status, 202);
    const res = await postIntake(srv, samplePost(), opts);
    assert.equal(res.status, 429, res.text);
    assert.equal(res.json.error.code, 'rate_limited');
    // Retry-After is when the oldest of the three leaves the 1-hour window; PostgreSQL, asked
    // after the answer, sees at most that long to go
    const retry = Number(res.headers.get('retry-after'));
    const left = Number(await psql(srv.database, "SELECT floor(extract(epoch FROM min(created_at) + interval '1 hour' - now())) FROM drafts WHERE forum = 'tight' AND agent_id = 'bot-42'"));
    assert.ok(retry >= left && retry <= 3600, `Retry-After ${retry}, ${left} s left in the window`);
    // another agent is not limited by this one
    assert.equal((await postIntake(srv, samplePost({ agent: { id: 'b2', name: 'b2' } }), opts)).status, 202);
  });
});

describe('hostile content', () => {
  it('stores HTML, SQL and control characters byte for byte in every text field', async () => {
    const nasty = (tag) => `<script>alert('${tag}')</script>'; DROP TABLE drafts; -- \u0007\u001b[31m\u202e"\\ ${tag}`;
    const post = {
      agent: { id: nasty('aid'), name: nasty('an') },
      invoker: { id: nasty('iid'), name: nasty('in') },
      post: { category: nasty('c'), title: nasty('t'), body: nasty('b'), forum_ref: nasty('r') },
      context: { question_url: nasty('q'), agent_run_url: nasty('u'), prompt_excerpt: nasty('p') },
    };
    const before = await drafts();
    const res = await postIntake(srv, post);
    assert.equal(res.status, 202, res.text);
    const id = res.json.draft_id;
    const row = JSON.parse(await psql(srv.database, `SELECT json_build_object('aid', agent_id, 'an', agent_name, 'iid', invoker_id, 'in', invoker_name, 'c', category, 'r', forum_ref, 'ctx', context) FROM drafts WHERE id = '${id}'`));
    assert.equal(row.aid, post.agent.id);
    assert.equal(row.an, post.agent.name);
    assert.equal(row.iid, post.invoker.id);
    assert.equal(row.in, post.invoker.name);
    assert.equal(row.c, post.post.category);
    assert.equal(row.r, post.post.forum_ref);
    assert.deepEqual(row.ctx, post.context);
    const rev = JSON.parse(await psql(srv.database, `SELECT json_build_object('t', title, 'b', body) FROM draft_revisions WHERE draft_id = '${id}'`));
    assert.equal(rev.t, post.post.title);
    assert.equal(rev.b, post.post.body);
    assert.equal(await drafts(), before + 1, 'the table is still there, with this one draft more');
  });
});

describe('request limits', () => {
  it('cuts off a client that dribbles its headers past the request deadline', async () => {
    // only the request deadline can end this connection: the head and idle limits are far off
    const slow = await startServer({ server: { request_timeout: '2s', header_timeout: '600s', idle_timeout: '600s' } });
    let socket;
    let pacer;
    try {
      let answer = '';
      let closed = false;
      socket = net.connect(slow.port, '127.0.0.1');
      socket.on('data', (d) => (answer += d));
      socket.on('error', () => {});
      socket.on('close', () => (closed = true));
      socket.on('connect', () => {
        socket.write('POST /v1/forums/eng/posts HTTP/1.1\r\nHost: x\r\nX-Slow: ');
        // a byte now and then, never the end of the headers
        pacer = setInterval(() => socket.write('a'), 200);
      });
      await eventually(() => closed, { what: 'the request deadline to cut the connection' });
      assert.equal(answer, '', 'cut off without an answer');
      await slow.waitForLog(/connections cut: \d+ without a complete head within 600s, [1-9]\d* without a complete request within 2s/);
    } finally {
      clearInterval(pacer);
      socket?.destroy();
      await slow.stop();
    }
  });
});

/** Sends raw request pieces over a socket; resolves with the status code of the answer as soon
 * as its status line arrives (0 if the connection closed without one). */
function rawRequest(port, pieces) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : 0);
      socket.destroy();
    };
    socket.on('data', (d) => {
      data += d;
      if (/^HTTP\/1\.[01] \d{3}/.test(data)) done();
    });
    socket.on('error', () => {});
    socket.on('close', done);
    socket.on('connect', () => {
      for (const p of pieces) if (!socket.destroyed) socket.write(p);
    });
  });
}
