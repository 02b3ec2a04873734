// SQL functions live in sql/ and are re-applied by `migrate` as a set when they changed
// (sql/functions.list, schema_functions). These tests change what the database recorded and
// check what migrate and serve --no-migrate do about it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, conninfo, createDatabase, newSecret, psql, runCli, tmpdir, writeConfig } from '../lib/harness.mjs';

function configFor(database) {
  return writeConfig(tmpdir('cfg-'), {
    server: { listen: '127.0.0.1:0', database: conninfo(database), auth: 'dev' },
    forums: { eng: { inbound_secret: newSecret() } },
  });
}

const listed = fs
  .readFileSync(path.join(ROOT, 'sql/functions.list'), 'utf8')
  .split('\n')
  .filter((line) => line && !line.startsWith('#'));

// A function's body as the database holds it, to see whether migrate replaced it.
const body = (database, name) => psql(database, `SELECT prosrc FROM pg_proc WHERE proname = '${name}'`);

describe('SQL functions', () => {
  it('lists every file of sql/ once, and each function file defines its function', () => {
    const files = fs.readdirSync(path.join(ROOT, 'sql')).filter((f) => f.endsWith('.sql'));
    assert.deepEqual([...listed].sort(), [...files].sort());
    assert.equal(new Set(listed).size, listed.length);
    for (const file of listed.filter((f) => f !== 'privileges.sql')) {
      const text = fs.readFileSync(path.join(ROOT, 'sql', file), 'utf8');
      const name = file.replace(/\.sql$/, '');
      const defined = [...text.matchAll(/CREATE OR REPLACE FUNCTION (\w+)\(/g)].map((m) => m[1]);
      assert.deepEqual(defined, [name], `${file} defines exactly ${name}`);
    }
  });

  it('names advisory locks: no function carries a bare lock number, and an unknown name is an error', async () => {
    for (const file of listed) {
      const text = fs.readFileSync(path.join(ROOT, 'sql', file), 'utf8');
      if (file === 'lock_key.sql') continue;
      assert.doesNotMatch(text, /advisory\w*lock\w*\(\s*\d/, `${file} takes a lock by number`);
    }
    const database = await createDatabase();
    const migrated = await runCli(['--config', configFor(database), 'migrate']);
    assert.equal(migrated.status, 0, migrated.stderr);
    const keys = (await psql(database, "SELECT lock_key('kill_switch'), lock_key('agent'), lock_key('audit_seal')")).split('|');
    assert.equal(new Set(keys).size, 3, `distinct keys: ${keys}`);
    await assert.rejects(psql(database, "SELECT lock_key('kill-switch')"), /unknown lock kill-switch/);
  });

  it('records the installed set and re-applies it only when the database holds another', async () => {
    const database = await createDatabase();
    const file = configFor(database);
    const first = await runCli(['--config', file, 'migrate']);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /SQL functions updated/);
    const recorded = await psql(database, 'SELECT checksum FROM schema_functions');
    assert.match(recorded, /^[0-9a-f]{64}$/);

    const again = await runCli(['--config', file, 'migrate']);
    assert.equal(again.status, 0);
    assert.doesNotMatch(again.stdout, /SQL functions updated/);

    // Someone replaced a function by hand: migrate does not notice the body, only the set...
    await psql(database, "CREATE OR REPLACE FUNCTION killswitch_set(p_engaged boolean, p_reason text, p_actor text, p_actor_name text) RETURNS boolean LANGUAGE sql AS $$ SELECT false $$");
    // ...but once the recorded set differs, migrate puts back what sql/ says.
    await psql(database, "UPDATE schema_functions SET checksum = 'stale'");
    const repaired = await runCli(['--config', file, 'migrate']);
    assert.equal(repaired.status, 0, repaired.stderr);
    assert.match(repaired.stdout, /SQL functions updated/);
    assert.match(await body(database, 'killswitch_set'), /killswitch/);
    assert.equal(await psql(database, 'SELECT checksum FROM schema_functions'), recorded);
  });

  it('never replaces a set that a newer agentgate installed', async () => {
    const database = await createDatabase();
    const file = configFor(database);
    assert.equal((await runCli(['--config', file, 'migrate'])).status, 0);
    await psql(database, "UPDATE schema_functions SET checksum = 'newer', agentgate_version = '999.0.0'");
    await psql(database, "CREATE OR REPLACE FUNCTION killswitch_set(p_engaged boolean, p_reason text, p_actor text, p_actor_name text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$");
    const r = await runCli(['--config', file, 'migrate']);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /SQL functions updated/);
    assert.equal((await body(database, 'killswitch_set')).trim(), 'SELECT true');
    assert.equal(await psql(database, 'SELECT agentgate_version FROM schema_functions'), '999.0.0');
  });

  it('serve --no-migrate refuses a database whose functions are out of date', async () => {
    const database = await createDatabase();
    const file = configFor(database);
    assert.equal((await runCli(['--config', file, 'migrate'])).status, 0);
    await psql(database, "UPDATE schema_functions SET checksum = 'stale'");
    const r = await runCli(['--config', file, 'serve', '--no-migrate']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /schema is out of date: 1 /);
  });
});
