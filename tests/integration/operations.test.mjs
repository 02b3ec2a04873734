// Operating agentgate: database outages and recovery, migrations, least-privilege roles,
// configuration and command-line errors, health endpoints. Real PostgreSQL, real processes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN, conninfo, countRows, createDatabase, ensureRoles, eventually, newSecret, postIntake, psql,
  postDecision, runCli, samplePost, spawnServer, sqlOutcome, startPrivateCluster, startServer, tmpdir, webhookId, writeConfig,
} from '../lib/harness.mjs';
import { psqlSession } from '../lib/psql_session.mjs';

const MIGRATION_FILES = fs.readdirSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../../migrations')).filter((f) => f.endsWith('.sql'));
const MIGRATIONS = MIGRATION_FILES.length;
const NEWEST_MIGRATION = Math.max(...MIGRATION_FILES.map((f) => Number(f.slice(0, 4))));

function configFor(database, extraServer = {}, extraForum = {}, pg = {}) {
  const dir = tmpdir('cfg-');
  return writeConfig(dir, {
    server: { listen: '127.0.0.1:0', database: conninfo(database, pg), auth: 'dev', ...extraServer },
    forums: { eng: { inbound_secret: newSecret(), ...extraForum } },
  });
}

/** A server on a private cluster, for tests that stop PostgreSQL under it. */
async function serverOnPrivateCluster(threads) {
  const cluster = await startPrivateCluster();
  const pg = { host: cluster.host, port: cluster.port };
  const database = await createDatabase(pg);
  const secret = newSecret();
  const file = writeConfig(tmpdir('cfg-'), {
    server: { listen: '127.0.0.1:0', database: conninfo(database, pg), auth: 'dev', threads },
    forums: { eng: { inbound_secret: secret, rate_limit: 'none' } },
  });
  const srv = Object.assign(await spawnServer(file), { secret });
  return { cluster, pg, database, srv };
}

/** Posts until agentgate holds it (the forum's retries); resolves with the 202 answer. */
const postUntilHeld = (srv, id) =>
  eventually(async () => {
    const r = await postIntake(srv, samplePost(), { id });
    return r.status === 202 ? r : null;
  }, { what: `intake of ${id} to succeed` });

