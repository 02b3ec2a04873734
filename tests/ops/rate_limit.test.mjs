// Per-agent rate limits (sql/intake_hold.sql, server/intake/intake_refusals.c): exact across
// serve processes racing at the limit, a sliding window, refusals answered from memory once an
// agent is known to be over its limit yet still audited (as counted events), and a replayed
// webhook-id that still gets its first answer while its agent is limited.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createDatabase, eventually, newSecret, postIntake, psql, ROOT, samplePost, startServer, webhookId } from '../lib/harness.mjs';

async function twoServers(rateLimit) {
  const database = await createDatabase();
  const secret = newSecret();
  const forums = { eng: { inbound_secret: secret, rate_limit: rateLimit } };
  const a = await startServer({ database, secret, forums, server: { threads: 4 } });
  const b = await startServer({ database, secret, forums, server: { threads: 4 } });
  return { a, b, database };
}

async function serverWithLimit(rateLimit) {
  const secret = newSecret();
  return startServer({ secret, forums: { eng: { inbound_secret: secret, rate_limit: rateLimit } } });
}

const post = (agent = 'bot-flood') => samplePost({ agent: { id: agent, name: 'flood' }, post: { topic_id: '77', body: 'Same answer again and again.' } });

/** Refusals audited for an agent: one per event, or the event's count when aggregated. */
async function refusalsAudited(database, agent) {
  return Number(await psql(database, `SELECT coalesce(sum(coalesce((details->>'count')::int, 1)), 0) FROM audit_events
    WHERE action = 'intake.refused' AND actor = 'agent:${agent}' AND details->>'reason' = 'rate_limited'`));
}

