// Release (CONTRACT §5): every decision reaches the forum, signed, in order, exactly once in
// effect, through forum outages, errors, hangs, agentgate crashes, PostgreSQL restarts and with
// two serve processes. The test forum checks signatures exactly as a real one must. Crash tests
// make the forum hold deliveries unanswered, so that the crash provably lands mid-delivery.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  QUICK_RETRIES, conninfo, countRows, createDatabase, decide, eventually, newSecret, postIntake, psql,
  runCli, samplePost, spawnServer, startPrivateCluster, startServer, tmpdir, writeConfig,
} from '../lib/harness.mjs';
import { startFakeForum } from '../lib/fake_forum.mjs';
import { devSignIn } from '../lib/web.mjs';

async function setup({ delivery = QUICK_RETRIES, database, extraForum = {}, server = {} } = {}) {
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

/** Runs `body({ srv, forum })` against a fresh agentgate and test forum (setup(options)) and
 * stops both afterwards, whatever happens. */
async function withForum(options, body) {
  const { srv, forum } = await setup(options);
  try {
    return await body({ srv, forum });
  } finally {
    await srv.stop();
    await forum.stop();
  }
}

async function held(srv, post) {
  const res = await postIntake(srv, post ?? samplePost());
  assert.equal(res.status, 202, res.text);
  return res.json.draft_id;
}

const stateOf = (srv, id) => psql(srv.database, `SELECT state FROM drafts WHERE id = '${id}'`);
const attempts = (srv, id) => countRows(srv.database, 'delivery_attempts', `draft_id = '${id}'`);
const until = (srv, id, state) => eventually(async () => (await stateOf(srv, id)) === state, { what: `draft ${id} ${state}` });

/** How many of the drafts `ids` are not released yet (one query, whatever their number). */
const notReleased = (database, ids, pg = {}) =>
  countRows(database, 'drafts', `id = ANY ('{${ids.join(',')}}'::uuid[]) AND state <> 'released'`, pg);

describe('events reach the forum', () => {
  it('delivers draft.approved with the approved revision, signed, and stores the post id and URL', () => withForum({}, async ({ srv, forum }) => {
    const id = await held(srv, samplePost({ post: { category: 'infra', title: 'Disk alerts', body: 'first', forum_ref: 'ref-1' } }));
    await psql(srv.database, `SELECT draft_edit('${id}', 'eng', 1, 'Disk alerts (edited)', 'second', '1001', 'alice', '{}', '[]')`);
    const decision = await decide(srv, id);
    assert.equal(decision.status, 200, decision.text);
    const event = await eventually(() => forum.unique('draft.approved').find((e) => e.body.data.draft_id === id), { what: 'draft.approved at the forum' });
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
    await until(srv, id, 'released');
    const row = await psql(srv.database, `SELECT post_id || ' ' || post_url FROM drafts WHERE id = '${id}'`);
    const postId = forum.events.get(event.id).__postId;
    assert.equal(row, `${postId} http://forum.example/p/${postId}`);
    assert.equal(await countRows(srv.database, 'outbox'), 0, 'the queue empties');
    assert.equal(await attempts(srv, id), 1);
    assert.equal(await countRows(srv.database, 'audit_events', `draft_id = '${id}' AND action = 'draft.release'`), 1);
  }));

  it('delivers draft.rejected with the reason, draft.revoked on a pause, draft.expired and draft.expiring', () => withForum({}, async ({ srv, forum }) => {
    const rejected = await held(srv);
    assert.equal((await decide(srv, rejected, { decision: 'reject', reason: 'wrong advice' })).status, 200);
    const revoked = await held(srv, samplePost({ agent: { id: 'bot-9', name: 'nine' } }));
    assert.equal((await runCli(['--config', srv.configFile, 'agent', 'pause', 'eng', 'bot-9', '--reason', 'leaking', '--revoke-pending'])).status, 0);
    const expired = await held(srv);
    await psql(srv.database, `UPDATE drafts SET expires_at = now() - interval '1 second' WHERE id = '${expired}'`);
    const expiring = await held(srv);
    await psql(srv.database, `UPDATE drafts SET expires_at = now() + interval '1 hour' WHERE id = '${expiring}'`);
    const byDraft = (id, type) => forum.unique(type).find((e) => e.body.data.draft_id === id);
    const r = await eventually(() => byDraft(rejected, 'draft.rejected'), { what: 'draft.rejected' });
    assert.equal(r.body.data.reason, 'wrong advice');
    const v = await eventually(() => byDraft(revoked, 'draft.revoked'), { what: 'draft.revoked' });
    assert.equal(v.body.data.reason, 'leaking');
    await eventually(() => byDraft(expired, 'draft.expired'), { what: 'draft.expired' });
    assert.equal(await stateOf(srv, expired), 'expired');
    const soon = await eventually(() => byDraft(expiring, 'draft.expiring'), { what: 'draft.expiring' });
    assert.ok(soon.body.data.expires_at);
    assert.equal(await stateOf(srv, expiring), 'pending');
  }));
});

describe('faults', () => {
  it('retries while the forum refuses connections and delivers once it is back', () => withForum({}, async ({ srv, forum }) => {
    await forum.stop();
    const id = await held(srv);
    await decide(srv, id);
    await eventually(async () => (await attempts(srv, id)) >= 2, { what: 'two refused attempts' });
    assert.equal(await stateOf(srv, id), 'approved');
    await forum.start();
    await until(srv, id, 'released');
    assert.equal(forum.unique('draft.approved').length, 1);
    const errors = await psql(srv.database, `SELECT string_agg(coalesce(error, ''), '|' ORDER BY id) FROM delivery_attempts WHERE draft_id = '${id}'`);
    assert.match(errors, /Couldn't connect|refused/i);
  }));

  it('retries a 500 and honours Retry-After', () => withForum({}, async ({ srv, forum }) => {
    forum.behaviour.push({ status: 500 }, { status: 503, headers: { 'retry-after': '2' } });
    const id = await held(srv);
    await decide(srv, id);
    await until(srv, id, 'released');
    const statuses = await psql(srv.database, `SELECT string_agg(coalesce(http_status::text, '-'), ',' ORDER BY id) FROM delivery_attempts WHERE draft_id = '${id}'`);
    assert.equal(statuses, '500,503,200');
    // Retry-After: 2 outweighs the schedule's 1 s: PostgreSQL's own clock shows the third
    // attempt began no sooner than 2 s after the second (a lower bound load cannot break)
    const gap = await psql(srv.database, `SELECT (max(attempted_at) FILTER (WHERE attempt = 3) - max(attempted_at) FILTER (WHERE attempt = 2)) >= interval '2 seconds' FROM delivery_attempts WHERE draft_id = '${id}'`);
    assert.equal(gap, 't', 'the 503 answer\'s Retry-After was honoured');
    const ids = new Set(forum.arrivals.filter((e) => e.draftId === id).map((e) => e.id));
    assert.equal(ids.size, 1, 'one webhook-id over all retries');
  }));

  it('stops at once on 410 and on webhook-delivery: abort-message; a moderator retry delivers', () => withForum({}, async ({ srv, forum }) => {
    forum.behaviour.push({ status: 410 });
    const gone = await held(srv);
    await decide(srv, gone);
    await until(srv, gone, 'release_failed');
    assert.equal(await attempts(srv, gone), 1);
    forum.behaviour.push({ status: 422, headers: { 'webhook-delivery': 'abort-message' } });
    const aborted = await held(srv);
    await decide(srv, aborted);
    await until(srv, aborted, 'release_failed');
    assert.equal(await attempts(srv, aborted), 1);
    const webhookId = await psql(srv.database, `SELECT webhook_id FROM deliveries WHERE draft_id = '${gone}'`);
    const retry = await runCli(['--config', srv.configFile, 'delivery', 'retry', gone]);
    assert.equal(retry.status, 0, retry.stderr);
    await until(srv, gone, 'released');
    assert.equal(forum.unique('draft.approved').find((e) => e.body.data.draft_id === gone).id, webhookId, 'same webhook-id after retry');
    const again = await runCli(['--config', srv.configFile, 'delivery', 'retry', gone]);
    assert.equal(again.status, 1);
  }));

  it('gives up after the last scheduled attempt: release_failed', () => withForum({ delivery: { ...QUICK_RETRIES, retry_schedule: '0s, 1s, 1s' } }, async ({ srv, forum }) => {
    await forum.stop();
    const id = await held(srv);
    await decide(srv, id);
    await until(srv, id, 'release_failed');
    assert.equal(await attempts(srv, id), 3);
  }));

  it('times out a forum that hangs and retries', () => withForum({ delivery: { ...QUICK_RETRIES, timeout: '1s' } }, async ({ srv, forum }) => {
    forum.behaviour.push({ hang: true });
    const id = await held(srv);
    await decide(srv, id);
    await until(srv, id, 'released');
    assert.equal(forum.hanging.length, 1, 'the forum held the first request without answering');
    const first = await psql(srv.database, `SELECT error FROM delivery_attempts WHERE draft_id = '${id}' ORDER BY id LIMIT 1`);
    assert.match(first, /timed out|Timeout/i);
    assert.equal(new Set(forum.arrivals.filter((e) => e.draftId === id).map((e) => e.id)).size, 1, 'the retry has the same webhook-id');
  }));

  it('revokes an approval when the kill switch went on before the forum accepted it', () => withForum({}, async ({ srv, forum }) => {
    try {
      await forum.stop();
      const id = await held(srv);
      await decide(srv, id);
      await eventually(async () => (await attempts(srv, id)) >= 1, { what: 'a first refused attempt' });
      assert.equal((await runCli(['--config', srv.configFile, 'killswitch', 'on', '--reason', 'incident'])).status, 0);
      await forum.start();
      await until(srv, id, 'revoked');
      const revokedEvent = await eventually(() => forum.unique('draft.revoked').find((e) => e.body.data.draft_id === id), { what: 'draft.revoked at the forum' });
      assert.equal(revokedEvent.body.data.reason, 'kill switch on');
      assert.equal(forum.arrivals.filter((e) => e.type === 'draft.approved').length, 0, 'the approval never reached the forum');
    } finally {
      await runCli(['--config', srv.configFile, 'killswitch', 'off']);
    }
  }));
});

describe('revoking an approval that is still being retried', () => {
  /** An approved draft whose delivery failed once (the forum is down), then revoked in bulk by
   * a moderator. Returns the draft id. */
  async function revokedWhileRetrying(srv, forum) {
    await forum.stop();
    const id = await held(srv);
    assert.equal((await decide(srv, id)).status, 200);
    await eventually(async () => (await attempts(srv, id)) >= 1, { what: 'a first refused attempt' });
    const moderator = await devSignIn(srv, { user_id: '4004', username: 'mona', groups: 'moderators' });
    const revoked = await moderator.post('/moderation/bulk', { action: 'revoke', reason: 'wrong agent', draft: [id] });
    assert.equal(revoked.status, 303, revoked.text.slice(0, 300));
    assert.equal(revoked.headers.get('location'), '/history?done=revoked&changed=1&selected=1');
    assert.equal(await stateOf(srv, id), 'revoked');
    return id;
  }

  /** Waits until nothing about the draft is queued, then checks what the forum and the
   * database say: one draft.revoked, never the approval. */
  async function assertOnlyRevocationReached(srv, forum, id) {
    await eventually(async () => (await countRows(srv.database, 'outbox', `draft_id = '${id}'`)) === 0, { what: 'the queue to empty' });
    assert.equal(forum.arrivals.filter((e) => e.draftId === id && e.type === 'draft.approved').length, 0, 'the revoked approval never reached the forum');
    assert.equal(forum.unique('draft.revoked').filter((e) => e.body.data.draft_id === id).length, 1, 'the forum heard of the revocation');
    assert.equal(await stateOf(srv, id), 'revoked');
    // one statement, so no event can move from the outbox to deliveries between two counts
    const events = await psql(srv.database, `SELECT string_agg(event_type || ':' || outcome, ',' ORDER BY event_type) FROM deliveries WHERE draft_id = '${id}'`);
    assert.equal(events, 'draft.approved:superseded,draft.revoked:delivered');
    assert.equal(await countRows(srv.database, 'audit_events', `draft_id = '${id}' AND action = 'draft.revoke'`), 1, 'revoked once');
    assert.equal(await countRows(srv.database, 'audit_events', `draft_id = '${id}' AND action IN ('draft.release', 'draft.release_failed')`), 0);
  }

  it('sends draft.revoked and never the approval once the forum is back', () => withForum({}, async ({ srv, forum }) => {
    const id = await revokedWhileRetrying(srv, forum);
    await forum.start();
    await assertOnlyRevocationReached(srv, forum, id);
  }));

  it('revokes once when the kill switch goes on as well', () => withForum({}, async ({ srv, forum }) => {
    try {
      const id = await revokedWhileRetrying(srv, forum);
      assert.equal((await runCli(['--config', srv.configFile, 'killswitch', 'on', '--reason', 'incident'])).status, 0);
      await forum.start();
      await assertOnlyRevocationReached(srv, forum, id);
    } finally {
      await runCli(['--config', srv.configFile, 'killswitch', 'off']);
    }
  }));
});

/** Every approved draft was published under exactly one webhook-id (resends reuse it). */
function assertAllDeliveredOnce(forum, ids) {
  const byDraft = new Map();
  for (const e of forum.received) {
    if (e.type !== 'draft.approved') continue;
    const set = byDraft.get(e.body.data.draft_id) ?? new Set();
    set.add(e.id);
    byDraft.set(e.body.data.draft_id, set);
  }
  for (const id of ids) assert.equal(byDraft.get(id)?.size, 1, `draft ${id} published under ${byDraft.get(id)?.size} ids`);
}

/** A config for a server the test stops and starts itself. */
function serverConfig(database, forum, inbound, pg = {}) {
  return writeConfig(tmpdir('cfg-'), {
    server: { listen: '127.0.0.1:0', database: conninfo(database, pg), auth: 'dev', threads: 4 },
    forums: { eng: { inbound_secret: inbound, rate_limit: 'none', release_url: forum.url, release_secret: forum.secret } },
    delivery: QUICK_RETRIES,
  });
}

describe('crashes, restarts and several processes', () => {
  it('delivers everything after agentgate is killed with SIGKILL mid-delivery and restarted', async () => {
    const forum = await startFakeForum({ secret: newSecret() });
    const database = await createDatabase();
    const inbound = newSecret();
    const file = serverConfig(database, forum, inbound);
    let srv = Object.assign(await spawnServer(file), { secret: inbound, database });
    try {
      forum.hold = true;
      const ids = [];
      for (let i = 0; i < 30; i++) ids.push(await held(srv));
      for (const id of ids) assert.equal((await decide(srv, id)).status, 200);
      // the window: every delivery worker (4) is in the middle of a request the forum holds
      const inFlight = await eventually(() => forum.held.length >= 4 && forum.held.map((r) => r.id), { what: 'four deliveries in flight' });
      await srv.kill();
      // the forum publishes what it held, but agentgate died before it could record that
      forum.release(200);
      srv = Object.assign(await spawnServer(file), { secret: inbound, database });
      await eventually(async () => (await notReleased(database, ids)) === 0, { what: 'every draft released after the restart' });
      assertAllDeliveredOnce(forum, ids);
      for (const id of inFlight) {
        assert.ok(forum.arrivals.filter((e) => e.id === id).length >= 2, `${id}, cut off by the kill, was sent again under the same webhook-id`);
      }
    } finally {
      await srv.stop();
      await forum.stop();
    }
  });

  it('delivers everything when PostgreSQL stops while deliveries are in flight', async () => {
    const cluster = await startPrivateCluster();
    const pg = { host: cluster.host, port: cluster.port };
    const forum = await startFakeForum({ secret: newSecret() });
    const database = await createDatabase(pg);
    const inbound = newSecret();
    const srv = Object.assign(await spawnServer(serverConfig(database, forum, inbound, pg)), { secret: inbound, database });
    try {
      forum.hold = true;
      const ids = [];
      for (let i = 0; i < 20; i++) ids.push(await held(srv));
      for (const id of ids) assert.equal((await decide(srv, id)).status, 200);
      const inFlight = await eventually(() => forum.held.length >= 4 && forum.held.map((r) => r.id), { what: 'four deliveries in flight' });
      const mark = srv.logs().length;
      await cluster.stop('immediate');
      // the forum publishes what it held; agentgate cannot record it with the database gone
      forum.release(200);
      await srv.waitForLog(/delivery of evt_\w+ \(draft [0-9a-f-]+\) not recorded; it will be sent again/, { since: mark, what: 'a delivery agentgate could not record' });
      await cluster.start();
      await eventually(async () => (await notReleased(database, ids, pg)) === 0, { what: 'every draft released after the database restart' });
      assertAllDeliveredOnce(forum, ids);
      for (const id of inFlight) {
        assert.ok(forum.arrivals.filter((e) => e.id === id).length >= 2, `${id}, answered while the database was down, was sent again under the same webhook-id`);
      }
    } finally {
      await srv.stop();
      await forum.stop();
      await cluster.stop('immediate', { ignoreErrors: true });
    }
  });

  it('shares the work between two serve processes, each event delivered by one at a time', async () => {
    const { srv, forum } = await setup();
    const second = await startServer({ database: srv.database, forums: { eng: { inbound_secret: srv.secret, rate_limit: 'none', release_url: forum.url, release_secret: forum.secret } }, delivery: QUICK_RETRIES });
    second.secret = srv.secret;
    try {
      forum.hold = true;
      const ids = [];
      for (let i = 0; i < 60; i++) ids.push(await held(i % 2 ? srv : second));
      await Promise.all(ids.map((id, i) => decide(i % 3 ? srv : second, id)));
      // both processes at work at once: eight requests in flight, one process has four workers
      await eventually(() => forum.held.length >= 8, { what: 'eight deliveries in flight at once' });
      assert.equal(new Set(forum.held.map((r) => r.id)).size, forum.held.length, 'no event is sent twice at the same time');
      forum.release(200);
      await eventually(async () => (await notReleased(srv.database, ids)) === 0, { what: 'every draft released' });
      assertAllDeliveredOnce(forum, ids);
      // A request the forum received but answered after the timeout is sent again under the
      // same webhook-id (the forum drops it); anything else sent twice would be a bug.
      const total = forum.arrivals.filter((e) => e.type === 'draft.approved').length;
      const timedOut = await countRows(srv.database, 'delivery_attempts', "event_type = 'draft.approved' AND http_status IS NULL");
      assert.ok(total - ids.length <= timedOut, `${total - ids.length} resends but ${timedOut} timed-out attempts`);
      assert.equal(await countRows(srv.database, 'delivery_attempts', "event_type = 'draft.approved' AND http_status = 200"), ids.length, 'each event accepted once');
      const workers = await psql(srv.database, "SELECT count(DISTINCT split_part(worker, ':', 2)) FROM delivery_attempts");
      assert.equal(workers, '2', 'both processes delivered');
    } finally {
      await second.stop();
      await srv.stop();
      await forum.stop();
    }
  });
});
