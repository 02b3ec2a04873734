// `cmake --install` into a staging folder (DESTDIR), then the installed tree is used as an
// operator would: the installed binary prints its version, runs `serve` against the suite's
// PostgreSQL (finding its adapters in the installed lib/agentgate/, not in the build tree) and
// answers /healthz, /readyz and a signed intake; the installed example configuration works
// once its database and secret files are filled in and lists every configuration key; the
// installed systemd unit has the hardening an operator expects and passes
// `systemd-analyze verify`.
//
// The build installed is the one AGENTGATE_BIN belongs to (build/ by default).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD = path.dirname(process.env.AGENTGATE_BIN || path.join(ROOT, 'build/agentgate'));
const STAGE = fs.mkdtempSync(path.join(process.env.AGENTGATE_TEST_WORK || os.tmpdir(), 'stage-'));
fs.chmodSync(STAGE, 0o755);

const cache = fs.readFileSync(path.join(BUILD, 'CMakeCache.txt'), 'utf8');
const cacheValue = (name) => new RegExp(`^${name}:[A-Z]+=(.*)$`, 'm').exec(cache)?.[1];
const PREFIX = cacheValue('CMAKE_INSTALL_PREFIX');
const SYSCONFDIR = (() => {
  const dir = cacheValue('CMAKE_INSTALL_SYSCONFDIR') || 'etc';
  return path.isAbsolute(dir) ? dir : path.join(PREFIX, dir);
})();

execFileSync('cmake', ['--install', BUILD], { env: { ...process.env, DESTDIR: STAGE }, stdio: 'pipe' });
const staged = (p) => path.join(STAGE, p);
const INSTALLED_BIN = staged(path.join(PREFIX, 'bin/agentgate'));
// The harness runs AGENTGATE_BIN: from here on, that is the installed binary.
process.env.AGENTGATE_BIN = INSTALLED_BIN;
const { conninfo, createDatabase, newSecret, postIntake, runCli, samplePost, startServer, tmpdir } = await import('../lib/harness.mjs');

function installedFiles(dir = STAGE) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? installedFiles(path.join(dir, e.name)) : [path.join(dir, e.name).slice(STAGE.length)]);
}

