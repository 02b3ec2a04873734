// Release (CONTRACT §5): every decision reaches the forum, signed, in order, exactly once in
// effect, through forum outages, errors, hangs, agentgate crashes, PostgreSQL restarts and with
// two serve processes. The test forum checks signatures exactly as a real one must.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  conninfo, countRows, createDatabase, decide, freePort, newSecret, postIntake, psql, runCli,
  samplePost, spawnServer, startPrivateCluster, startServer, tmpdir, writeConfig,
} from '../lib/harness.mjs';
import { eventually, startFakeForum } from '../lib/fake_forum.mjs';

const FAST = { retry_schedule: '0s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s', timeout: '2s', connect_timeout: '1s' };

async function setup({ delivery = FAST, database, extraForum = {}, server = {} } = {}) {
  const releaseSecret = newSecret();
  const forum = await startFakeForum({ secret: releaseSecret });
  const inbound = newSecret();
  const srv = await startServer({
    database,
    server,
    forums: { eng: { inbound_secret: inbound, rate_limit: 'none', release_url: forum.url, release_secret: releaseSecret, ...extraForum } },
    delivery,
  });
  srv.secret = inbound;
  return { srv, forum };
}

async function held(srv, post) {
  const res = await postIntake(srv, post ?? samplePost());
  assert.equal(res.status, 202, res.text);
  return res.json.draft_id;
}

const stateOf = (srv, id) => psql(srv.database, `SELECT state FROM drafts WHERE id = '${id}'`);

