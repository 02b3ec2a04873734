// Moderators stop agents (CONTRACT §2, §7): the kill switch and pauses through the /agents page
// and the CLI, observed from two serve processes; a post racing the switch is held before it or
// refused after it, never released; bulk reject and revoke; who may do any of it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  QUICK_RETRIES, countRows, decide, eventually, newSecret, postIntake, psql, runCli, samplePost, startServer,
} from '../lib/harness.mjs';
import { startFakeForum } from '../lib/fake_forum.mjs';
import { psqlSession } from '../lib/psql_session.mjs';
import { anonymous, devSignIn } from '../lib/web.mjs';

/** Two serve processes on one database, with a test forum for deliveries. */
async function twoServers() {
  const releaseSecret = newSecret();
  const forum = await startFakeForum({ secret: releaseSecret });
  const inbound = newSecret();
  const forums = { eng: { inbound_secret: inbound, rate_limit: 'none', release_url: forum.url, release_secret: releaseSecret } };
  const a = await startServer({ forums, delivery: QUICK_RETRIES });
  const b = await startServer({ forums, delivery: QUICK_RETRIES, database: a.database });
  a.secret = b.secret = inbound;
  const stop = async () => {
    await a.stop();
    await b.stop();
    await forum.stop();
  };
  return { a, b, forum, stop };
}

describe('who may moderate', () => {
  it('keeps /agents and its forms to moderators', async () => {
    const srv = await startServer();
    try {
      const engineer = await devSignIn(srv, { user_id: '1001', username: 'alice' });
      const moderator = await devSignIn(srv, { user_id: '4004', username: 'mona', groups: 'moderators' });
      assert.equal((await anonymous(srv).get('/agents')).status, 303);
      assert.equal((await engineer.get('/agents')).status, 404);
      const page = await moderator.get('/agents');
      assert.equal(page.status, 200);
      assert.match(page.text, /Stop all agents/);
      for (const [path, fields] of [['/killswitch', { state: 'on', reason: 'x', confirm: 'yes' }], ['/agents/pause', { agent: 'bot-42', reason: 'x' }], ['/agents/resume', { agent: 'bot-42', reason: 'x' }], ['/moderation/bulk', { action: 'reject', reason: 'x', draft: '00000000-0000-4000-8000-000000000000' }]]) {
        assert.equal((await engineer.post(path, fields)).status, 404, `engineer ${path}`);
        assert.equal((await moderator.post(path, fields, { withCsrf: false })).status, 403, `no csrf ${path}`);
        assert.equal((await moderator.post(path, fields, { origin: 'http://evil.example' })).status, 403, `other origin ${path}`);
        assert.equal((await anonymous(srv).post(path, fields)).status, 403, `anonymous ${path}`);
      }
      assert.equal(await psql(srv.database, 'SELECT engaged FROM killswitch'), 'f');
      assert.equal(await countRows(srv.database, 'agents', 'paused'), 0);
    } finally {
      await srv.stop();
    }
  });
});