describe('database outage', () => {
  it('answers 503 with Retry-After while PostgreSQL is down, then recovers by itself', async () => {
    const { cluster, pg, database, srv } = await serverOnPrivateCluster(2);
    try {
      assert.equal((await postIntake(srv, samplePost())).status, 202);
      assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);

      await cluster.stop();
      const id = webhookId();
      const down = await postIntake(srv, samplePost(), { id });
      assert.equal(down.status, 503, down.text);
      assert.equal(down.json.error.code, 'database_unavailable');
      assert.ok(Number(down.headers.get('retry-after')) > 0);
      assert.equal((await fetch(`${srv.url}/readyz`)).status, 503);
      assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);

      await cluster.start();
      // the forum retries the same message; agentgate reconnects without a restart
      await postUntilHeld(srv, id);
      assert.equal(await countRows(database, 'drafts', `webhook_id = '${id}'`, pg), 1);
      assert.equal(await countRows(database, 'drafts', 'true', pg), 2);
      // Each database worker that failed to connect during the outage waits
      // DB_RECONNECT_INTERVAL_MS before it tries again, so /readyz served by such a worker says
      // 503 for up to that long after PostgreSQL is back: it must turn ready by itself.
      await eventually(async () => (await fetch(`${srv.url}/readyz`)).status === 200, { what: '/readyz to report ready again' });
    } finally {
      await srv.stop();
      await cluster.stop('immediate', { ignoreErrors: true });
    }
  });

  it('answers a decision 503 when PostgreSQL went away after its worker connected, refused ones included', async () => {
    // One worker thread: the intake leaves it a connection libpq still calls open once
    // PostgreSQL is gone, so each decision below fails on its first statement, as a decision
    // does when the database dies between two requests.
    const { cluster, pg, database, srv } = await serverOnPrivateCluster(1);
    try {
      const held = await postIntake(srv, samplePost());
      assert.equal(held.status, 202, held.text);
      const draftId = held.json.draft_id;
      const approve = JSON.stringify({ draft_id: draftId, actor: { id: '1001', name: 'alice' }, decision: 'approve', acknowledged_flags: [] });
      await cluster.stop('immediate');
      // refusals agentgate remembers under their webhook-id: the write of that answer fails
      for (const text of ['{"draft_id": ', JSON.stringify({ draft_id: 'other', actor: { id: '1001', name: 'alice' }, decision: 'approve' })]) {
        const refused = await postDecision(srv, draftId, text);
        assert.equal(refused.status, 503, `${text}: ${refused.text}`);
        assert.equal(JSON.parse(refused.text).error.code, 'database_unavailable');
      }
      const id = webhookId();
      const down = await postDecision(srv, draftId, approve, { id });
      assert.equal(down.status, 503, down.text);

      await cluster.start();
      // the forum retries the same message once the database is back
      const decided = await eventually(async () => {
        const r = await postDecision(srv, draftId, approve, { id });
        return r.status === 200 ? r : null;
      }, { what: 'the retried decision to be answered 200' });
      assert.equal(JSON.parse(decided.text).state, 'approved');
      assert.equal(await countRows(database, 'audit_events', `draft_id = '${draftId}' AND action = 'draft.approve'`, pg), 1, 'approved once');
      // the refusals answered 503 were not remembered: the approval's webhook-id is the only one
      assert.equal(await countRows(database, 'forum_decision_requests', 'true', pg), 1);
    } finally {
      await srv.stop();
      await cluster.stop('immediate', { ignoreErrors: true });
    }
  });

  it('loses nothing it acknowledged when PostgreSQL dies mid-transaction, and stores nothing twice', async () => {
    const threads = 8;
    const { cluster, pg, database, srv } = await serverOnPrivateCluster(threads);
    const blocker = await psqlSession(database, pg);
    try {
      const ids = Array.from({ length: 40 }, () => webhookId());
      const acknowledged = ids.slice(0, 10);
      for (const id of acknowledged) assert.equal((await postIntake(srv, samplePost(), { id })).status, 202);
      // The kill switch's lock, held exclusively: every intake now waits for it inside its
      // transaction, after its first read.
      await blocker.run("SELECT pg_advisory_lock(lock_key('kill_switch'), 0);");
      const inFlight = ids.slice(10).map((id) => postIntake(srv, samplePost(), { id }));
      // the window: one intake per database worker is mid-transaction when PostgreSQL dies
      const waiting = () => countRows(database, 'pg_stat_activity', "datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%intake_hold(%'", pg);
      await eventually(async () => (await waiting()) === threads, { what: `${threads} intakes inside their transactions` });
      await cluster.stop('immediate');
      for (const r of await Promise.all(inFlight)) {
        assert.equal(r.status, 503, `an intake cut off by the crash is refused: ${r.status} ${r.text}`);
        assert.equal(r.json.error.code, 'database_unavailable');
        assert.ok(Number(r.headers.get('retry-after')) > 0);
      }
      await blocker.close();
      await cluster.start();
      const ackList = acknowledged.map((id) => `'${id}'`).join(',');
      assert.equal(await countRows(database, 'drafts', `webhook_id IN (${ackList})`, pg), acknowledged.length, 'every acknowledged post survived');
      assert.equal(await countRows(database, 'drafts', 'true', pg), acknowledged.length, 'nothing half-stored');
      // the forum retries every refused one (and repeats acknowledged ones): each held once
      for (const id of ids) await postUntilHeld(srv, id);
      assert.equal(await countRows(database, 'drafts', 'true', pg), ids.length);
      assert.equal(await countRows(database, 'audit_events', "action = 'intake.held'", pg), ids.length);
      assert.equal(await countRows(database, 'draft_revisions', 'true', pg), ids.length);
    } finally {
      await blocker.close();
      await srv.stop();
      await cluster.stop('immediate', { ignoreErrors: true });
    }
  });
});

