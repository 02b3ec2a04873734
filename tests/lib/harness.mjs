// Test harness for integration tests: each test gets its own database in the suite's
// PostgreSQL (started by scripts/run-tests), its own config file and a real agentgate process
// on a free port. Nothing here mocks agentgate; requests go over real HTTP.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.AGENTGATE_BIN || path.join(ROOT, 'build/agentgate');
export const PGHOST = process.env.AGENTGATE_TEST_PGHOST;
export const PGPORT = process.env.AGENTGATE_TEST_PGPORT || '55432';
export const PGBIN = process.env.AG_PGBIN || '/usr/lib/postgresql/15/bin';
export const SANITIZED = process.env.AGENTGATE_SANITIZED === '1';

if (!PGHOST) {
  throw new Error('AGENTGATE_TEST_PGHOST is not set: run the tests through scripts/run-tests');
}

export function tmpdir(prefix = 'agentgate-') {
  const base = process.env.AGENTGATE_TEST_WORK || os.tmpdir();
  const dir = fs.mkdtempSync(path.join(base, prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export function newSecret() {
  return 'whsec_' + crypto.randomBytes(32).toString('base64');
}

/** Standard Webhooks signature "v1,<base64>" of id.timestamp.body under a whsec_ secret. */
export function sign(secret, id, timestamp, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return 'v1,' + crypto.createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** Runs SQL with psql as the postgres superuser; returns trimmed stdout (unaligned, tuples only). */
export function psql(database, sql, { host = PGHOST, port = PGPORT, user = 'postgres' } = {}) {
  return execFileSync('psql', ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(port), '-U', user, '-d', database, '-c', sql], {
    encoding: 'utf8',
  }).trim();
}

export function createDatabase(options = {}) {
  const name = 'ag_' + crypto.randomBytes(6).toString('hex');
  psql('postgres', `CREATE DATABASE ${name}`, options);
  return name;
}

export function conninfo(database, { host = PGHOST, port = PGPORT, user = 'postgres' } = {}) {
  return `host=${host} port=${port} dbname=${database} user=${user}`;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Renders a config file from {server: {...}, forums: {name: {...}}}. */
export function renderConfig({ server = {}, forums = {}, delivery = null }) {
  let text = '[server]\n';
  for (const [k, v] of Object.entries(server)) text += `${k} = ${v}\n`;
  if (delivery) {
    text += '\n[delivery]\n';
    for (const [k, v] of Object.entries(delivery)) text += `${k} = ${v}\n`;
  }
  for (const [name, keys] of Object.entries(forums)) {
    text += `\n[forum ${name}]\n`;
    for (const [k, v] of Object.entries(keys)) text += `${k} = ${v}\n`;
  }
  return text;
}

export function writeConfig(dir, config) {
  const file = path.join(dir, 'agentgate.conf');
  fs.writeFileSync(file, typeof config === 'string' ? config : renderConfig(config));
  return file;
}

/** Runs the agentgate CLI to completion; returns {status, stdout, stderr}. */
export function runCli(args, { env = {}, timeout = 30000 } = {}) {
  const result = spawnSync(BIN, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function sanitizerComplaint(text) {
  return /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:/.test(text);
}

/**
 * Starts `agentgate serve` with a fresh database (unless `database` is given) and a forum
 * "eng" signed with a fresh secret. Returns a handle with url, secret, database, stop().
 */
export async function startServer({ forums, server = {}, database, args = [], env = {}, secret, delivery } = {}) {
  const dir = tmpdir('srv-');
  const port = await freePort();
  const db = database || createDatabase();
  const inbound = secret || newSecret();
  const config = {
    server: {
      listen: `127.0.0.1:${port}`,
      public_url: `http://127.0.0.1:${port}`,
      database: conninfo(db),
      auth: 'dev',
      threads: 4,
      ...server,
    },
    forums: forums || { eng: { adapter: 'generic', inbound_secret: inbound, rate_limit: 'none' } },
    delivery,
  };
  const configFile = writeConfig(dir, config);
  const handle = await spawnServer(configFile, { args, env });
  return Object.assign(handle, { url: `http://127.0.0.1:${port}`, port, secret: inbound, database: db, configFile, dir });
}

/** Spawns `agentgate --config FILE serve ARGS` and waits until /healthz answers. */
export async function spawnServer(configFile, { args = [], env = {}, expectFailure = false } = {}) {
  const text = fs.readFileSync(configFile, 'utf8');
  const listen = /listen\s*=\s*(\S+)/.exec(text)[1];
  const child = spawn(BIN, ['--config', configFile, 'serve', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let exitInfo = null;
  exited.then((info) => (exitInfo = info));
  const handle = {
    child,
    logs: () => output,
    /** Waits (up to 5 s) until the server's output matches `pattern`; returns whether it did. */
    async waitForLog(pattern) {
      const deadline = Date.now() + 5000;
      while (!pattern.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      return pattern.test(output);
    },
    exited,
    async stop() {
      if (!exitInfo) child.kill('SIGTERM');
      const info = await exited;
      if (sanitizerComplaint(output)) throw new Error('sanitizer report from agentgate:\n' + output);
      if (info.code !== 0 && !(info.signal === 'SIGKILL')) {
        throw new Error(`agentgate exited with ${info.code ?? info.signal}:\n${output.slice(-3000)}`);
      }
      return info;
    },
    kill() {
      child.kill('SIGKILL');
      return exited;
    },
  };
  if (expectFailure) return handle;
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (exitInfo) throw new Error(`agentgate exited early (${exitInfo.code}):\n${output}`);
    try {
      const res = await fetch(`http://${listen}/healthz`);
      if (res.status === 200) return handle;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('agentgate did not become healthy:\n' + output);
}

let counter = 0;
export function webhookId() {
  return `msg_${process.pid}_${Date.now()}_${++counter}_${crypto.randomBytes(4).toString('hex')}`;
}

/** Decides a draft through the forum's signed decision API (CONTRACT §4.2). */
export async function decide(srv, draftId, { decision = 'approve', actor = { id: '1001', name: 'alice' }, reason, flags = [] } = {}) {
  const body = JSON.stringify({ draft_id: draftId, actor, decision, reason, acknowledged_flags: flags });
  const id = webhookId();
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(`${srv.url}/v1/forums/eng/drafts/${draftId}/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(srv.secret, id, ts, body) },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

/** A valid intake body (CONTRACT §4.1); override parts with `patch`. */
export function samplePost(patch = {}) {
  const base = {
    agent: { id: 'bot-42', name: 'helperbot' },
    invoker: { id: '1001', name: 'alice' },
    post: { topic_id: '5531', reply_to_post_id: '88120', body: 'Restart the **ingest** worker.', forum_ref: 'ref-1' },
    context: { question_url: 'http://forum.example/t/5531', agent_run_url: 'http://agents.example/run/9', prompt_excerpt: 'why is ingest stuck?' },
  };
  return { ...base, ...patch };
}

/**
 * Sends a signed intake request. `body` may be an object (JSON-encoded) or a string/Buffer sent
 * as is. Options override headers, id, timestamp, signature, forum, secret.
 */
export async function postIntake(srv, body, opts = {}) {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const id = opts.id ?? webhookId();
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const secret = opts.secret ?? srv.secret;
  const headers = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': opts.signature ?? sign(secret, id, timestamp, raw),
    ...(opts.headers || {}),
  };
  for (const [k, v] of Object.entries(headers)) if (v === null) delete headers[k];
  const res = await fetch(`${srv.url}/v1/forums/${opts.forum ?? 'eng'}/posts`, {
    method: opts.method ?? 'POST',
    headers,
    body: raw,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, text, json, id };
}

export function countRows(database, table, where = 'true') {
  return Number(psql(database, `SELECT count(*) FROM ${table} WHERE ${where}`));
}

/** A private PostgreSQL cluster for tests that stop and start the server. */
export async function startPrivateCluster() {
  const dir = tmpdir('pg-');
  const data = path.join(dir, 'data');
  const port = await freePort();
  fs.mkdirSync(data);
  execFileSync('chown', ['postgres:postgres', data]);
  fs.chmodSync(data, 0o700);
  execFileSync('runuser', ['-u', 'postgres', '--', `${PGBIN}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], { stdio: 'ignore' });
  const cluster = {
    host: data,
    port,
    start() {
      execFileSync('runuser', ['-u', 'postgres', '--', `${PGBIN}/pg_ctl`, '-D', data, '-o', `-k ${data} -p ${port} -c listen_addresses='' -c fsync=off`, '-l', path.join(data, 'server.log'), '-w', 'start'], { stdio: 'ignore' });
    },
    stop(mode = 'fast', { ignoreErrors = false } = {}) {
      try {
        execFileSync('runuser', ['-u', 'postgres', '--', `${PGBIN}/pg_ctl`, '-D', data, '-m', mode, '-w', 'stop'], { stdio: 'ignore' });
      } catch (e) {
        if (!ignoreErrors) throw e;
      }
    },
  };
  cluster.start();
  return cluster;
}