describe('cmake --install into a staging prefix', () => {
  it('installs the binary, the three adapters, the unit, the sysusers entry and the example config', () => {
    const files = installedFiles();
    assert.ok(files.includes(path.join(PREFIX, 'bin/agentgate')), files.join('\n'));
    for (const adapter of ['generic', 'discourse', 'nodebb']) {
      assert.ok(files.some((f) => f.endsWith(`/agentgate/${adapter}.so`) && f.startsWith(PREFIX + '/lib')), `${adapter}.so in ${files.join(', ')}`);
    }
    assert.ok(files.some((f) => f.endsWith('/systemd/system/agentgate.service')), files.join('\n'));
    assert.ok(files.some((f) => f.endsWith('/sysusers.d/agentgate.conf')), files.join('\n'));
    assert.ok(files.includes(path.join(SYSCONFDIR, 'agentgate/agentgate.conf.example')), files.join('\n'));
    const mode = fs.statSync(INSTALLED_BIN).mode;
    assert.ok(mode & 0o111, 'the binary is executable');
  });

  it('the installed binary prints its version', async () => {
    const result = await runCli(['version']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^agentgate \d+\.\d+\.\d+ \(plugin ABI \d+\)\n$/);
  });

  it('the installed binary serves, loading its adapter from the installed lib/agentgate/', async () => {
    // LD_DEBUG=files makes the dynamic loader name every object it opens on stderr.
    const srv = await startServer({ env: { LD_DEBUG: 'files' } });
    try {
      assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${srv.url}/readyz`)).status, 200);
      const held = await postIntake(srv, samplePost());
      assert.equal(held.status, 202, held.text);
      const opened = [...srv.logs().matchAll(/file=(\S+\/generic\.so)\b/g)].map((m) => m[1]);
      assert.ok(opened.length > 0, 'generic.so was loaded');
      for (const file of opened) {
        assert.ok(path.resolve(file).startsWith(STAGE + '/'), `generic.so came from ${file}, outside the staged install`);
      }
    } finally {
      await srv.stop();
    }
  });
});

describe('agentgate.conf.example', () => {
  const example = () => fs.readFileSync(staged(path.join(SYSCONFDIR, 'agentgate/agentgate.conf.example')), 'utf8');

  it('names every key of the configuration table, in its section', () => {
    const table = fs.readFileSync(path.join(ROOT, 'server/config.c'), 'utf8');
    const keys = [...table.matchAll(/\{SECTION_(SERVER|FORUM|DELIVERY), "(\w+)"/g)].map((m) => [m[1].toLowerCase(), m[2]]);
    assert.ok(keys.length >= 30, `found ${keys.length} keys in server/config.c`);
    // Keys as written in the example, active or commented out, by section.
    const seen = new Set();
    let section = null;
    for (const line of example().split('\n')) {
      const header = /^\[(server|delivery|forum) ?[^\]]*\]/.exec(line);
      if (header) section = header[1];
      const key = /^;?(\w+) =/.exec(line);
      if (key && section) seen.add(`${section}.${key[1]}`);
    }
    const missing = keys.filter(([s, k]) => !seen.has(`${s}.${k}`)).map(([s, k]) => `${s}.${k}`);
    assert.deepEqual(missing, [], 'keys missing from agentgate.conf.example');
    const unknown = [...seen].filter((k) => !keys.some(([s, n]) => `${s}.${n}` === k));
    assert.deepEqual(unknown, [], 'keys in agentgate.conf.example that agentgate does not know');
  });

  it('is a working configuration once the database and the secret files are filled in', async () => {
    const dir = tmpdir('example-');
    const database = await createDatabase();
    const text = example().replace(/^database = .*$/m, `database = ${conninfo(database)}`);
    fs.writeFileSync(path.join(dir, 'agentgate.conf'), text);
    for (const name of ['eng.inbound_secret', 'eng.release_secret']) fs.writeFileSync(path.join(dir, name), newSecret() + '\n', { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'eng.sso_secret'), 'a shared sso secret\n', { mode: 0o600 });
    const migrated = await runCli(['--config', path.join(dir, 'agentgate.conf'), 'migrate']);
    assert.equal(migrated.status, 0, migrated.stderr);
    // Without its secret files it names the file, the line and the key.
    fs.rmSync(path.join(dir, 'eng.inbound_secret'));
    const refused = await runCli(['--config', path.join(dir, 'agentgate.conf'), 'migrate']);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /agentgate\.conf:\d+: inbound_secret: cannot read secret file .*eng\.inbound_secret/);
  });
});

describe('the systemd unit', () => {
  const unitPath = () => staged(installedFiles().find((f) => f.endsWith('/systemd/system/agentgate.service')));
  // [Service] settings as name -> list of values (a key may be given several times).
  function serviceSettings() {
    const settings = new Map();
    let section = null;
    for (const raw of fs.readFileSync(unitPath(), 'utf8').split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) continue;
      const header = /^\[(\w+)\]$/.exec(line);
      if (header) {
        section = header[1];
        continue;
      }
      const eq = line.indexOf('=');
      if (section !== 'Service' || eq < 0) continue;
      const key = line.slice(0, eq);
      settings.set(key, [...(settings.get(key) || []), line.slice(eq + 1)]);
    }
    return settings;
  }

  it('runs the installed binary with the installed config path as a dedicated user', () => {
    const s = serviceSettings();
    assert.deepEqual(s.get('ExecStart'), [`${path.join(PREFIX, 'bin/agentgate')} --config ${path.join(SYSCONFDIR, 'agentgate/agentgate.conf')} serve`]);
    assert.ok(['simple', 'notify', 'exec'].includes(s.get('Type')?.[0]), `Type=${s.get('Type')}`);
    assert.deepEqual(s.get('User'), ['agentgate']);
    const sysusers = fs.readFileSync(staged(installedFiles().find((f) => f.endsWith('/sysusers.d/agentgate.conf'))), 'utf8');
    assert.match(sysusers, /^u agentgate /m, 'the sysusers.d entry creates that user');
    // Stopping waits longer than agentgate's own default shutdown_timeout (10s).
    assert.ok(parseInt(s.get('TimeoutStopSec')[0], 10) > 10);
  });

  it('is hardened: no new privileges, no capabilities, read-only system, no home, private /tmp', () => {
    const s = serviceSettings();
    const expected = {
      NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes',
      PrivateDevices: 'yes', ProtectKernelTunables: 'yes', ProtectKernelModules: 'yes',
      ProtectControlGroups: 'yes', RestrictSUIDSGID: 'yes', RestrictNamespaces: 'yes',
      LockPersonality: 'yes', MemoryDenyWriteExecute: 'yes', CapabilityBoundingSet: '', AmbientCapabilities: '',
    };
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(s.get(key), [value], key);
    assert.deepEqual(s.get('RestrictAddressFamilies'), ['AF_UNIX AF_INET AF_INET6']);
    assert.ok(s.get('SystemCallFilter')?.includes('@system-service'));
  });

  it('passes systemd-analyze verify and rates OK in systemd-analyze security', { skip: spawnSync('systemd-analyze', ['--version']).error ? 'systemd-analyze is not installed' : false }, () => {
    // verify checks that ExecStart exists: point it at the staged binary.
    const dir = tmpdir('unit-');
    const copy = path.join(dir, 'agentgate.service');
    fs.writeFileSync(copy, fs.readFileSync(unitPath(), 'utf8').replace(`ExecStart=${path.join(PREFIX, 'bin/agentgate')}`, `ExecStart=${INSTALLED_BIN}`));
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    // Unknown keys or bad values are only warnings for systemd: any output is a failure here.
    assert.equal(verify.stderr.trim(), '', verify.stderr);
    const security = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', copy], { encoding: 'utf8' });
    const level = /Overall exposure level for agentgate\.service: ([\d.]+) (\w+)/.exec(security.stdout + security.stderr);
    assert.ok(level, security.stdout + security.stderr);
    console.log(`systemd-analyze security: exposure ${level[1]} ${level[2]}`);
    assert.ok(Number(level[1]) <= 2.0, `exposure ${level[1]} ${level[2]}`);
  });
});