describe('events reach the forum', () => {
  it('delivers draft.approved with the approved revision, signed, and stores the post id and URL', async () => {
    const { srv, forum } = await setup();
    try {
      const id = await held(srv, samplePost({ post: { category: 'infra', title: 'Disk alerts', body: 'first', forum_ref: 'ref-1' } }));
      psql(srv.database, `SELECT draft_edit('${id}', 'eng', 1, 'Disk alerts (edited)', 'second', '1001', 'alice', '{}', '[]')`);
      const decision = await decide(srv, id);
      assert.equal(decision.status, 200, decision.text);
      const event = await eventually(() => forum.unique('draft.approved').find((e) => e.body.data.draft_id === id), 10000, 'draft.approved');
      assert.match(event.id, /^evt_[0-9a-f]{32}$/);
      const data = event.body.data;
      assert.equal(data.revision, 2);
      assert.equal(data.post.body, 'second');
      assert.equal(data.post.title, 'Disk alerts (edited)');
      assert.equal(data.post.category, 'infra');
      assert.equal(data.post.forum_ref, 'ref-1');
      assert.deepEqual(data.approved_by, { id: '1001', name: 'alice' });
      assert.deepEqual(data.agent, { id: 'bot-42', name: 'helperbot' });
      assert.match(event.body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(forum.rejected.length, 0, 'every request was correctly signed');
      await eventually(() => stateOf(srv, id) === 'released', 10000, 'released');
      const row = psql(srv.database, `SELECT post_id || ' ' || post_url FROM drafts WHERE id = '${id}'`);
      assert.equal(row, `${forum.events.get(event.id).__postId} http://forum.example/p/${forum.events.get(event.id).__postId}`);
      assert.equal(countRows(srv.database, 'outbox'), 0, 'the queue empties');
      assert.equal(countRows(srv.database, 'delivery_attempts', `draft_id = '${id}'`), 1);
      assert.equal(countRows(srv.database, 'audit_events', `draft_id = '${id}' AND action = 'draft.release'`), 1);
    } finally {
      await srv.stop();
      await forum.stop();
    }
  });

  it('delivers draft.rejected with the reason, draft.revoked on a pause, draft.expired and draft.expiring', async () => {
    const { srv, forum } = await setup();
    try {
      const rejected = await held(srv);
      assert.equal((await decide(srv, rejected, { decision: 'reject', reason: 'wrong advice' })).status, 200);
      const revoked = await held(srv, samplePost({ agent: { id: 'bot-9', name: 'nine' } }));
      assert.equal(runCli(['--config', srv.configFile, 'agent', 'pause', 'eng', 'bot-9', '--reason', 'leaking', '--revoke-pending']).status, 0);
      const expired = await held(srv);
      psql(srv.database, `UPDATE drafts SET expires_at = now() - interval '1 second' WHERE id = '${expired}'`);
      const expiring = await held(srv);
      psql(srv.database, `UPDATE drafts SET expires_at = now() + interval '1 hour' WHERE id = '${expiring}'`);
      const byDraft = (id, type) => forum.unique(type).find((e) => e.body.data.draft_id === id);
      const r = await eventually(() => byDraft(rejected, 'draft.rejected'), 10000, 'rejected');
      assert.equal(r.body.data.reason, 'wrong advice');
      const v = await eventually(() => byDraft(revoked, 'draft.revoked'), 10000, 'revoked');
      assert.equal(v.body.data.reason, 'leaking');
      await eventually(() => byDraft(expired, 'draft.expired'), 15000, 'expired');
      assert.equal(stateOf(srv, expired), 'expired');
      const soon = await eventually(() => byDraft(expiring, 'draft.expiring'), 15000, 'expiring');
      assert.ok(soon.body.data.expires_at);
      assert.equal(stateOf(srv, expiring), 'pending');
    } finally {
      await srv.stop();
      await forum.stop();
    }
  });
});

describe('faults', () => {
  it('retries while the forum refuses connections and delivers once it is back', async () => {
    const { srv, forum } = await setup();
    try {
      await forum.stop();
      const id = await held(srv);
      await decide(srv, id);
      await eventually(() => Number(psql(srv.database, `SELECT count(*) FROM delivery_attempts WHERE draft_id = '${id}'`)) >= 2, 10000, 'failed attempts');
      assert.equal(stateOf(srv, id), 'approved');
      await forum.start();
      await eventually(() => stateOf(srv, id) === 'released', 15000, 'released after outage');
      assert.equal(forum.unique('draft.approved').length, 1);
      const errors = psql(srv.database, `SELECT string_agg(coalesce(error, ''), '|' ORDER BY id) FROM delivery_attempts WHERE draft_id = '${id}'`);
      assert.match(errors, /Couldn't connect|refused/i);
    } finally {
      await srv.stop();
      await forum.stop();
    }
  });

  it('retries a 500 and honours Retry-After', async () => {
    const { srv, forum } = await setup();
    try {
      forum.behaviour.push({ status: 500 }, { status: 503, headers: { 'retry-after': '2' } });
      const id = await held(srv);
      const approvedAt = Date.now();
      await decide(srv, id);
      await eventually(() => stateOf(srv, id) === 'released', 15000, 'released');
      const statuses = psql(srv.database, `SELECT string_agg(coalesce(http_status::text, '-'), ',' ORDER BY id) FROM delivery_attempts WHERE draft_id = '${id}'`);
      assert.equal(statuses, '500,503,200');
      assert.ok(Date.now() - approvedAt >= 2500, 'waited for Retry-After (2 s) after the 503 plus 1 s after the 500');
      const ids = new Set(forum.received.filter((e) => e.body.data.draft_id === id).map((e) => e.id));
      assert.equal(ids.size, 1);
    } finally {
      await srv.stop();
      await forum.stop();
    }
  });

  it('stops at once on 410 and on webhook-delivery: abort-message; a moderator retry delivers', async () => {
    const { srv, forum } = await setup();
    try {
      forum.behaviour.push({ status: 410 });
      const gone = await held(srv);
      await decide(srv, gone);
      await eventually(() => stateOf(srv, gone) === 'release_failed', 10000, 'release_failed on 410');
      assert.equal(countRows(srv.database, 'delivery_attempts', `draft_id = '${gone}'`), 1);
      forum.behaviour.push({ status: 422, headers: { 'webhook-delivery': 'abort-message' } });
      const aborted = await held(srv);
      await decide(srv, aborted);
      await eventually(() => stateOf(srv, aborted) === 'release_failed', 10000, 'release_failed on abort');
      const webhookId = psql(srv.database, `SELECT webhook_id FROM deliveries WHERE draft_id = '${gone}'`);
      const retry = runCli(['--config', srv.configFile, 'delivery', 'retry', gone]);
      assert.equal(retry.status, 0, retry.stderr);
      await eventually(() => stateOf(srv, gone) === 'released', 10000, 'released after retry');
      assert.equal(forum.unique('draft.approved').find((e) => e.body.data.draft_id === gone).id, webhookId, 'same webhook-id after retry');
      const again = runCli(['--config', srv.configFile, 'delivery', 'retry', gone]);
      assert.equal(again.status, 1);
    } finally {
      await srv.stop();
      await forum.stop();
    }
  });

  it('gives up after the last scheduled attempt: release_failed', async () => {
    const { srv, forum } = await setup({ delivery: { ...FAST, retry_schedule: '0s, 1s, 1s' } });
    try {
      await forum.stop();
      const id = await held(srv);
      await decide(srv, id);
      await eventually(() => stateOf(srv, id) === 'release_failed', 15000, 'release_failed');
      assert.equal(countRows(srv.database, 'delivery_attempts', `draft_id = '${id}'`), 3);
    } finally {
      await srv.stop();
      await forum.stop();
    }
  });

  it('times out a forum that hangs and retries', async () => {
    const { srv, forum } = await setup({ delivery: { ...FAST, timeout: '1s' } });
    try {
      forum.behaviour.push({ hang: true });
      const id = await held(srv);
      await decide(srv, id);
      await eventually(() => stateOf(srv, id) === 'released', 15000, 'released after a hang');
      const first = psql(srv.database, `SELECT error FROM delivery_attempts WHERE draft_id = '${id}' ORDER BY id LIMIT 1`);
      assert.match(first, /timed out|Timeout/i);
    } finally {
      await srv.stop();
      await forum.stop();
    }
  });

  it('revokes an approval when the kill switch went on before the forum accepted it', async () => {
    const { srv, forum } = await setup();
    try {
      await forum.stop();
      const id = await held(srv);
      await decide(srv, id);
      await eventually(() => countRows(srv.database, 'delivery_attempts', `draft_id = '${id}'`) >= 1, 10000, 'first attempt');
      assert.equal(runCli(['--config', srv.configFile, 'killswitch', 'on', '--reason', 'incident']).status, 0);
      await forum.start();
      await eventually(() => stateOf(srv, id) === 'revoked', 15000, 'revoked by the re-check');
      const revokedEvent = await eventually(() => forum.unique('draft.revoked').find((e) => e.body.data.draft_id === id), 10000, 'draft.revoked');
      assert.equal(revokedEvent.body.data.reason, 'kill switch on');
      assert.equal(forum.unique('draft.approved').filter((e) => e.body.data.draft_id === id).length, 0, 'the approval never reached the forum');
    } finally {
      runCli(['--config', srv.configFile, 'killswitch', 'off']);
      await srv.stop();
      await forum.stop();
    }
  });
});

/** Every approved draft ends released, each event known to the forum under exactly one id. */
function assertAllDeliveredOnce(srv, forum, ids) {
  for (const id of ids) assert.equal(stateOf(srv, id), 'released', id);
  const byDraft = new Map();
  for (const e of forum.received) {
    if (e.type !== 'draft.approved') continue;
    const set = byDraft.get(e.body.data.draft_id) ?? new Set();
    set.add(e.id);
    byDraft.set(e.body.data.draft_id, set);
  }
  for (const id of ids) assert.equal(byDraft.get(id)?.size, 1, `draft ${id} delivered under ${byDraft.get(id)?.size} ids`);
}

describe('crashes, restarts and several processes', () => {
  it('delivers everything after agentgate is killed with SIGKILL mid-delivery and restarted', async () => {
    const releaseSecret = newSecret();
    const forum = await startFakeForum({ secret: releaseSecret });
    const database = createDatabase();
    const port = await freePort();
    const inbound = newSecret();
    const file = writeConfig(tmpdir('cfg-'), {
      server: { listen: `127.0.0.1:${port}`, database: conninfo(database), auth: 'dev', threads: 4 },
      forums: { eng: { inbound_secret: inbound, rate_limit: 'none', release_url: forum.url, release_secret: releaseSecret } },
      delivery: FAST,
    });
    let srv = Object.assign(await spawnServer(file), { url: `http://127.0.0.1:${port}`, secret: inbound, database });
    try {
      // the forum is slow: each answer takes a while, so the kill lands mid-delivery
      for (let i = 0; i < 10; i++) forum.behaviour.push({ hang: true });
      const ids = [];
      for (let i = 0; i < 30; i++) ids.push(await held(srv));
      for (const id of ids) assert.equal((await decide(srv, id)).status, 200);
      await new Promise((r) => setTimeout(r, 300));
      await srv.kill();
      forum.behaviour.length = 0;
      srv = Object.assign(await spawnServer(file), { url: `http://127.0.0.1:${port}`, secret: inbound, database });
      await eventually(() => ids.every((id) => stateOf(srv, id) === 'released'), 30000, 'all released after restart');
      assertAllDeliveredOnce(srv, forum, ids);
    } finally {
      await srv.stop();
      await forum.stop();
    }
  });

  it('delivers everything when PostgreSQL restarts in the middle', async () => {
    const cluster = await startPrivateCluster();
    const pg = { host: cluster.host, port: cluster.port };
    const releaseSecret = newSecret();
    const forum = await startFakeForum({ secret: releaseSecret });
    const database = createDatabase(pg);
    const port = await freePort();
    const inbound = newSecret();
    const file = writeConfig(tmpdir('cfg-'), {
      server: { listen: `127.0.0.1:${port}`, database: conninfo(database, pg), auth: 'dev', threads: 4 },
      forums: { eng: { inbound_secret: inbound, rate_limit: 'none', release_url: forum.url, release_secret: releaseSecret } },
      delivery: FAST,
    });
    const srv = Object.assign(await spawnServer(file), { url: `http://127.0.0.1:${port}`, secret: inbound, database });
    const q = (sql) => psql(database, sql, pg);
    try {
      for (let i = 0; i < 5; i++) forum.behaviour.push({ hang: true });
      const ids = [];
      for (let i = 0; i < 20; i++) ids.push(await held(srv));
      for (const id of ids) assert.equal((await decide(srv, id)).status, 200);
      cluster.stop('immediate');
      await new Promise((r) => setTimeout(r, 1000));
      cluster.start();
      await eventually(() => ids.every((id) => q(`SELECT state FROM drafts WHERE id = '${id}'`) === 'released'), 40000, 'all released after the database restart');
      for (const id of ids) {
        const set = new Set(forum.received.filter((e) => e.type === 'draft.approved' && e.body.data.draft_id === id).map((e) => e.id));
        assert.equal(set.size, 1, id);
      }
    } finally {
      await srv.stop();
      await forum.stop();
      cluster.stop('immediate', { ignoreErrors: true });
    }
  });

  it('shares the work between two serve processes, each event delivered by one at a time', async () => {
    const { srv, forum } = await setup();
    const second = await startServer({ database: srv.database, forums: { eng: { inbound_secret: srv.secret, rate_limit: 'none', release_url: forum.url, release_secret: forum.secret } }, delivery: FAST });
    second.secret = srv.secret;
    try {
      const ids = [];
      for (let i = 0; i < 60; i++) ids.push(await held(i % 2 ? srv : second));
      await Promise.all(ids.map((id, i) => decide(i % 3 ? srv : second, id)));
      await eventually(() => ids.every((id) => stateOf(srv, id) === 'released'), 30000, 'all released');
      assertAllDeliveredOnce(srv, forum, ids);
      // A request the forum received but answered after the timeout is sent again under the
      // same webhook-id (the forum drops it); anything else sent twice would be a bug.
      const total = forum.received.filter((e) => e.type === 'draft.approved').length;
      const timedOut = Number(psql(srv.database, "SELECT count(*) FROM delivery_attempts WHERE event_type = 'draft.approved' AND http_status IS NULL"));
      assert.ok(total - ids.length <= timedOut, `${total - ids.length} resends but ${timedOut} timed-out attempts`);
      assert.equal(Number(psql(srv.database, "SELECT count(*) FROM delivery_attempts WHERE event_type = 'draft.approved' AND http_status = 200")), ids.length, 'each event accepted once');
      const workers = psql(srv.database, "SELECT count(DISTINCT split_part(worker, ':', 2)) FROM delivery_attempts");
      assert.equal(workers, '2', 'both processes delivered');
    } finally {
      await second.stop();
      await srv.stop();
      await forum.stop();
    }
  });
});
