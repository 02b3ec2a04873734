// Operating agentgate: database outages and recovery, migrations, least-privilege roles,
// configuration and command-line errors, health endpoints. Real PostgreSQL, real processes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN, conninfo, countRows, createDatabase, freePort, newSecret, postIntake, psql, runCli,
  samplePost, spawnServer, startPrivateCluster, startServer, tmpdir, webhookId, writeConfig,
} from '../lib/harness.mjs';

const MIGRATION_FILES = fs.readdirSync(path.join(path.dirname(new URL(import.meta.url).pathname), '../../migrations')).filter((f) => f.endsWith('.sql'));
const MIGRATIONS = MIGRATION_FILES.length;
const NEWEST_MIGRATION = Math.max(...MIGRATION_FILES.map((f) => Number(f.slice(0, 4))));

function configFor(database, extraServer = {}, extraForum = {}, pg = {}) {
  const dir = tmpdir('cfg-');
  return writeConfig(dir, {
    server: { listen: '127.0.0.1:1', database: conninfo(database, pg), auth: 'dev', ...extraServer },
    forums: { eng: { inbound_secret: newSecret(), ...extraForum } },
  });
}

async function until(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('database outage', () => {
  it('answers 503 with Retry-After while PostgreSQL is down, then recovers by itself', async () => {
    const cluster = await startPrivateCluster();
    const pg = { host: cluster.host, port: cluster.port };
    const database = createDatabase(pg);
    const port = await freePort();
    const secret = newSecret();
    const file = writeConfig(tmpdir('cfg-'), {
      server: { listen: `127.0.0.1:${port}`, database: conninfo(database, pg), auth: 'dev', threads: 2 },
      forums: { eng: { inbound_secret: secret, rate_limit: 'none' } },
    });
    const srv = await spawnServer(file);
    Object.assign(srv, { url: `http://127.0.0.1:${port}`, port, secret });
    try {
      assert.equal((await postIntake(srv, samplePost())).status, 202);
      assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);

      cluster.stop();
      const id = webhookId();
      const down = await postIntake(srv, samplePost(), { id });
      assert.equal(down.status, 503, down.text);
      assert.equal(down.json.error.code, 'database_unavailable');
      assert.ok(Number(down.headers.get('retry-after')) > 0);
      assert.equal((await fetch(`${srv.url}/readyz`)).status, 503);
      assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);

      cluster.start();
      // the forum retries the same message; agentgate reconnects without a restart
      const back = await until(async () => {
        const r = await postIntake(srv, samplePost(), { id });
        return r.status === 202 ? r : null;
      }, 15000, 'intake to recover');
      assert.equal(back.status, 202);
      assert.equal(psql(database, `SELECT count(*) FROM drafts WHERE webhook_id = '${id}'`, pg), '1');
      assert.equal(psql(database, 'SELECT count(*) FROM drafts', pg), '2');
      assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);
    } finally {
      await srv.stop();
      cluster.stop('immediate', { ignoreErrors: true });
    }
  });

  it('loses nothing it acknowledged when PostgreSQL dies mid-load, and stores nothing twice', async () => {
    const cluster = await startPrivateCluster();
    const pg = { host: cluster.host, port: cluster.port };
    const database = createDatabase(pg);
    const port = await freePort();
    const secret = newSecret();
    const file = writeConfig(tmpdir('cfg-'), {
      server: { listen: `127.0.0.1:${port}`, database: conninfo(database, pg), auth: 'dev', threads: 8 },
      forums: { eng: { inbound_secret: secret, rate_limit: 'none' } },
    });
    const srv = await spawnServer(file);
    Object.assign(srv, { url: `http://127.0.0.1:${port}`, port, secret });
    try {
      const ids = Array.from({ length: 120 }, () => webhookId());
      const sends = ids.map((id, i) => new Promise((r) => setTimeout(r, i * 3)).then(() => postIntake(srv, samplePost(), { id })));
      setTimeout(() => cluster.stop('immediate'), 120);
      const results = await Promise.all(sends);
      const acknowledged = ids.filter((_, i) => results[i].status === 202);
      for (const r of results) assert.ok([202, 503].includes(r.status), `unexpected ${r.status} ${r.text}\n${srv.logs().split("\n").filter((l) => /error|warn/.test(l)).slice(0, 5).join("\n")}`);
      cluster.start();
      for (const id of acknowledged) {
        assert.equal(psql(database, `SELECT count(*) FROM drafts WHERE webhook_id = '${id}'`, pg), '1', `acknowledged ${id} lost`);
      }
      // the forum retries every refused one; each ends held exactly once
      for (const id of ids) {
        const r = await until(async () => {
          const x = await postIntake(srv, samplePost(), { id });
          return x.status === 202 ? x : null;
        }, 15000, 'retry to succeed');
        assert.equal(r.status, 202);
      }
      assert.equal(psql(database, 'SELECT count(*) FROM drafts', pg), String(ids.length));
      assert.equal(psql(database, "SELECT count(*) FROM audit_events WHERE action = 'intake.held'", pg), String(ids.length));
      assert.equal(psql(database, 'SELECT count(*) FROM draft_revisions', pg), String(ids.length));
    } finally {
      await srv.stop();
      cluster.stop('immediate', { ignoreErrors: true });
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
    const database = createDatabase();
    const file = configFor(database);
    const runs = await Promise.all(Array.from({ length: 4 }, () => new Promise((resolve) => {
      const child = spawn(BIN, ['--config', file, 'migrate']);
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => resolve({ code, err }));
    })));
    for (const r of runs) assert.equal(r.code, 0, r.err);
    assert.equal(countRows(database, 'schema_migrations'), MIGRATIONS);
    const again = runCli(['--config', file, 'migrate']);
    assert.equal(again.status, 0);
    assert.match(again.stdout, /0 migration\(s\) applied/);
  });

  it('refuses a migration edited after it was applied', async () => {
    const database = createDatabase();
    const file = configFor(database);
    assert.equal(runCli(['--config', file, 'migrate']).status, 0);
    psql(database, "UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1");
    const r = runCli(['--config', file, 'migrate']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /migration 0001_initial was edited after it was applied/);
    const serve = runCli(['--config', file, 'serve']);
    assert.equal(serve.status, 1);
  });

  it('refuses a database that has a migration this binary does not know', async () => {
    const database = createDatabase();
    const file = configFor(database);
    assert.equal(runCli(['--config', file, 'migrate']).status, 0);
    psql(database, "INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'future', 'x')");
    const r = runCli(['--config', file, 'migrate']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /9999_future, which this agentgate does not know/);
  });

  it('serve --no-migrate refuses an out-of-date schema and starts on a current one', async () => {
    const database = createDatabase();
    const port = await freePort();
    const file = configFor(database, { listen: `127.0.0.1:${port}` });
    const r = runCli(['--config', file, 'serve', '--no-migrate']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /schema is out of date: \d+ migration\(s\) or function set pending/);
    assert.equal(countRows(database, 'pg_tables', "tablename = 'drafts'"), 0);
    assert.equal(runCli(['--config', file, 'migrate']).status, 0);
    const srv = await spawnServer(file, { args: ['--no-migrate'] });
    await srv.stop();
  });
});

