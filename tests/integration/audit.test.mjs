// The tamper-evident audit trail (CONTRACT §2, §7, §9) against a real PostgreSQL and real serve
// processes: `audit verify` passes on a chain sealed by SQL (so the SQL and C encodings agree),
// and names the first broken event after a superuser changes, deletes, inserts or reorders
// events behind the triggers' back (each in its own database); a checkpoint kept outside the
// database catches deleted newest events; two serve processes writing at once still make one
// gapless chain; the serving role cannot seal by UPDATE; /audit shows the state to moderators.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  QUICK_RETRIES, conninfo, createDatabase, decide, ensureRoles, eventually, newSecret, postIntake, psql,
  runCli, samplePost, sqlOutcome, startPrivateCluster, startServer, tmpdir, writeConfig,
} from '../lib/harness.mjs';
import { startFakeForum } from '../lib/fake_forum.mjs';
import { psqlSession } from '../lib/psql_session.mjs';
import { anonymous, devSignIn } from '../lib/web.mjs';

const HEAD = /^audit chain intact: (\d+) events, head (\d+):([0-9a-f]{64})/;

/** Runs SQL as the superuser with every trigger of the session off, as an attacker would. */
function tamper(database, sql) {
  return psql(database, `SET session_replication_role = replica; ${sql}`);
}

function verify(srv, ...extra) {
  return runCli(['--config', srv.configFile, 'audit', 'verify', ...extra]);
}