describe('kill switch and pause', () => {
  it('stops intake on every serve process at once, through the page, behind a confirmation', async () => {
    const { a, b, stop } = await twoServers();
    try {
      const moderator = await devSignIn(a, { user_id: '4004', username: 'mona', groups: 'moderators' });
      const unconfirmed = await moderator.post('/killswitch', { state: 'on', reason: 'incident 7' });
      assert.equal(unconfirmed.status, 400);
      assert.equal((await postIntake(b, samplePost())).status, 202);
      const on = await moderator.post('/killswitch', { state: 'on', reason: 'incident 7', confirm: 'yes' });
      assert.equal(on.status, 303);
      const refused = await postIntake(b, samplePost());
      assert.equal(refused.status, 423);
      assert.equal(refused.json.error.code, 'kill_switch_on');
      assert.equal((await postIntake(a, samplePost())).status, 423);
      const stopped = (await moderator.get('/agents')).text;
      assert.match(stopped, /ON: all agents stopped/);
      assert.match(stopped, /Turned on by <span class="person"><bdi dir="auto">mona<\/bdi> <span class="person-id">\(<bdi dir="auto">4004<\/bdi>\)<\/span><\/span> <span class="when"><time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" title="\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC">just now<\/time>/);
      // the agent that posted shows what stops it, not a green "active"
      assert.match(stopped, /<span class="badge state agent-killswitch">stopped by the kill switch<\/span>/);
      assert.doesNotMatch(stopped, /agent-active|>active</);
      // turning it off needs a reason too; without one nothing changes
      for (const reason of [undefined, '', '   ']) {
        const refused = await moderator.post('/killswitch', { state: 'off', confirm: 'yes', ...(reason === undefined ? {} : { reason }) });
        assert.equal(refused.status, 400);
        assert.match(refused.text, /Give a reason to let agents post again/);
      }
      assert.equal(await psql(a.database, 'SELECT engaged FROM killswitch'), 't');
      assert.equal((await postIntake(b, samplePost())).status, 423);
      assert.equal((await moderator.post('/killswitch', { state: 'off', reason: 'resolved' })).status, 400, 'unconfirmed');
      const off = await moderator.post('/killswitch', { state: 'off', reason: 'resolved', confirm: 'yes' });
      assert.equal(off.status, 303);
      assert.equal(off.headers.get('location'), '/agents?done=killswitch-off');
      assert.equal((await postIntake(b, samplePost())).status, 202);
      const resumed = (await moderator.get('/agents?done=killswitch-off')).text;
      assert.match(resumed, /Kill switch off: agents may post again/);
      assert.match(resumed, /Last turned off by <span class="person"><bdi dir="auto">mona<\/bdi> <span class="person-id">\(<bdi dir="auto">4004<\/bdi>\)<\/span><\/span> <span class="when"><time [^>]+>just now<\/time> <span class="time-absolute">[^<]+ UTC<\/span><\/span>: <q dir="auto">resolved<\/q>/);
      assert.match(resumed, /<span class="badge state agent-active">active<\/span>/);
      assert.equal(await countRows(a.database, 'audit_events', "action = 'killswitch.on' AND actor = 'user:4004' AND details->>'actor_name' = 'mona'"), 1);
      assert.equal(await countRows(a.database, 'audit_events', "action = 'killswitch.off' AND actor = 'user:4004' AND details->>'reason' = 'resolved'"), 1);
    } finally {
      await stop();
    }
  });

  it('pauses one agent through the page, revoking its pending drafts, seen by the CLI and the other process', async () => {
    const { a, b, forum, stop } = await twoServers();
    try {
      const moderator = await devSignIn(a, { user_id: '4004', username: 'mona', groups: 'moderators' });
      const bot = { id: 'bot-7', name: 'seven' };
      const pending = await postIntake(a, samplePost({ agent: bot }));
      assert.equal(pending.status, 202);
      assert.equal((await moderator.post('/agents/pause', { agent: 'bot-7', reason: '' })).status, 400);
      const paused = await moderator.post('/agents/pause', { agent: 'bot-7', reason: 'posting secrets', revoke_pending: 'yes' });
      assert.equal(paused.status, 303);
      assert.equal(await psql(a.database, `SELECT state FROM drafts WHERE id = '${pending.json.draft_id}'`), 'revoked');
      await eventually(() => forum.unique('draft.revoked').some((e) => e.body.data.draft_id === pending.json.draft_id), { what: 'forum told of the revocation' });
      const refused = await postIntake(b, samplePost({ agent: bot }));
      assert.equal(refused.status, 423);
      assert.equal(refused.json.error.code, 'agent_paused');
      assert.equal((await postIntake(b, samplePost())).status, 202, 'other agents go on');
      const agents = (await moderator.get('/agents')).text;
      assert.match(agents, /<span class="badge state agent-paused">paused<\/span> <span class="cell-meta">by <span class="person"><bdi dir="auto">mona<\/bdi> <span class="person-id">\(<bdi dir="auto">4004<\/bdi>\)<\/span><\/span> <span class="when"><time [^>]+>just now<\/time> <span class="time-absolute">[^<]+<\/span><\/span>: <q dir="auto">posting secrets<\/q>/);
      assert.match(agents, /<span class="person"><bdi dir="auto">seven<\/bdi> <span class="person-id">\(<bdi dir="auto">bot-7<\/bdi>\)<\/span><\/span>/);
      // the revoked draft names the moderator by id and name, as a decision does
      assert.equal(await psql(a.database, `SELECT decided_by_id || ' ' || decided_by_name FROM drafts WHERE id = '${pending.json.draft_id}'`), '4004 mona');
      const history = (await moderator.get('/history?agent=bot-7')).text;
      assert.match(history, /<td data-label="Decided by"><span class="decider"><span class="person"><bdi dir="auto">mona<\/bdi> <span class="person-id">\(<bdi dir="auto">4004<\/bdi>\)<\/span><\/span>/);
      const resumed = await runCli(['--config', b.configFile, 'agent', 'resume', 'eng', 'bot-7']);
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.equal((await postIntake(a, samplePost({ agent: bot }))).status, 202);
    } finally {
      await stop();
    }
  });

  it('turns the kill switch on only with a reason from the CLI, and off with or without one', async () => {
    const srv = await startServer();
    try {
      const cli = (...args) => runCli(['--config', srv.configFile, 'killswitch', ...args]);
      const state = () => psql(srv.database, "SELECT engaged || ' ' || coalesce(reason, '-') || ' ' || changed_by FROM killswitch");
      for (const args of [['on'], ['on', '--reason', ''], ['off', '--reason', ''], ['off', '--reason'], ['off', 'now']]) {
        const bad = await cli(...args);
        assert.equal(bad.status, 2, args.join(' '));
        assert.match(bad.stderr, /killswitch/);
      }
      assert.equal(await countRows(srv.database, 'audit_events', "action LIKE 'killswitch.%'"), 0, 'bad usage changes nothing');
      assert.equal((await cli('on', '--reason', 'incident 9')).status, 0);
      assert.match(await state(), /^true incident 9 cli:/);
      assert.equal((await cli('off')).status, 0, 'CONTRACT §2: killswitch off without a reason');
      assert.match(await state(), /^false - cli:/);
      assert.equal((await cli('on', '--reason', 'incident 10')).status, 0);
      assert.equal((await cli('off', '--reason', 'all clear')).status, 0);
      assert.match(await state(), /^false all clear cli:/);
      assert.equal(await countRows(srv.database, 'audit_events', "action = 'killswitch.off' AND details->>'reason' = 'all clear'"), 1);
      // the page names the CLI user as it was recorded
      const moderator = await devSignIn(srv, { user_id: '4004', username: 'mona', groups: 'moderators' });
      assert.match((await moderator.get('/agents')).text, /Last turned off by <span class="person"><bdi dir="auto">cli:[^<]+<\/bdi><\/span> <span class="when"><time/);
    } finally {
      await srv.stop();
    }
  });

  it('never releases a post racing the kill switch: held before it (then revoked) or refused after it', async () => {
    const { a, b, forum, stop } = await twoServers();
    const blocker = await psqlSession(a.database);
    let stopped = false;
    try {
      const results = [];
      let sent = 0;
      // posters on both processes post without pause until each has been refused by the switch
      const poster = async () => {
        while (!stopped) {
          const i = sent++;
          const r = await postIntake(i % 2 ? a : b, samplePost({ agent: { id: `race-${i % 5}`, name: 'racer' } }));
          results.push(r);
          if (r.status === 423) return;
          assert.equal(r.status, 202, r.text);
        }
      };
      const posters = Array.from({ length: 6 }, poster);
      await eventually(() => results.filter((r) => r.status === 202).length >= 12, { what: 'posts held before the switch' });
      // Hold the switch's lock shared, as an intake does: the switch waits for it, and every post
      // arriving meanwhile queues behind the switch, inside its transaction.
      await blocker.run("SELECT pg_advisory_lock_shared(lock_key('kill_switch'), 0);");
      const switching = runCli(['--config', a.configFile, 'killswitch', 'on', '--reason', 'race']);
      const waiting = (what) => countRows(a.database, 'pg_stat_activity', `datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%${what}(%'`);
      await eventually(async () => (await waiting('killswitch_set')) === 1, { what: 'the kill switch waiting for its lock' });
      // the window: posts in the middle of their transactions while the switch goes on
      await eventually(async () => (await waiting('intake_hold')) >= 4, { what: 'four posts racing the switch' });
      const racing = await waiting('intake_hold');
      await blocker.close();
      const switched = await switching;
      assert.equal(switched.status, 0, switched.stderr);
      await Promise.all(posters);
      const held = results.filter((r) => r.status === 202);
      const refused = results.filter((r) => r.status === 423);
      assert.equal(held.length + refused.length, results.length, results.map((r) => r.status).join(','));
      assert.ok(refused.length >= racing, `the ${racing} racing posts were refused (${refused.length} refusals)`);
      const switchId = Number(await psql(a.database, "SELECT id FROM audit_events WHERE action = 'killswitch.on'"));
      const lastHeld = Number(await psql(a.database, "SELECT coalesce(max(id), 0) FROM audit_events WHERE action = 'intake.held'"));
      const firstRefused = Number(await psql(a.database, "SELECT min(id) FROM audit_events WHERE action = 'intake.refused' AND details->>'reason' = 'kill_switch_on'"));
      assert.ok(lastHeld < switchId, 'every hold committed before the switch');
      assert.ok(firstRefused > switchId, 'every refusal came after it');
      assert.equal(await countRows(a.database, 'drafts', "agent_id LIKE 'race-%'"), held.length);
      // the invoker's approval of what was held is refused while the switch is on (423); the
      // drafts stay pending, so the review is not lost (CONTRACT §7)
      for (const r of held) assert.equal((await decide(a, r.json.draft_id)).status, 423);
      assert.equal(await countRows(a.database, 'drafts', "agent_id LIKE 'race-%' AND state = 'pending'"), held.length);
      assert.equal(forum.arrivals.filter((e) => e.type === 'draft.approved').length, 0, 'nothing was released');
    } finally {
      stopped = true;
      await blocker.close();
      await runCli(['--config', a.configFile, 'killswitch', 'off']);
      await stop();
    }
  });
});

describe('bulk reject and revoke', () => {
  it('rejects pending drafts and revokes approved ones in bulk; no bulk approve', async () => {
    const { a, forum, stop } = await twoServers();
    try {
      await forum.stop(); // approved drafts stay approved (not yet accepted by the forum)
      const moderator = await devSignIn(a, { user_id: '4004', username: 'mona', groups: 'moderators' });
      const engineer = await devSignIn(a, { user_id: '1001', username: 'alice' });
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push((await postIntake(a, samplePost())).json.draft_id);
      assert.equal((await decide(a, ids[3])).status, 200);
      const noApprove = await moderator.post('/moderation/bulk', { action: 'approve', reason: 'x', draft: ids });
      assert.equal(noApprove.status, 400);
      assert.equal((await moderator.post('/moderation/bulk', { action: 'reject', reason: '', draft: ids })).status, 400);
      assert.equal((await moderator.post('/moderation/bulk', { action: 'reject', reason: 'x', draft: ['not-a-uuid'] })).status, 400);
      assert.equal((await engineer.post('/moderation/bulk', { action: 'reject', reason: 'x', draft: ids })).status, 404);
      const rejected = await moderator.post('/moderation/bulk', { action: 'reject', reason: 'off-topic spam', draft: ids.slice(0, 2).concat(ids[3]), back: 'state=pending&agent=bot-42&after=1796127480000000%3Affffffff-ffff-ffff-ffff-ffffffffffff' });
      // back to the History it came from, filters and page kept, with the outcome (a reload
      // shows the page again and changes nothing)
      assert.equal(rejected.status, 303);
      assert.equal(rejected.headers.get('location'), '/history?done=rejected&changed=2&selected=3&state=pending&agent=bot-42&after=1796127480000000%3Affffffff-ffff-ffff-ffff-ffffffffffff');
      const landed = await moderator.get(rejected.headers.get('location'));
      assert.equal(landed.status, 200);
      assert.match(landed.text, /<div class="notice notice-info" role="status"><p>Rejected 2 of the 3 selected drafts; the others were already decided and were left as they were.<\/p><\/div>/);
      assert.match(landed.text, /<option value="pending" selected>/);
      assert.doesNotMatch(landed.text, /Back to your drafts/);
      assert.equal(await psql(a.database, `SELECT string_agg(state, ',' ORDER BY created_at) FROM drafts WHERE id IN ('${ids.join("','")}')`), 'rejected,rejected,pending,approved');
      // a way back that is not a History query string is not followed
      const revoked = await moderator.post('/moderation/bulk', { action: 'revoke', reason: 'agent misconfigured', draft: ids.slice(2), back: 'x=1\r\nSet-Cookie: a=b' });
      assert.equal(revoked.status, 303);
      assert.equal(revoked.headers.get('location'), '/history?done=revoked&changed=2&selected=2');
      assert.match((await moderator.get(revoked.headers.get('location'))).text, /Revoked 2 drafts\./);
      assert.equal(await psql(a.database, `SELECT string_agg(DISTINCT decided_by_id || ' ' || decided_by_name, ',') FROM drafts WHERE id IN ('${ids.join("','")}')`), '4004 mona');
      assert.equal(await psql(a.database, `SELECT string_agg(state, ',' ORDER BY created_at) FROM drafts WHERE id IN ('${ids.join("','")}')`), 'rejected,rejected,revoked,revoked');
      assert.equal(await countRows(a.database, 'audit_events', "action = 'draft.reject' AND details->>'bulk' = 'true'"), 2);
      // one event for the forum per draft; counted in one statement, as a worker may move an
      // event from the outbox to deliveries at any moment
      const events = await psql(a.database, `SELECT string_agg(n::text, ',' ORDER BY created_at) FROM (
          SELECT d.created_at, (SELECT count(*) FROM outbox o WHERE o.draft_id = d.id AND o.event_type IN ('draft.rejected', 'draft.revoked'))
            + (SELECT count(*) FROM deliveries x WHERE x.draft_id = d.id AND x.event_type IN ('draft.rejected', 'draft.revoked')) AS n
          FROM drafts d WHERE d.id IN ('${ids.join("','")}')) t`);
      assert.equal(events, '1,1,1,1');
    } finally {
      await stop();
    }
  });
});