describe('listening', () => {
  it('listens on a port the kernel picks, names it whatever log_level says, and builds public_url from it', async () => {
    const srv = await startServer({ server: { log_level: 'error' } });
    try {
      assert.notEqual(srv.port, 0);
      assert.equal(srv.publicUrl, srv.url);
      assert.match(srv.logs(), /notice rid=- agentgate \S+ listening on 127\.0\.0\.1:\d+ /);
      assert.doesNotMatch(srv.logs(), / info /, 'nothing else below error');
      const held = await postIntake(srv, samplePost());
      assert.equal(held.json.review_url, `${srv.url}/drafts/${held.json.draft_id}`);
    } finally {
      await srv.stop();
    }
  });

  it('keeps a configured public_url', async () => {
    const srv = await startServer({ server: { public_url: 'https://gate.example' } });
    try {
      assert.equal(srv.publicUrl, 'https://gate.example');
      const held = await postIntake(srv, samplePost());
      assert.equal(held.json.review_url, `https://gate.example/drafts/${held.json.draft_id}`);
    } finally {
      await srv.stop();
    }
  });

  it('says which address it could not listen on', async () => {
    const blocker = await startServer();
    try {
      const file = configFor(await createDatabase(), { listen: `127.0.0.1:${blocker.port}` });
      const r = await runCli(['--config', file, 'serve']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${blocker.port}: Address already in use`));
    } finally {
      await blocker.stop();
    }
  });
});

describe('health', () => {
  it('answers /healthz and /readyz with the schema version', async () => {
    const srv = await startServer();
    try {
      const live = await fetch(`${srv.url}/healthz`);
      assert.equal(live.status, 200);
      const ready = await (await fetch(`${srv.url}/readyz`)).json();
      assert.equal(ready.status, 'ok');
      assert.equal(ready.schema_version, NEWEST_MIGRATION);
    } finally {
      await srv.stop();
    }
  });
});

describe('migrations', () => {
  it('applies every migration once even when four migrate runs start together', async () => {
    const database = await createDatabase();
    const file = configFor(database);
    const runs = await Promise.all(Array.from({ length: 4 }, () => new Promise((resolve) => {
      const child = spawn(BIN, ['--config', file, 'migrate']);
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => resolve({ code, err }));
    })));
    for (const r of runs) assert.equal(r.code, 0, r.err);
    assert.equal(await countRows(database, 'schema_migrations'), MIGRATIONS);
    const again = await runCli(['--config', file, 'migrate']);
    assert.equal(again.status, 0);
    assert.match(again.stdout, /0 migration\(s\) applied/);
  });

  it('refuses a migration edited after it was applied', async () => {
    const database = await createDatabase();
    const file = configFor(database);
    assert.equal((await runCli(['--config', file, 'migrate'])).status, 0);
    await psql(database, "UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1");
    const r = await runCli(['--config', file, 'migrate']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /migration 0001_initial was edited after it was applied/);
    const serve = await runCli(['--config', file, 'serve']);
    assert.equal(serve.status, 1);
  });

  it('refuses a database that has a migration this binary does not know', async () => {
    const database = await createDatabase();
    const file = configFor(database);
    assert.equal((await runCli(['--config', file, 'migrate'])).status, 0);
    await psql(database, "INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'future', 'x')");
    const r = await runCli(['--config', file, 'migrate']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /9999_future, which this agentgate does not know/);
  });

  it('serve --no-migrate refuses an out-of-date schema and starts on a current one', async () => {
    const database = await createDatabase();
    const file = configFor(database);
    const r = await runCli(['--config', file, 'serve', '--no-migrate']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /schema is out of date: \d+ migration\(s\) or function set pending/);
    assert.equal(await countRows(database, 'pg_tables', "tablename = 'drafts'"), 0);
    assert.equal((await runCli(['--config', file, 'migrate'])).status, 0);
    const srv = await spawnServer(file, { args: ['--no-migrate'] });
    await srv.stop();
  });
});

describe('least-privilege roles', () => {
  it('serves as agentgate_app after agentgate_owner migrated, and the app cannot rewrite history', async () => {
    await ensureRoles();
    const database = await createDatabase({ owner: 'agentgate_owner' });
    const owner = configFor(database, {}, {}, { user: 'agentgate_owner' });
    const m = await runCli(['--config', owner, 'migrate']);
    assert.equal(m.status, 0, m.stderr);

    const secret = newSecret();
    const appConfig = writeConfig(tmpdir('cfg-'), {
      server: { listen: '127.0.0.1:0', database: conninfo(database, { user: 'agentgate_app' }), auth: 'dev', threads: 2 },
      forums: { eng: { inbound_secret: secret, rate_limit: '60/h' } },
    });
    // without --no-migrate too: nothing is pending, so no DDL right is needed
    const srv = await spawnServer(appConfig);
    srv.secret = secret;
    try {
      const res = await postIntake(srv, samplePost());
      assert.equal(res.status, 202, res.text);
      assert.equal((await runCli(['--config', appConfig, 'killswitch', 'on', '--reason', 'drill'])).status, 0);
      assert.equal((await postIntake(srv, samplePost())).status, 423);
      assert.equal((await runCli(['--config', appConfig, 'killswitch', 'off'])).status, 0);
    } finally {
      await srv.stop();
    }
    const asApp = (sql) => sqlOutcome(database, sql, { user: 'agentgate_app' });
    assert.match(await asApp('DELETE FROM audit_events'), /permission denied/);
    assert.match(await asApp("UPDATE audit_events SET actor = 'x'"), /permission denied/);
    assert.match(await asApp('TRUNCATE audit_events'), /permission denied/);
    assert.match(await asApp('ALTER TABLE audit_events DISABLE TRIGGER USER'), /must be owner/);
    assert.match(await asApp('DELETE FROM drafts'), /permission denied/);
    assert.match(await asApp('CREATE TABLE sneaky (x int)'), /permission denied/);
    // even the owner cannot change or remove events: the triggers refuse
    const asOwner = (sql) => sqlOutcome(database, sql, { user: 'agentgate_owner' });
    assert.match(await asOwner("UPDATE audit_events SET actor = 'x'"), /append-only/);
    assert.match(await asOwner('DELETE FROM audit_events'), /append-only/);
    assert.match(await asOwner('TRUNCATE audit_events'), /append-only/);
    assert.ok(await countRows(database, 'audit_events') >= 3);
  });
});

describe('configuration and command line', () => {
  const cases = [
    ['an unknown key', '[server]\ndatabase = x\nauth = dev\ncolour = blue\n[forum eng]\ninbound_secret = ' + newSecret() + '\n', /agentgate\.conf:4: colour: unknown key/],
    ['a bad value', '[server]\ndatabase = x\nauth = maybe\n[forum eng]\ninbound_secret = ' + newSecret() + '\n', /agentgate\.conf:3: auth: must be sso, proxy or dev/],
    ['an unreadable secret file', '[server]\ndatabase = x\nauth = dev\n[forum eng]\ninbound_secret = file:missing.secret\n', /agentgate\.conf:5: inbound_secret: cannot read secret file/],
    ['dev sign-in off loopback', '[server]\ndatabase = x\nauth = dev\nlisten = 0.0.0.0:8080\n[forum eng]\ninbound_secret = ' + newSecret() + '\n', /auth: auth = dev .* loopback/],
    ['an adapter that does not exist', '[server]\ndatabase = x\nauth = dev\n[forum eng]\nadapter = nosuch\ninbound_secret = ' + newSecret() + '\n', /adapter: adapter nosuch not found/],
  ];
  for (const [name, text, pattern] of cases) {
    it(`exits 2 on ${name}, naming file, line and key`, async () => {
      const file = writeConfig(tmpdir('cfg-'), text);
      const r = await runCli(['--config', file, 'serve']);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line on stderr');
      assert.doesNotMatch(r.stderr, /whsec_/);
    });
  }

  it('exits 2 when the config file is missing', async () => {
    const r = await runCli(['--config', '/nonexistent/agentgate.conf', 'serve']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /nonexistent\/agentgate\.conf.*cannot open/);
  });

  it('exits 2 on bad usage', async () => {
    assert.equal((await runCli(['frobnicate'])).status, 2);
    assert.equal((await runCli([])).status, 2);
    const file = configFor(await createDatabase());
    assert.equal((await runCli(['--config', file, 'killswitch', 'on'])).status, 2);
    assert.equal((await runCli(['--config', file, 'agent', 'pause', 'eng', 'bot'])).status, 2);
    assert.equal((await runCli(['--config', file, 'agent', 'pause', 'nosuchforum', 'bot', '--reason', 'x'])).status, 2);
  });

  it('exits 1 with one clear line when the database is unreachable', async () => {
    const file = configFor('x', {}, {}, { host: '/nonexistent', port: 1 });
    const r = await runCli(['--config', file, 'migrate']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot connect to the database/);
    const k = await runCli(['--config', file, 'killswitch', 'off']);
    assert.equal(k.status, 1);
  });

  it('prints the version and fresh secrets', async () => {
    const v = await runCli(['version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^agentgate \d+\.\d+\.\d+/);
    const a = (await runCli(['secret', 'new'])).stdout.trim();
    const b = (await runCli(['secret', 'new'])).stdout.trim();
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(a, b);
    assert.equal(Buffer.from(a.slice(6), 'base64').length, 32);
  });

  it('starts and answers with a config that uses env: and file: references', async () => {
    const dir = tmpdir('cfg-');
    const secret = newSecret();
    fs.writeFileSync(path.join(dir, 'inbound.secret'), secret + '\n');
    const database = await createDatabase();
    const file = writeConfig(dir, {
      server: { listen: '127.0.0.1:0', database: 'env:AG_TEST_DB', auth: 'dev', threads: 2 },
      forums: { eng: { inbound_secret: 'file:inbound.secret', rate_limit: 'none' } },
    });
    const srv = await spawnServer(file, { env: { AG_TEST_DB: conninfo(database) } });
    srv.secret = secret;
    try {
      assert.equal((await postIntake(srv, samplePost())).status, 202);
      assert.doesNotMatch(srv.logs(), new RegExp(secret.slice(6, 20).replace(/[+/]/g, '.')));
    } finally {
      await srv.stop();
    }
  });
});