async function checkpoint(srv) {
  const r = await runCli(['--config', srv.configFile, 'audit', 'checkpoint']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/**
 * A fresh database with a sealed chain of real events (intakes, an approval, a rejection, a
 * refused intake), written by a real server that is stopped again. Returns the server handle
 * (its configFile and database stay usable) and the number of events.
 */
async function populated(intakes = 6) {
  const srv = await startServer({ delivery: { workers: 0 } });
  try {
    const ids = [];
    for (let i = 0; i < intakes; i++) {
      const r = await postIntake(srv, samplePost({ post: { topic_id: '1', body: `Post ${i} with "quotes", \\ and\ttabs — ünïcödé 😀` } }));
      assert.equal(r.status, 202, r.text);
      ids.push(r.json.draft_id);
    }
    assert.equal((await decide(srv, ids[0])).status, 200);
    assert.equal((await decide(srv, ids[1], { decision: 'reject', reason: 'not like this\nline two' })).status, 200);
    assert.equal((await postIntake(srv, samplePost({ agent: { id: '1001', name: 'alice' } }))).status, 403);
  } finally {
    await srv.stop();
  }
  const first = await verify(srv);
  assert.equal(first.status, 0, first.stderr);
  const events = Number(await psql(srv.database, 'SELECT count(*) FROM audit_events'));
  assert.ok(events >= intakes + 3, `only ${events} events`);
  return Object.assign(srv, { events });
}

function assertBroken(result, pattern) {
  assert.equal(result.status, 1, `expected exit 1, got ${result.status}: ${result.stdout}${result.stderr}`);
  assert.match(result.stderr, pattern);
  assert.equal(result.stderr.trim().split('\n').length, 1, 'one line on stderr');
}

describe('audit verify on an untouched chain', () => {
  it('passes after sealing, and the chain is gapless, with SQL and C agreeing', async () => {
    const srv = await populated();
    const r = await verify(srv);
    assert.equal(r.status, 0, r.stderr);
    const m = HEAD.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(Number(m[1]), srv.events);
    assert.equal(Number(m[2]), srv.events);
    assert.equal(r.stdout.trim().split('\n').length, 1);
    assert.equal(await psql(srv.database, 'SELECT count(*) = count(seq) AND min(seq) = 1 AND max(seq) = count(*) FROM audit_events'), 't');
    // the first event links to 32 zero bytes; each later one to its predecessor
    assert.equal(await psql(srv.database, `SELECT encode(prev_hash, 'hex') FROM audit_events WHERE seq = 1`), '0'.repeat(64));
    assert.equal(await psql(srv.database, `SELECT count(*) FROM audit_events a JOIN audit_events b ON b.seq = a.seq + 1 WHERE b.prev_hash <> a.hash`), '0');

    const head = await checkpoint(srv);
    assert.equal(head, `${m[2]}:${m[3]}`);
    assert.equal(head, await psql(srv.database, `SELECT seq || ':' || encode(hash, 'hex') FROM audit_events ORDER BY seq DESC LIMIT 1`));
    const withCheckpoint = await verify(srv, '--checkpoint', head);
    assert.equal(withCheckpoint.status, 0, withCheckpoint.stderr);
    assert.match(withCheckpoint.stdout, new RegExp(`reaches checkpoint ${m[2]}`));
  });

  it('checks the encoding of awkward values the same way in SQL and in C', async () => {
    const srv = await populated(2);
    await psql(srv.database, String.raw`INSERT INTO audit_events (actor, action, forum, draft_id, details) VALUES
      (E'user:\u00e9\t"x"', 'test.awkward', NULL, NULL,
       '{"z": [1.50, -0, 1e3, 1e-7, 123456789012345678901234567890, true, false, null], "a": {"": {}, "b": []},
         "\u00e9": "\u0001\u001f\n\r\"\\/ \u2028 \ud83d\ude00", "A": "", "aa": {"y": 1, "x": {"w": [{}]}}}'),
      ('cli:root', 'test.empty', 'eng', gen_random_uuid(), '{}')`);
    // written by a plain INSERT: unsealed, with an id from the new sequence
    assert.equal(await psql(srv.database, `SELECT count(*) FROM audit_events WHERE seq IS NULL`), '2');
    const r = await verify(srv);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(Number(HEAD.exec(r.stdout)[1]), srv.events + 2);
  });

  it('answers bad usage with 2 and an unreachable database with 1', async () => {
    const srv = await populated(2);
    assert.equal((await runCli(['--config', srv.configFile, 'audit'])).status, 2);
    assert.equal((await runCli(['--config', srv.configFile, 'audit', 'verify', '--checkpoint'])).status, 2);
    assert.equal((await runCli(['--config', srv.configFile, 'audit', 'verify', '--checkpoint', '12:abc'])).status, 2);
    assert.equal((await runCli(['--config', srv.configFile, 'audit', 'checkpoint', 'now'])).status, 2);
    const file = writeConfig(tmpdir('cfg-'), {
      server: { listen: '127.0.0.1:0', database: conninfo('x', { host: '/nonexistent', port: 1 }), auth: 'dev' },
      forums: { eng: { inbound_secret: newSecret() } },
    });
    for (const args of [['audit', 'verify'], ['audit', 'checkpoint']]) {
      const r = await runCli(['--config', file, ...args]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /cannot connect to the database/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });
});

describe('audit verify names the first broken event', () => {
  it('finds changed details', async () => {
    const srv = await populated();
    const id = await psql(srv.database, 'SELECT id FROM audit_events WHERE seq = 3');
    await tamper(srv.database, `UPDATE audit_events SET details = details || '{"reason": "forged"}' WHERE seq = 3`);
    assertBroken(await verify(srv), new RegExp(`event seq 3 \\(id ${id}\\) was changed`));
  });

  it('finds a timestamp moved by one microsecond', async () => {
    const srv = await populated();
    await tamper(srv.database, `UPDATE audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 5`);
    assertBroken(await verify(srv), /event seq 5 \(id \d+\) was changed/);
  });

  it('finds an event rewritten together with its own hash', async () => {
    const srv = await populated();
    await tamper(srv.database, `UPDATE audit_events SET actor = 'user:mallory' WHERE seq = 4;
      UPDATE audit_events SET hash = sha256(prev_hash || audit_event_bytes(seq, id, occurred_at, actor, action, forum, draft_id, details)) WHERE seq = 4`);
    assertBroken(await verify(srv), /event seq 4 \(id \d+\) was changed: event seq 5 \(id \d+\) no longer links to it/);
  });

  it('finds an event deleted from the middle', async () => {
    const srv = await populated();
    await tamper(srv.database, 'DELETE FROM audit_events WHERE seq = 4');
    assertBroken(await verify(srv), /event seq 4 is missing \(deleted\)/);
  });

  it('finds a forged event inserted in the middle with a correct-looking link and hash', async () => {
    const srv = await populated();
    // make room at seq 3, then insert a forged event that links to seq 2 and hashes correctly
    await tamper(srv.database, `UPDATE audit_events SET seq = seq + 1000000 WHERE seq >= 3;
      UPDATE audit_events SET seq = seq - 999999 WHERE seq > 1000000;
      INSERT INTO audit_events (id, occurred_at, actor, action, forum, details, seq, prev_hash, hash)
        SELECT 0, now(), 'user:mallory', 'draft.approve', 'eng', '{"forged": true}', 3, p.hash,
          sha256(p.hash || audit_event_bytes(3, 0, now(), 'user:mallory', 'draft.approve', 'eng', NULL, '{"forged": true}'))
        FROM audit_events p WHERE p.seq = 2`);
    // the event that was seq 3 now sits at seq 4, where its hash gives it away
    const moved = await psql(srv.database, 'SELECT id FROM audit_events WHERE seq = 4');
    assertBroken(await verify(srv), new RegExp(`event seq 4 \\(id ${moved}\\) was sealed as seq 3: events were inserted, removed or reordered before it`));
  });

  it('finds an event removed from the middle with every later seq moved down', async () => {
    const srv = await populated();
    const moved = await psql(srv.database, 'SELECT id FROM audit_events WHERE seq = 5');
    await tamper(srv.database, 'DELETE FROM audit_events WHERE seq = 4; UPDATE audit_events SET seq = seq - 1 WHERE seq > 4');
    assertBroken(await verify(srv), new RegExp(`event seq 4 \\(id ${moved}\\) was sealed as seq 5: events were inserted, removed or reordered before it`));
  });

  it('seals an event slipped in behind the triggers at the end only, never into the history', async () => {
    const srv = await populated();
    const before = await checkpoint(srv);
    // a small id and an old time, as a superuser bypassing the triggers could write
    await tamper(srv.database, `INSERT INTO audit_events (id, occurred_at, actor, action, forum, details)
      VALUES (0, '2020-01-01', 'user:mallory', 'draft.approve', 'eng', '{}')`);
    const r = await verify(srv, '--checkpoint', before);
    assert.equal(r.status, 0, r.stderr);
    // it is the newest link: everything sealed before it, and the checkpoint, are untouched
    assert.equal(await psql(srv.database, 'SELECT seq FROM audit_events WHERE id = 0'), String(srv.events + 1));
    assert.equal(Number(HEAD.exec(r.stdout)[2]), srv.events + 1);
  });

  it('finds a duplicate of a sealed event', async () => {
    const srv = await populated();
    await tamper(srv.database, `ALTER TABLE audit_events DROP CONSTRAINT audit_events_seq_once;
      INSERT INTO audit_events (id, occurred_at, actor, action, forum, draft_id, details, seq, prev_hash, hash)
        SELECT id + 100000, occurred_at, actor, action, forum, draft_id, details, seq, prev_hash, hash
        FROM audit_events WHERE seq = 3`);
    assertBroken(await verify(srv), /event seq 3 \(id \d+\) is out of order \(inserted or reordered\)/);
  });

  it('finds two events whose details were swapped', async () => {
    const srv = await populated();
    await tamper(srv.database, `UPDATE audit_events a SET details = b.details, actor = b.actor
        FROM audit_events b WHERE (a.seq, b.seq) IN ((2, 5), (5, 2))`);
    assertBroken(await verify(srv), /event seq 2 \(id \d+\) was changed/);
  });

  it('finds two events whose places in the chain were swapped', async () => {
    const srv = await populated();
    await tamper(srv.database, `UPDATE audit_events SET seq = 1000000 WHERE seq = 2;
      UPDATE audit_events SET seq = 2 WHERE seq = 6;
      UPDATE audit_events SET seq = 6 WHERE seq = 1000000`);
    assertBroken(await verify(srv), /event seq 2 \(id \d+\) was changed/);
  });

  it('finds two events whose ids were swapped', async () => {
    const srv = await populated();
    const third = await psql(srv.database, 'SELECT id FROM audit_events WHERE seq = 3');
    await tamper(srv.database, `CREATE TEMP TABLE old_ids AS SELECT seq, id FROM audit_events WHERE seq IN (2, 3);
      UPDATE audit_events SET id = -id WHERE seq IN (2, 3);
      UPDATE audit_events a SET id = o.id FROM old_ids o WHERE a.seq IN (2, 3) AND o.seq = 5 - a.seq`);
    assertBroken(await verify(srv), new RegExp(`event seq 2 \\(id ${third}\\) was changed`));
  });

  it('needs a checkpoint to notice that the newest events were deleted', async () => {
    const srv = await populated();
    const head = await checkpoint(srv);
    await tamper(srv.database, `DELETE FROM audit_events WHERE seq > ${srv.events - 2}`);
    const plain = await verify(srv);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, new RegExp(`^audit chain intact: ${srv.events - 2} events`));
    assertBroken(await verify(srv, '--checkpoint', head), new RegExp(`checkpoint ${srv.events} not reached: events were deleted`));
    // new events take the deleted places: the checkpoint's seq exists again, with another hash
    await psql(srv.database, `INSERT INTO audit_events (actor, action, details) SELECT 'cli:root', 'test.later', '{}' FROM generate_series(1, 3)`);
    assertBroken(await verify(srv, '--checkpoint', head), new RegExp(`checkpoint ${srv.events} hash differs: the chain was rewritten`));
  });
});

describe('many writers', () => {
  it('keeps one gapless chain with two serve processes taking 300 intakes at once', async () => {
    const a = await startServer({ delivery: { workers: 0 }, server: { threads: 8 } });
    const b = await startServer({ delivery: { workers: 0 }, server: { threads: 8 }, database: a.database, secret: a.secret });
    try {
      const servers = [a, b];
      let next = 0;
      const statuses = [];
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < 300) {
          const i = next++;
          const r = await postIntake(servers[i % 2], samplePost({ agent: { id: `bot-${i % 7}`, name: 'helperbot' } }));
          statuses.push(r.status);
        }
      }));
      assert.deepEqual([...new Set(statuses)], [202]);
      // the serve processes' own sealers seal everything, without the CLI
      await eventually(async () => (await psql(a.database, 'SELECT count(*) FROM audit_events WHERE seq IS NULL')) === '0', { what: 'sealing' });
      const r = await verify(a);
      assert.equal(r.status, 0, r.stderr);
      const n = Number(await psql(a.database, 'SELECT count(*) FROM audit_events'));
      assert.ok(n >= 300);
      assert.equal(Number(HEAD.exec(r.stdout)[1]), n);
      assert.equal(await psql(a.database, 'SELECT min(seq) = 1 AND max(seq) = count(*) AND count(seq) = count(*) FROM audit_events'), 't');
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('the chain under load, whatever the interleaving', () => {
  it('verifies when an event with a smaller id commits after a larger one was sealed', async () => {
    // The interleaving that broke the id-ordered chain (migration 0009): A has its xid before W,
    // W draws its id before A, A commits and is sealed while W is still open, then W commits.
    const srv = await populated(2);
    const a = psqlSession(srv.database);
    const w = psqlSession(srv.database);
    try {
      await a.run('BEGIN; SELECT pg_current_xact_id();');
      await w.run('BEGIN;');
      const wId = Number(await w.run(`INSERT INTO audit_events (actor, action, details) VALUES ('cli:w', 'test.w', '{}') RETURNING id;`));
      const aId = Number(await a.run(`INSERT INTO audit_events (actor, action, details) VALUES ('cli:a', 'test.a', '{}') RETURNING id;`));
      assert.ok(wId < aId);
      await a.run('COMMIT;');
      assert.equal(await psql(srv.database, 'SELECT audit_seal(100)'), '1');
      assert.notEqual(await psql(srv.database, `SELECT seq FROM audit_events WHERE id = ${aId}`), '');
      const open = await verify(srv);
      assert.equal(open.status, 0, open.stderr);
      assert.match(open.stdout, new RegExp(`^audit chain intact: ${srv.events + 1} events`));
      await w.run('COMMIT;');
    } finally {
      await a.close();
      await w.close();
    }
    const r = await verify(srv);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(Number(HEAD.exec(r.stdout)[1]), srv.events + 2);
    // the chain's order is the order of sealing: W's smaller id comes after A's
    assert.equal(await psql(srv.database, `SELECT string_agg(action, ' ' ORDER BY seq) FROM audit_events WHERE action LIKE 'test.%'`), 'test.a test.w');
  });


  // Intakes, decisions and deliveries from two serve processes at once, 96 clients, and
  // PostgreSQL restarted (immediate stop: a crash) when half the intakes were acknowledged.
  // Every event must end sealed, and the whole chain must verify.
  it('verifies after concurrent intakes, decisions and deliveries on two serve processes with PostgreSQL restarted', async () => {
    const INTAKES = Number(process.env.AGENTGATE_AUDIT_LOAD_INTAKES || 4000);
    const cluster = await startPrivateCluster();
    const pg = { host: cluster.host, port: cluster.port };
    const q = (sql) => psql(database, sql, pg);
    const database = await createDatabase(pg);
    const releaseSecret = newSecret();
    const forum = await startFakeForum({ secret: releaseSecret });
    const inbound = newSecret();
    const options = {
      database,
      secret: inbound,
      server: { database: conninfo(database, pg), threads: 8 },
      forums: { eng: { inbound_secret: inbound, rate_limit: 'none', release_url: forum.url, release_secret: releaseSecret } },
      delivery: { ...QUICK_RETRIES, workers: 2 },
    };
    const servers = [await startServer(options), await startServer(options)];
    let restarted = false;
    try {
      let next = 0;
      let acknowledged = 0;
      /** Sends until a final answer; 503 (database down or restarting) is sent again, as a forum does. */
      const settle = (send, ok) => {
        let attempt = 0;
        return eventually(async () => {
          const r = await send(attempt++);
          if (ok.includes(r.status)) return r;
          assert.equal(r.status, 503, `unexpected ${r.status} ${r.text}`);
          return null;
        }, { what: 'a final answer while PostgreSQL restarts' });
      };
      await Promise.all(Array.from({ length: Number(process.env.AGENTGATE_AUDIT_LOAD_CLIENTS || 96) }, async (_, worker) => {
        while (next < INTAKES) {
          const i = next++;
          const post = samplePost({ agent: { id: `bot-${i % 11}`, name: 'helperbot' }, post: { topic_id: String(i), body: `Load post ${i}` } });
          const id = `msg_load_${database}_${i}`;
          const held = await settle((attempt) => postIntake(servers[(i + attempt) % 2], post, { id }), [202]);
          if (++acknowledged === Math.floor(INTAKES / 2) && !restarted) {
            restarted = true;
            await cluster.stop('immediate');
            await cluster.start();
          }
          // one in eight approved (then delivered), one in eight rejected, the rest left pending
          if (i % 8 < 2) {
            const decision = i % 8 === 0 ? 'approve' : 'reject';
            await settle((attempt) => decide(servers[(worker + attempt + 1) % 2], held.json.draft_id, { decision, reason: 'load' }), [200, 409]);
          }
        }
      }));
      assert.ok(restarted);
      assert.equal(await q('SELECT count(*) FROM drafts'), String(INTAKES));
      // deliveries finish (their attempts and releases are audit events too)
      assert.equal(await q(`SELECT count(*) FROM drafts WHERE state IN ('approved', 'released')`), String(Math.ceil(INTAKES / 8)));
      await eventually(async () => (await q(`SELECT count(*) FROM drafts WHERE state = 'approved'`)) === '0', { what: 'every approval released' });
      // the serve processes' sealers seal every event by themselves
      await eventually(async () => (await q('SELECT count(*) FROM audit_events WHERE seq IS NULL')) === '0', { what: 'sealing' });
      const r = await verify(servers[0]);
      assert.equal(r.status, 0, r.stderr);
      const total = await q('SELECT count(*) FROM audit_events');
      assert.equal(HEAD.exec(r.stdout)[1], total);
      assert.equal(await q('SELECT min(seq) = 1 AND max(seq) = count(*) AND count(seq) = count(*) FROM audit_events'), 't');
    } finally {
      for (const s of servers) await s.stop();
      await forum.stop();
      await cluster.stop('immediate', { ignoreErrors: true });
    }
  });
});

/**
 * A database migrated by agentgate_owner, as README's least-privilege setup recommends. Returns
 * its name and as(role, sql): psql's output, or its error text when the statement is refused.
 */
async function ownedDatabase() {
  await ensureRoles();
  const database = await createDatabase({ owner: 'agentgate_owner' });
  const owner = writeConfig(tmpdir('cfg-'), {
    server: { listen: '127.0.0.1:0', database: conninfo(database, { user: 'agentgate_owner' }), auth: 'dev' },
    forums: { eng: { inbound_secret: newSecret() } },
  });
  const m = await runCli(['--config', owner, 'migrate']);
  assert.equal(m.status, 0, m.stderr);
  const as = (user, sql) => sqlOutcome(database, sql, { user });
  const app = writeConfig(tmpdir('cfg-'), {
    server: { listen: '127.0.0.1:0', database: conninfo(database, { user: 'agentgate_app' }), auth: 'dev' },
    forums: { eng: { inbound_secret: newSecret() } },
  });
  return { database, as, verify: () => runCli(['--config', app, 'audit', 'verify']) };
}

describe('least privilege', () => {
  it('lets the serving role seal through audit_seal() but never UPDATE an event', async () => {
    const { as, verify: verifyAsApp } = await ownedDatabase();
    assert.equal(await as('agentgate_app', `INSERT INTO audit_events (id, actor, action, details, seq, hash) VALUES (999, 'cli:x', 'test.y', '{}', 7, '\\x00') RETURNING id, seq IS NULL`), '1|t');
    assert.equal(await as('agentgate_app', `INSERT INTO audit_events (actor, action, details) VALUES ('cli:x', 'test.y', '{}') RETURNING id`), '2');
    assert.match(await as('agentgate_app', 'UPDATE audit_events SET seq = 1, prev_hash = NULL, hash = NULL WHERE id = 1'), /permission denied/);
    assert.match(await as('agentgate_app', "SELECT nextval('audit_events_id_seq_v2')"), /permission denied/);
    assert.match(await as('agentgate_app', 'ALTER TABLE audit_events DISABLE TRIGGER USER'), /must be owner/);
    assert.equal(await as('agentgate_app', 'SELECT audit_seal(100)'), '2');
    assert.equal(await as('agentgate_app', 'SELECT audit_seal(100)'), '0');
    assert.equal(await as('agentgate_app', 'SELECT count(*) FROM audit_events WHERE seq IS NOT NULL'), '2');
    // the owner cannot change a sealed event either, nor seal one out of turn
    assert.match(await as('agentgate_owner', "UPDATE audit_events SET actor = 'cli:z' WHERE id = 1"), /append-only/);
    await as('agentgate_app', `INSERT INTO audit_events (actor, action, details) VALUES ('cli:x', 'test.y', '{}')`);
    assert.match(await as('agentgate_owner', `UPDATE audit_events SET seq = 3, prev_hash = decode(repeat('00', 32), 'hex') WHERE seq IS NULL`), /append-only/);
    assert.match(await as('agentgate_owner', `UPDATE audit_events SET seq = 4, prev_hash = (SELECT hash FROM audit_events WHERE seq = 2) WHERE seq IS NULL`), /append-only/);
    assert.match(await as('agentgate_owner', `UPDATE audit_events SET seq = 3, prev_hash = (SELECT hash FROM audit_events WHERE seq = 2), hash = decode(repeat('11', 32), 'hex') WHERE seq IS NULL`), /append-only/);
    // a second link at a place already taken: the unique seq refuses it even behind the triggers
    assert.match(await as('postgres', `SET session_replication_role = replica; UPDATE audit_events SET seq = 2, prev_hash = (SELECT hash FROM audit_events WHERE seq = 1), hash = decode(repeat('11', 32), 'hex') WHERE seq IS NULL`), /audit_events_seq_once/);
    assert.match(await as('agentgate_owner', 'DELETE FROM audit_events'), /append-only/);
    assert.match(await as('agentgate_owner', 'TRUNCATE audit_events'), /append-only/);
    // the CLI works as the serving role too
    const r = await verifyAsApp();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^audit chain intact: 3 events/);
  });

  it('keeps the serving role from writing an event that cannot be sealed or claims a time or an odd actor', async () => {
    const { as, verify: verifyAsApp } = await ownedDatabase();
    const insert = (columns, values) => as('agentgate_app', `INSERT INTO audit_events (${columns}) VALUES (${values}) RETURNING id`);
    const refused = (text, why) => assert.match(text, new RegExp(`audit event refused: ${why}`), text);
    // the database sets the time: neither infinity nor a backdated time is kept
    const nested = (depth) => `'${'['.repeat(depth)}${']'.repeat(depth)}'`;
    assert.equal(await as('agentgate_app', `INSERT INTO audit_events (occurred_at, actor, action, details)
      VALUES ('infinity', 'cli:x', 'test.time', '{}') RETURNING isfinite(occurred_at) AND occurred_at >= now()`), 't');
    assert.equal(await as('agentgate_app', `INSERT INTO audit_events (occurred_at, actor, action, details)
      VALUES ('2001-01-01', 'user:1001', 'draft.approve', '{}') RETURNING occurred_at >= now()`), 't');
    assert.equal(await as('agentgate_app', `INSERT INTO audit_events (occurred_at, actor, action, details)
      VALUES ('-infinity', 'agentgate', 'test.time', '{}') RETURNING isfinite(occurred_at)`), 't');
    // details: an object, at most 32 levels below it, at most 64 MiB as text
    refused(await insert('actor, action, details', `'cli:x', 'test.deep', jsonb_build_object('a', ${nested(1200)}::jsonb)`), 'details nested deeper than 32 levels');
    refused(await insert('actor, action, details', `'cli:x', 'test.deep', jsonb_build_object('a', ${nested(33)}::jsonb)`), 'details nested deeper than 32 levels');
    assert.match(await insert('actor, action, details', `'cli:x', 'test.deep', jsonb_build_object('a', ${nested(32)}::jsonb)`), /^\d+$/);
    refused(await insert('actor, action, details', `'cli:x', 'test.shape', '[]'`), 'details must be a JSON object');
    refused(await insert('actor, action, details', `'cli:x', 'test.shape', '"text"'`), 'details must be a JSON object');
    refused(await insert('actor, action, details', `'cli:x', 'test.shape', 'null'`), 'details must be a JSON object');
    refused(await insert('actor, action, details', `'cli:x', 'test.big', jsonb_build_object('a', repeat('x', 64 * 1024 * 1024))`), 'details longer than 64 MiB');
    // actor, action and forum in the forms agentgate writes
    for (const actor of ["'x'", "'user:'", "'admin'", "'system:1'", "'User:1'", `'user:${'9'.repeat(196)}'`, 'NULL']) {
      refused(await insert('actor, action, details', `${actor}, 'test.actor', '{}'`), 'actor must be agentgate, user:ID, agent:ID, forum:NAME or cli:NAME');
    }
    for (const actor of ["'agentgate'", "'user:1001'", "'agent:bot-42'", "'forum:eng'", "'cli:root'", `'user:${'9'.repeat(195)}'`]) {
      assert.match(await insert('actor, action, details', `${actor}, 'test.actor', '{}'`), /^\d+$/);
    }
    for (const action of ["'y'", "'Draft.Approve'", "'draft.'", "'.approve'", "'draft approve'", `'draft.${'a'.repeat(60)}'`]) {
      refused(await insert('actor, action, details', `'cli:x', ${action}, '{}'`), 'action must look like draft.approve');
    }
    for (const forum of ["''", "'ENG'", "'eng forum'", `'${'e'.repeat(33)}'`]) {
      refused(await insert('actor, action, forum, details', `'cli:x', 'test.forum', ${forum}, '{}'`), 'forum must be a forum name or NULL');
    }
    // nothing refused was stored, and everything stored seals and verifies
    assert.equal(await as('agentgate_app', "SELECT count(*) FROM audit_events WHERE action IN ('test.big', 'test.shape', 'test.forum') OR (action = 'test.deep' AND details::text LIKE '%[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[%')"), '0');
    assert.match(await as('agentgate_app', 'SELECT audit_seal(1000)'), /^[1-9]\d*$/);
    assert.equal(await as('agentgate_app', 'SELECT count(*) FROM audit_events WHERE seq IS NULL'), '0');
    const r = await verifyAsApp();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^audit chain intact: 10 events/);
  });
});

describe('/audit', () => {
  it('shows moderators the head and that the chain is intact, then where it broke', async () => {
    const srv = await startServer({ delivery: { workers: 0 } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await postIntake(srv, samplePost())).status, 202);
      const engineer = await devSignIn(srv, { user_id: '1001', username: 'alice' });
      const moderator = await devSignIn(srv, { user_id: '4004', username: 'mona', groups: 'moderators' });
      assert.equal((await anonymous(srv).get('/audit')).status, 303);
      assert.equal((await engineer.get('/audit')).status, 404);
      await eventually(async () => (await psql(srv.database, 'SELECT count(*) FROM audit_events WHERE seq IS NULL')) === '0', { what: 'sealing' });
      const page = await moderator.get('/audit');
      assert.equal(page.status, 200);
      assert.match(page.text, />intact</);
      const head = /id="audit-head">(\d+):([0-9a-f]{64})</.exec(page.text);
      assert.ok(head, 'the head is shown');
      assert.equal(await psql(srv.database, `SELECT encode(hash, 'hex') FROM audit_events WHERE seq = ${head[1]}`), head[2]);
      assert.match(page.text, /intake\.held/);
      assert.match(page.text, /auth\.sign_in/);
      assert.match(page.text, /agentgate audit verify/);
      assert.match(page.text, new RegExp(`href="/drafts/[0-9a-f-]{36}"`));

      await tamper(srv.database, `UPDATE audit_events SET actor = 'user:mallory' WHERE seq = 2`);
      const broken = await moderator.get('/audit');
      assert.equal(broken.status, 200);
      assert.match(broken.text, />broken</);
      assert.match(broken.text, /event seq 2 \(id \d+\) was changed/);
    } finally {
      await srv.stop();
    }
  });
  /** A server with forums eng and ops, and the people of the page tests. */
  async function twoForums() {
    const ops = newSecret();
    const srv = await startServer({
      delivery: { workers: 0 },
      forums: { eng: { inbound_secret: newSecret(), rate_limit: 'none' }, ops: { inbound_secret: ops, rate_limit: 'none' } },
    });
    srv.secret = /\[forum eng\]\ninbound_secret = (\S+)/.exec(fs.readFileSync(srv.configFile, 'utf8'))[1];
    const people = {
      alice: await devSignIn(srv, { user_id: '1001', username: 'alice' }),
      mona: await devSignIn(srv, { user_id: '4004', username: 'mona', groups: 'moderators' }),
      otto: await devSignIn(srv, { forum: 'ops', user_id: '5005', username: 'otto', groups: 'moderators' }),
    };
    return { srv, ops, people };
  }

  it('shows what each event changed, with names beside ids, escaped and with secrets masked', async () => {
    const { srv, people } = await twoForums();
    try {
      const key = 'AKIAZ7QW3ERTY6UIOP4X';
      const held = await postIntake(srv, samplePost({ post: { category: 'infra', title: 'Disk <b>alerts</b> & "x"', body: `Restart the worker.\nexport AWS_ACCESS_KEY_ID=${key}\nunchanged line` } }));
      assert.equal(held.status, 202, held.text);
      const id = held.json.draft_id;
      const edit = await people.alice.post(`/drafts/${id}/edit`, { revision: '1', title: 'Disk alerts <i>fixed</i>', body: `Restart the <script>alert(1)</script> worker.\nexport AWS_ACCESS_KEY_ID=${key} # rotated\nunchanged line` });
      assert.equal(edit.status, 303, edit.text);
      const other = await postIntake(srv, samplePost());
      const token = 'ghp_4fT9kLm2Qx8ZpR7vW1nB3cD5eF6gH0jK2lM4';
      assert.equal((await decide(srv, other.json.draft_id, { decision: 'reject', reason: `not <em>this</em> one, and not ${token}` })).status, 200);
      assert.equal((await people.mona.get(`/drafts/${id}`)).status, 200); // a moderator's view is audited

      const page = await people.mona.get('/audit');
      assert.equal(page.status, 200);
      const row = (action, draft) => {
        const rows = page.text.split('<tr id="event-').slice(1).map((r) => r.slice(0, r.indexOf('</tr>')));
        const found = rows.find((r) => r.includes(`<code class="cell-meta">${action}</code>`) && (!draft || r.includes(draft)));
        assert.ok(found, `a row for ${action}`);
        return found;
      };
      // the edit: revisions, the title's old and new text, the changed lines, all escaped
      const edited = row('draft.edit', id);
      assert.match(edited, /Revision 1 → 2/);
      assert.match(edited, /<del><bdi dir="auto">Disk &lt;b&gt;alerts&lt;\/b&gt; &amp; &quot;x&quot;<\/bdi><\/del> → <ins><bdi dir="auto">Disk alerts &lt;i&gt;fixed&lt;\/i&gt;<\/bdi><\/ins>/);
      assert.match(edited, /<span class="diffstat-add">\+2<\/span> <span class="diffstat-del">−2<\/span>/);
      assert.match(edited, /removed: <\/span><bdi dir="auto">Restart the worker\.<\/bdi>/);
      assert.match(edited, /added: <\/span><bdi dir="auto">Restart the &lt;script&gt;alert\(1\)&lt;\/script&gt; worker\.<\/bdi>/);
      assert.doesNotMatch(edited, /unchanged line/, 'only changed lines are listed');
      assert.match(edited, /<bdi>alice<\/bdi> <a class="actor-link cell-meta" href="\/audit\?actor&#61;user%3A1001"/);
      // the decision: its reason and source, the decider named
      const rejected = row('draft.reject', other.json.draft_id);
      assert.match(rejected, /<dt>Reason<\/dt><dd><bdi dir="auto">not &lt;em&gt;this&lt;\/em&gt; one, and not ghp_\*+<\/bdi><\/dd>/);
      assert.match(rejected, /<dt>Revision<\/dt><dd><bdi dir="auto">1<\/bdi><\/dd>/);
      assert.match(rejected, /Rejected/);
      // the intake: the agent and the invoker named beside their ids
      const intake = row('intake.held', id);
      assert.match(intake, /<bdi>helperbot<\/bdi> <a class="actor-link cell-meta" href="\/audit\?actor&#61;agent%3Abot-42"/);
      assert.match(intake, /<dt>Invoker<\/dt><dd><bdi dir="auto">alice \(1001\)<\/bdi>/);
      // the draft by its short id, linked, with its title (current, escaped) and its events
      assert.match(intake, new RegExp(`<a class="draft-link" href="/drafts/${id}" title="${id}"><code class="id">${id.slice(0, 8)}</code></a> <bdi dir="auto" class="cell-meta">Disk alerts &lt;i&gt;fixed&lt;/i&gt;</bdi> <a class="cell-meta" href="/audit\\?draft&#61;${id}">its events</a>`));
      assert.match(row('draft.view', id), /<bdi>mona<\/bdi>/);
      // never a secret in clear, never markup from the data
      assert.doesNotMatch(page.text, new RegExp(key));
      assert.doesNotMatch(page.text, new RegExp(token));
      assert.match(edited, /AWS_ACCESS_KEY_ID&#61;AKIA[^<Z]+<\/bdi>/);
      assert.doesNotMatch(page.text, /<script>|<b>alerts|<i>fixed|<em>this/);
    } finally {
      await srv.stop();
    }
  });

  it('pages by keyset without skipping or repeating, and filters by actor, action, draft and time', async () => {
    const { srv, people } = await twoForums();
    try {
      const held = await postIntake(srv, samplePost());
      const id = held.json.draft_id;
      await psql(srv.database, `INSERT INTO audit_events (actor, action, forum, details)
        SELECT 'cli:pager', 'test.page', 'eng', jsonb_build_object('n', n) FROM generate_series(1, 120) n`);
      const ids = (text) => [...text.matchAll(/<tr id="event-(\d+)">/g)].map((m) => Number(m[1]));
      const seen = [];
      let path = '/audit';
      for (let pages = 0; path; pages++) {
        assert.ok(pages < 10, 'paging ends');
        const page = await people.mona.get(path);
        assert.equal(page.status, 200);
        assert.ok(ids(page.text).length <= 50);
        seen.push(...ids(page.text));
        const older = /<a href="([^"]+)" rel="next">/.exec(page.text);
        path = older ? older[1].replaceAll('&#61;', '=').replaceAll('&amp;', '&') : null;
        if (path) assert.match(path, /^\/audit\?before=\d+%3A\d+$/);
      }
      const all = (await psql(srv.database, `SELECT string_agg(id::text, ',' ORDER BY occurred_at DESC, id DESC) FROM audit_events WHERE forum = 'eng' OR forum IS NULL`)).split(',').map(Number);
      assert.deepEqual(seen, all, 'every event once, newest first');

      // each filter alone, and combined, against the database's own count
      const count = async (query, where) => {
        const page = await people.mona.get(`/audit?${query}`);
        assert.equal(page.status, 200, `${query}: ${page.text.slice(0, 200)}`);
        return [ids(page.text).length, Math.min(50, Number(await psql(srv.database, `SELECT count(*) FROM audit_events WHERE (forum = 'eng' OR forum IS NULL) AND ${where}`)))];
      };
      const [byActor, actorExpected] = await count('actor=cli%3Apager', "actor = 'cli:pager'");
      assert.equal(byActor, 50);
      assert.equal(actorExpected, 50);
      assert.deepEqual(await count('action=intake.held', "action = 'intake.held'"), [1, 1]);
      assert.deepEqual(await count(`draft=${id}`, `draft_id = '${id}'`), [1, 1]);
      const [fromUs, toUs] = (await psql(srv.database, `SELECT to_char(min(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '|' || to_char(max(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
        FROM (SELECT occurred_at FROM audit_events WHERE action = 'test.page' ORDER BY id OFFSET 10 LIMIT 20) x`)).split('|');
      const window = `occurred_at >= '${fromUs}Z' AND occurred_at < '${toUs}Z'`;
      const [inWindow, windowExpected] = await count(`from=${fromUs}Z&to=${toUs}Z&actor=cli%3Apager&action=test.page`, `${window} AND actor = 'cli:pager'`);
      assert.equal(inWindow, windowExpected);
      assert.ok(inWindow > 0 && inWindow < 50, `${inWindow} events in the window`);
      const none = await people.mona.get('/audit?actor=user%3A9999');
      assert.match(none.text, /No event matches these filters\./);
      // the form keeps what was asked
      const kept = await people.mona.get(`/audit?actor=cli%3Apager&action=test.page&draft=${id}`);
      assert.match(kept.text, /name="actor" value="cli:pager"/);
      assert.match(kept.text, /<option value="test.page" selected>test.page<\/option>/);
      assert.match(kept.text, new RegExp(`name="draft" value="${id}"`));

      // bad filters: 400, a sentence naming the field, nothing listed
      for (const [query, message] of [
        ['from=2026-02-30', /From must be a date \(2026-11-01\) or a time/],
        ['to=yesterday', /Before must be a date/],
        ['draft=nope', /Draft must be a draft&#39;s id/],
        ['action=Draft.Approve', /Action is written like draft\.approve/],
        ['before=12:x', /The page link is damaged/],
        [`actor=${'x'.repeat(201)}`, /Actor: at most 200 characters/],
        ['actor=%FF', /Actor is not valid UTF-8 text/],
        ['forum=ops', /You moderate the forum eng: its events are the only ones shown here/],
      ]) {
        const bad = await people.mona.get(`/audit?${query}`);
        assert.equal(bad.status, 400, query);
        assert.match(bad.text, message, query);
        assert.doesNotMatch(bad.text, /<tr id="event-/, query);
      }
    } finally {
      await srv.stop();
    }
  });

  it('is for moderators, each of their own forum: others are sent to sign in or get 404', async () => {
    const { srv, ops, people } = await twoForums();
    try {
      const held = await postIntake(srv, samplePost());
      const id = held.json.draft_id;
      const opsHeld = await postIntake({ ...srv, secret: ops }, samplePost({ agent: { id: 'ops-bot', name: 'opsbot' } }), { forum: 'ops' });
      assert.equal(opsHeld.status, 202, opsHeld.text);
      const anon = await anonymous(srv).get('/audit?actor=user%3A1001');
      assert.equal(anon.status, 303);
      assert.match(anon.headers.get('location'), /^\/auth\/(login|dev)/);
      const engineer = await people.alice.get('/audit');
      assert.equal(engineer.status, 404);
      assert.doesNotMatch(engineer.text, /intake\.held/);
      // the other forum's moderator sees its own events and none of eng's
      const otto = await people.otto.get('/audit');
      assert.equal(otto.status, 200);
      assert.match(otto.text, new RegExp(opsHeld.json.draft_id.slice(0, 8)));
      const ottoRows = otto.text.slice(otto.text.indexOf('<tbody>'));
      assert.doesNotMatch(ottoRows, new RegExp(id));
      assert.doesNotMatch(ottoRows, /agent:bot-42/);
      assert.match(ottoRows, /agent:ops-bot/);
      assert.match((await people.otto.get(`/audit?draft=${id}`)).text, /No event matches these filters\./);
      assert.equal((await people.otto.get('/audit?forum=eng')).status, 400);
      assert.equal((await people.otto.get(`/drafts/${id}`)).status, 404);
      // and eng's moderator none of ops's
      const mona = await people.mona.get('/audit');
      assert.doesNotMatch(mona.text, /ops-bot/);
      assert.match(mona.text, new RegExp(id.slice(0, 8)));
    } finally {
      await srv.stop();
    }
  });
});