describe('least-privilege roles', () => {
  it('serves as agentgate_app after agentgate_owner migrated, and the app cannot rewrite history', async () => {
    psql('postgres', `DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_owner') THEN CREATE ROLE agentgate_owner LOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentgate_app') THEN CREATE ROLE agentgate_app LOGIN; END IF;
      END $$`);
    const database = 'ag_roles_' + process.pid;
    psql('postgres', `CREATE DATABASE ${database} OWNER agentgate_owner`);
    const owner = configFor(database, {}, {}, { user: 'agentgate_owner' });
    const m = runCli(['--config', owner, 'migrate']);
    assert.equal(m.status, 0, m.stderr);

    const port = await freePort();
    const secret = newSecret();
    const appConfig = writeConfig(tmpdir('cfg-'), {
      server: { listen: `127.0.0.1:${port}`, database: conninfo(database, { user: 'agentgate_app' }), auth: 'dev', threads: 2 },
      forums: { eng: { inbound_secret: secret, rate_limit: '60/h' } },
    });
    // without --no-migrate too: nothing is pending, so no DDL right is needed
    const srv = await spawnServer(appConfig);
    Object.assign(srv, { url: `http://127.0.0.1:${port}`, port, secret });
    try {
      const res = await postIntake(srv, samplePost());
      assert.equal(res.status, 202, res.text);
      assert.equal(runCli(['--config', appConfig, 'killswitch', 'on', '--reason', 'drill']).status, 0);
      assert.equal((await postIntake(srv, samplePost())).status, 423);
      assert.equal(runCli(['--config', appConfig, 'killswitch', 'off']).status, 0);
    } finally {
      await srv.stop();
    }
    const asApp = (sql) => {
      try {
        psql(database, sql, { user: 'agentgate_app' });
        return 'allowed';
      } catch (e) {
        return String(e.stderr);
      }
    };
    assert.match(asApp('DELETE FROM audit_events'), /permission denied/);
    assert.match(asApp("UPDATE audit_events SET actor = 'x'"), /permission denied/);
    assert.match(asApp('TRUNCATE audit_events'), /permission denied/);
    assert.match(asApp('ALTER TABLE audit_events DISABLE TRIGGER USER'), /must be owner/);
    assert.match(asApp('DELETE FROM drafts'), /permission denied/);
    assert.match(asApp('CREATE TABLE sneaky (x int)'), /permission denied/);
    // even the owner cannot change or remove events: the triggers refuse
    const asOwner = (sql) => {
      try {
        psql(database, sql, { user: 'agentgate_owner' });
        return 'allowed';
      } catch (e) {
        return String(e.stderr);
      }
    };
    assert.match(asOwner("UPDATE audit_events SET actor = 'x'"), /append-only/);
    assert.match(asOwner('DELETE FROM audit_events'), /append-only/);
    assert.match(asOwner('TRUNCATE audit_events'), /append-only/);
    assert.ok(countRows(database, 'audit_events') >= 3);
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
    it(`exits 2 on ${name}, naming file, line and key`, () => {
      const file = writeConfig(tmpdir('cfg-'), text);
      const r = runCli(['--config', file, 'serve']);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line on stderr');
      assert.doesNotMatch(r.stderr, /whsec_/);
    });
  }

  it('exits 2 when the config file is missing', () => {
    const r = runCli(['--config', '/nonexistent/agentgate.conf', 'serve']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /nonexistent\/agentgate\.conf.*cannot open/);
  });

  it('exits 2 on bad usage', () => {
    assert.equal(runCli(['frobnicate']).status, 2);
    assert.equal(runCli([]).status, 2);
    const file = configFor(createDatabase());
    assert.equal(runCli(['--config', file, 'killswitch', 'on']).status, 2);
    assert.equal(runCli(['--config', file, 'agent', 'pause', 'eng', 'bot']).status, 2);
    assert.equal(runCli(['--config', file, 'agent', 'pause', 'nosuchforum', 'bot', '--reason', 'x']).status, 2);
  });

  it('exits 1 with one clear line when the database is unreachable', () => {
    const file = configFor('x', {}, {}, { host: '/nonexistent', port: 1 });
    const r = runCli(['--config', file, 'migrate']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot connect to the database/);
    const k = runCli(['--config', file, 'killswitch', 'off']);
    assert.equal(k.status, 1);
  });

  it('prints the version and fresh secrets', () => {
    const v = runCli(['version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^agentgate \d+\.\d+\.\d+/);
    const a = runCli(['secret', 'new']).stdout.trim();
    const b = runCli(['secret', 'new']).stdout.trim();
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(a, b);
    assert.equal(Buffer.from(a.slice(6), 'base64').length, 32);
  });

  it('starts and answers with a config that uses env: and file: references', async () => {
    const dir = tmpdir('cfg-');
    const secret = newSecret();
    fs.writeFileSync(path.join(dir, 'inbound.secret'), secret + '\n');
    const database = createDatabase();
    const port = await freePort();
    const file = writeConfig(dir, {
      server: { listen: `127.0.0.1:${port}`, database: 'env:AG_TEST_DB', auth: 'dev', threads: 2 },
      forums: { eng: { inbound_secret: 'file:inbound.secret', rate_limit: 'none' } },
    });
    const srv = await spawnServer(file, { env: { AG_TEST_DB: conninfo(database) } });
    Object.assign(srv, { url: `http://127.0.0.1:${port}`, port, secret });
    try {
      assert.equal((await postIntake(srv, samplePost())).status, 202);
      assert.doesNotMatch(srv.logs(), new RegExp(secret.slice(6, 20).replace(/[+/]/g, '.')));
    } finally {
      await srv.stop();
    }
  });
});