describe('rate limit', () => {
  it('admits exactly the limit when two serve processes race for one agent', async () => {
    const { a, b, database } = await twoServers('10/h');
    try {
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => postIntake(i % 2 ? a : b, post())));
      const statuses = answers.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 202).length, 10, JSON.stringify(statuses));
      assert.equal(statuses.filter((s) => s === 429).length, 50, JSON.stringify(statuses));
      for (const r of answers.filter((x) => x.status === 429)) assert.ok(Number(r.headers.get('retry-after')) > 3500, r.headers.get('retry-after'));
      assert.equal(await psql(database, "SELECT count(*) FROM drafts WHERE agent_id = 'bot-flood'"), '10');
      assert.equal(await psql(database, "SELECT count(*) || ' ' || min(seq) || ' ' || max(seq) FROM agent_admissions WHERE agent_id = 'bot-flood'"), '10 1 10');
      assert.equal(await psql(database, "SELECT admitted FROM agents WHERE agent_id = 'bot-flood'"), '10');

      // More refusals, now answered from memory by both processes, all counted in the audit trail.
      const more = await Promise.all(Array.from({ length: 200 }, (_, i) => postIntake(i % 2 ? a : b, post())));
      assert.deepEqual([...new Set(more.map((r) => r.status))], [429]);
      await a.stop();
      await b.stop(); // a graceful stop writes what is still counted
      assert.equal(await refusalsAudited(database, 'bot-flood'), 250);
      const events = Number(await psql(database, "SELECT count(*) FROM audit_events WHERE action = 'intake.refused' AND actor = 'agent:bot-flood'"));
      assert.ok(events < 250, `a flood is audited as counted events, not one row per refusal (${events} rows)`);
    } finally {
      await a.stop().catch(() => {});
      await b.stop().catch(() => {});
    }
  });

  it('audits counted refusals within seconds while the server keeps running', async () => {
    const srv = await serverWithLimit('2/h');
    try {
      for (let i = 0; i < 2; i++) assert.equal((await postIntake(srv, post('bot-a'))).status, 202);
      // The first refusal comes from PostgreSQL, the next ones from memory (a second later each).
      const refused = await Promise.all(Array.from({ length: 30 }, () => postIntake(srv, post('bot-a'))));
      assert.deepEqual([...new Set(refused.map((r) => r.status))], [429]);
      await eventually(async () => (await refusalsAudited(srv.database, 'bot-a')) === 30, { what: '30 refusals in the audit trail' });
      const counted = await psql(srv.database, `SELECT details->>'count', details ? 'webhook_id', details ? 'last_webhook_id'
        FROM audit_events WHERE actor = 'agent:bot-a' AND details ? 'count' ORDER BY id LIMIT 1`);
      assert.match(counted, /^\d+\|t\|t$/);
    } finally {
      await srv.stop();
    }
  });

  it('answers a replayed webhook-id with its first 202 while the agent is over its limit', async () => {
    const srv = await serverWithLimit('1/h');
    try {
      const id = webhookId();
      const first = await postIntake(srv, post('bot-r'), { id });
      assert.equal(first.status, 202);
      assert.equal((await postIntake(srv, post('bot-r'))).status, 429); // the database refuses
      assert.equal((await postIntake(srv, post('bot-r'))).status, 429); // refused from memory
      const again = await postIntake(srv, post('bot-r'), { id });
      assert.equal(again.status, 202);
      assert.equal(again.text, first.text);
    } finally {
      await srv.stop();
    }
  });

  it('numbers the drafts held before migration 0060, so a limit holds across the upgrade', async () => {
    const srv = await serverWithLimit('5/h');
    try {
      for (let i = 0; i < 3; i++) assert.equal((await postIntake(srv, post('bot-old'))).status, 202);
      // As an older agentgate left them: drafts without admissions, the agent's count at 0. Then
      // the numbering statements of the migration itself.
      await psql(srv.database, "DELETE FROM agent_admissions; UPDATE agents SET admitted = 0");
      const migration = fs.readFileSync(path.join(ROOT, 'migrations/0060_intake_admissions.sql'), 'utf8');
      const numbering = /INSERT INTO agent_admissions[\s\S]*?;\nUPDATE agents[\s\S]*?;\n/.exec(migration);
      assert.ok(numbering, 'the numbering statements of migrations/0060');
      await psql(srv.database, numbering[0]);
      assert.equal(await psql(srv.database, "SELECT admitted FROM agents WHERE agent_id = 'bot-old'"), '3');
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await postIntake(srv, post('bot-old'))).status);
      assert.deepEqual(statuses, [202, 202, 429, 429]);
    } finally {
      await srv.stop();
    }
  });

  it('is a sliding window: a slot opens when the oldest post leaves it, never earlier', async () => {
    const srv = await serverWithLimit('3/3s');
    try {
      for (let i = 0; i < 3; i++) assert.equal((await postIntake(srv, post('bot-s'))).status, 202);
      const refused = await postIntake(srv, post('bot-s'));
      assert.equal(refused.status, 429);
      assert.ok([1, 2, 3].includes(Number(refused.headers.get('retry-after'))), refused.headers.get('retry-after'));
      // Keep posting until admitted again: the window must have moved.
      await eventually(async () => (await postIntake(srv, post('bot-s'))).status === 202, { what: 'a slot to open' });
      for (let i = 0; i < 2; i++) await eventually(async () => (await postIntake(srv, post('bot-s'))).status === 202, { what: 'another slot' });
      // Any 4 consecutive drafts of the agent span at least the window.
      const spans = (await psql(srv.database, `SELECT extract(epoch FROM a.admitted_at - p.admitted_at) FROM agent_admissions a
        JOIN agent_admissions p ON p.agent_id = a.agent_id AND p.forum = a.forum AND p.seq = a.seq - 3
        WHERE a.agent_id = 'bot-s'`)).split('\n').map(Number);
      assert.equal(spans.length, 3);
      for (const span of spans) assert.ok(span >= 3, `4 drafts within ${span} s`);
    } finally {
      await srv.stop();
    }
  });
});
