// The tamper-evident audit trail (CONTRACT §2, §7, §9) against a real PostgreSQL and real serve
// processes: `audit verify` passes on a chain sealed by SQL (so the SQL and C encodings agree),
// and names the first broken event after a superuser changes, deletes, inserts or reorders
// events behind the triggers' back (each in its own database); a checkpoint kept outside the
// database catches deleted newest events; two serve processes writing at once still make one
// gapless chain; the serving role cannot seal by UPDATE; /audit shows the state to moderators.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  conninfo, createDatabase, decide, ensureRoles, eventually, newSecret, postIntake, psql, psqlSession, runCli,
  samplePost, sqlOutcome, startServer, tmpdir, writeConfig,
} from '../lib/harness.mjs';
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
  assert.doesNotMatch(first.stdout, /not sealed yet/, 'the whole chain is sealed before a test changes it');
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
  it('passes after sealing, and the chain is gapless, in id order, with SQL and C agreeing', async () => {
    const srv = await populated();
    const r = await verify(srv);
    assert.equal(r.status, 0, r.stderr);
    const m = HEAD.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(Number(m[1]), srv.events);
    assert.equal(Number(m[2]), srv.events);
    assert.equal(r.stdout.trim().split('\n').length, 1);
    assert.equal(
      await psql(srv.database, `SELECT count(*) = count(seq) AND min(seq) = 1 AND max(seq) = count(*)
        AND bool_and(ok IS NOT false) FROM (SELECT seq, id > lag(id) OVER (ORDER BY seq) AS ok FROM audit_events) x`),
      't',
    );
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
      ('cli:root', 'test.empty', '', gen_random_uuid(), '{}')`);
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
    assertBroken(await verify(srv), /event seq 3 \(id 0\) is out of order \(inserted or reordered\)/);
  });

  it('finds an unsealed event with a small id inserted late', async () => {
    const srv = await populated();
    await tamper(srv.database, `INSERT INTO audit_events (id, actor, action, forum, details) VALUES (0, 'user:mallory', 'draft.approve', 'eng', '{}')`);
    // the sealer links it at the end of the chain, where its id gives it away
    assertBroken(await verify(srv), new RegExp(`event seq ${srv.events + 1} \\(id 0\\) is out of order \\(inserted or reordered\\)`));
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

describe('sealing', () => {
  it('seals at once while another database of the cluster has a long transaction', async () => {
    const srv = await startServer({ delivery: { workers: 0 } });
    const elsewhere = await psqlSession(await createDatabase());
    try {
      // another application's transaction, with an xid, open for the whole test
      await elsewhere.send('BEGIN; SELECT pg_current_xact_id()');
      for (let i = 0; i < 3; i++) assert.equal((await postIntake(srv, samplePost())).status, 202);
      const r = await verify(srv);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /not sealed yet/);
      assert.equal(await psql(srv.database, 'SELECT count(*) FROM audit_events WHERE seq IS NULL'), '0');
      assert.equal(Number(HEAD.exec(r.stdout)[1]), Number(await psql(srv.database, 'SELECT count(*) FROM audit_events')));
    } finally {
      await elsewhere.close();
      await srv.stop();
    }
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
      assert.equal(
        await psql(a.database, `SELECT min(seq) = 1 AND max(seq) = count(*) AND count(seq) = count(*)
          AND bool_and(ok IS NOT false) FROM (SELECT seq, id > lag(id) OVER (ORDER BY seq) AS ok FROM audit_events) x`),
        't',
      );
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('least privilege', () => {
  it('lets the serving role seal through audit_seal() but never UPDATE an event', async () => {
    await ensureRoles();
    const database = await createDatabase({ owner: 'agentgate_owner' });
    const owner = writeConfig(tmpdir('cfg-'), {
      server: { listen: '127.0.0.1:0', database: conninfo(database, { user: 'agentgate_owner' }), auth: 'dev' },
      forums: { eng: { inbound_secret: newSecret() } },
    });
    const m = await runCli(['--config', owner, 'migrate']);
    assert.equal(m.status, 0, m.stderr);
    const as = (user, sql) => sqlOutcome(database, sql, { user });
    assert.equal(await as('agentgate_app', `INSERT INTO audit_events (id, actor, action, details, seq, hash) VALUES (999, 'x', 'y', '{}', 7, '\\x00') RETURNING id, seq IS NULL`), '1|t');
    assert.equal(await as('agentgate_app', `INSERT INTO audit_events (actor, action, details) VALUES ('x', 'y', '{}') RETURNING id`), '2');
    assert.match(await as('agentgate_app', 'UPDATE audit_events SET seq = 1, prev_hash = NULL, hash = NULL WHERE id = 1'), /permission denied/);
    assert.match(await as('agentgate_app', "SELECT nextval('audit_events_id_seq_v2')"), /permission denied/);
    assert.match(await as('agentgate_app', 'ALTER TABLE audit_events DISABLE TRIGGER USER'), /must be owner/);
    assert.equal(await as('agentgate_app', 'SELECT audit_seal(100)'), '2');
    assert.equal(await as('agentgate_app', 'SELECT audit_seal(100)'), '0');
    assert.equal(await as('agentgate_app', 'SELECT count(*) FROM audit_events WHERE seq IS NOT NULL'), '2');
    // the owner cannot change a sealed event either, nor seal one out of turn
    assert.match(await as('agentgate_owner', "UPDATE audit_events SET actor = 'z' WHERE id = 1"), /append-only/);
    await as('agentgate_app', `INSERT INTO audit_events (actor, action, details) VALUES ('x', 'y', '{}')`);
    assert.match(await as('agentgate_owner', `UPDATE audit_events SET seq = 3, prev_hash = decode(repeat('00', 32), 'hex') WHERE seq IS NULL`), /append-only/);
    assert.match(await as('agentgate_owner', `UPDATE audit_events SET seq = 4, prev_hash = (SELECT hash FROM audit_events WHERE seq = 2) WHERE seq IS NULL`), /append-only/);
    assert.match(await as('agentgate_owner', `UPDATE audit_events SET seq = 3, prev_hash = (SELECT hash FROM audit_events WHERE seq = 2), hash = decode(repeat('11', 32), 'hex') WHERE seq IS NULL`), /append-only/);
    assert.match(await as('agentgate_owner', 'DELETE FROM audit_events'), /append-only/);
    assert.match(await as('agentgate_owner', 'TRUNCATE audit_events'), /append-only/);
    // the CLI works as the serving role too
    const app = writeConfig(tmpdir('cfg-'), {
      server: { listen: '127.0.0.1:0', database: conninfo(database, { user: 'agentgate_app' }), auth: 'dev' },
      forums: { eng: { inbound_secret: newSecret() } },
    });
    const r = await runCli(['--config', app, 'audit', 'verify']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^audit chain intact: 3 events/);
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
});
