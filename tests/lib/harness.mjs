// Test harness for integration tests: each test gets its own database in the suite's
// PostgreSQL (started by scripts/run-tests), its own config file and a real agentgate process
// that listens on a port the kernel picks and says which in its own output. Nothing here mocks
// agentgate; requests go over real HTTP.
//
// Nothing here blocks the event loop: psql, the CLI and pg_ctl run as child processes that are
// awaited, so the test forums and identity providers living in the test's process keep
// answering agentgate while a test waits for the database.
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.AGENTGATE_BIN || path.join(ROOT, 'build/agentgate');
export const PGHOST = process.env.AGENTGATE_TEST_PGHOST;
export const PGPORT = process.env.AGENTGATE_TEST_PGPORT || '55432';
export const PGBIN = process.env.AG_PGBIN || '/usr/lib/postgresql/15/bin';
export const SANITIZED = process.env.AGENTGATE_SANITIZED === '1';

/**
 * How long any wait for an event may take before the test fails naming what it waited for. It
 * bounds a wait that would otherwise hang; it is not a claim about speed, so it is generous:
 * the suite runs under sanitizers on a busy two-core machine.
 */
export const WAIT_LIMIT_MS = Number(process.env.AGENTGATE_TEST_WAIT_LIMIT_MS || 180000);

/**
 * Delivery settings for tests: retries a second apart, and timeouts so generous that a busy
 * machine never turns a forum's answer into a timeout (tests of timeouts set their own).
 */
export const QUICK_RETRIES = {
  retry_schedule: '0s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s',
  timeout: '60s',
  connect_timeout: '30s',
};

if (!PGHOST) {
  throw new Error('AGENTGATE_TEST_PGHOST is not set: run the tests through scripts/run-tests');
}

/**
 * Calls `fn` (which may be async) until it returns a truthy value, which it returns. Fails after
 * WAIT_LIMIT_MS (or `timeout`), naming `what` and the last value seen. An exception from `fn`
 * fails the wait at once.
 */
export async function eventually(fn, { what = 'a condition', timeout = WAIT_LIMIT_MS, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let value;
  for (;;) {
    value = await fn();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(`gave up after ${Math.round(timeout / 1000)} s waiting for ${what} (last value: ${JSON.stringify(value)})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * fetch(), with the reason a request got no answer in the error's message: undici says only
 * "fetch failed" and keeps why (refused, reset, closed by the other side) in error.cause.
 */
export async function httpFetch(url, init = {}) {
  try {
    return await fetch(url, init);
  } catch (error) {
    const why = [error.cause?.code, error.cause?.message].filter(Boolean).join(' ');
    throw new Error(`${error.message}${why ? ': ' + why : ''} (${init.method || 'GET'} ${url})`, { cause: error });
  }
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

/**
 * Runs a child process to completion without blocking the event loop; resolves with
 * {status, signal, stdout, stderr}. `input` is written to its standard input. A process still
 * running after WAIT_LIMIT_MS is killed and the promise rejects (a hang, reported as one).
 */
export function run(command, args, { env, input, what = command } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: env ?? process.env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const stdout = [];
    const stderr = [];
    child.stdout.on('data', (d) => stdout.push(d));
    child.stderr.on('data', (d) => stderr.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not finish within ${WAIT_LIMIT_MS / 1000} s`));
    }, WAIT_LIMIT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

function psqlArgs(database, { host = PGHOST, port = PGPORT, user = 'postgres' } = {}) {
  return ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(port), '-U', user, '-d', database];
}

async function psqlRun(database, sql, options, script) {
  const args = script ? ['-f', '-'] : ['-c', sql];
  const result = await run('psql', [...psqlArgs(database, options), ...args], { input: script ? sql : undefined, what: 'psql' });
  if (result.status !== 0) {
    const error = new Error(`psql failed: ${result.stderr.trim()}\n  in: ${sql.slice(0, 300)}`);
    error.stderr = result.stderr;
    throw error;
  }
  return result.stdout.trim();
}

/** Runs one SQL command string with psql (as the postgres superuser unless `user`); resolves
 * with its trimmed output (unaligned, tuples only). Rejects with `error.stderr` on failure. */
export function psql(database, sql, options = {}) {
  return psqlRun(database, sql, options, false);
}

/** Runs a (possibly long) SQL script through psql's standard input. */
export function psqlScript(database, sql, options = {}) {
  return psqlRun(database, sql, options, true);
}

/** Runs SQL and resolves with its output, or with psql's error text when it fails: for tests
 * of what a role may not do. */
export async function sqlOutcome(database, sql, options = {}) {
  try {
    return await psql(database, sql, options);
  } catch (e) {
    if (e.stderr === undefined) throw e;
    return String(e.stderr);
  }
}

export async function createDatabase(options = {}) {
  const name = 'ag_' + crypto.randomBytes(6).toString('hex');
  await psql('postgres', `CREATE DATABASE ${name}${options.owner ? ` OWNER ${options.owner}` : ''}`, options);
  return name;
}

export function conninfo(database, { host = PGHOST, port = PGPORT, user = 'postgres' } = {}) {
  return `host=${host} port=${port} dbname=${database} user=${user}`;
}

/**
 * Creates the recommended roles agentgate_owner and agentgate_app. They are cluster-wide, and
 * several test files create them at once: a concurrent creation is not an error.
 */
export async function ensureRoles() {
  await psql('postgres', `DO $$ BEGIN
      BEGIN CREATE ROLE agentgate_owner LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
      BEGIN CREATE ROLE agentgate_app LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
    END $$`);
}

/** Renders a config file from {server: {...}, forums: {name: {...}}}. */
export function renderConfig({ server = {}, forums = {}, delivery = null }) {
  let text = '[server]\n';
  // An idle kept-alive connection is cut after header_timeout (10 s by default). A test
  // process starved of CPU on a busy machine can leave a pooled connection idle that long and
  // then send into it as it closes (fetch: "other side closed"), so tests use idle limits a
  // busy machine never reaches; the tests of those limits set their own.
  for (const [k, v] of Object.entries({ header_timeout: '600s', idle_timeout: '600s', ...server })) text += `${k} = ${v}\n`;
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

/** Runs the agentgate CLI to completion; resolves with {status, stdout, stderr}. */
export async function runCli(args, { env = {} } = {}) {
  return run(BIN, args, { env: { ...process.env, ...env }, what: `agentgate ${args.join(' ')}` });
}

function sanitizerComplaint(text) {
  return /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:/.test(text);
}

/**
 * Starts `agentgate serve` on a port the kernel picks, with a fresh database (unless `database`
 * is given) and a forum "eng" signed with a fresh secret. public_url is left to its default,
 * which follows the bound port. Returns the handle of spawnServer() plus secret, database,
 * configFile and dir.
 */
export async function startServer({ forums, server = {}, database, args = [], env = {}, secret, delivery } = {}) {
  const dir = tmpdir('srv-');
  const db = database || (await createDatabase());
  const inbound = secret || newSecret();
  const config = {
    server: { listen: '127.0.0.1:0', database: conninfo(db), auth: 'dev', threads: 4, ...server },
    forums: forums || { eng: { adapter: 'generic', inbound_secret: inbound, rate_limit: 'none' } },
    delivery,
  };
  const configFile = writeConfig(dir, config);
  const handle = await spawnServer(configFile, { args, env });
  return Object.assign(handle, { secret: inbound, database: db, configFile, dir });
}

const LISTENING = /listening on (\S+):(\d+) \(public URL (\S+),/;

/**
 * Spawns `agentgate --config FILE serve ARGS` and waits until that process says where it
 * listens (the line agentgate prints once it serves); the handle's url and port come from that
 * line, so a test talks to the process it started and to no other. With `expectFailure` it
 * returns at once.
 */
export async function spawnServer(configFile, { args = [], env = {}, expectFailure = false } = {}) {
  const child = spawn(BIN, ['--config', configFile, 'serve', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set();
  const changed = () => {
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', (d) => {
    output += d;
    changed();
  });
  child.stderr.on('data', (d) => {
    output += d;
    changed();
  });
  let exitInfo = null;
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
      changed();
    }),
  );
  const handle = {
    child,
    logs: () => output,
    exited,
    /**
     * Resolves with the first match of `pattern` in this process's output (from offset `since`)
     * as soon as it appears; rejects when the process exits without it or after the wait limit.
     */
    waitForLog(pattern, { since = 0, what = String(pattern), timeout = WAIT_LIMIT_MS } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output.slice(since));
          if (match) return finish(null, match);
          if (exitInfo) return finish(new Error(`agentgate exited (${exitInfo.code ?? exitInfo.signal}) before ${what}:\n${output.slice(-3000)}`));
          return undefined;
        };
        const timer = setTimeout(() => finish(new Error(`gave up after ${timeout / 1000} s waiting for ${what} in agentgate's output:\n${output.slice(-3000)}`)), timeout);
        function finish(error, match) {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve(match);
        }
        listeners.add(check);
        check();
      });
    },
    /** SIGTERM, then waits for a clean exit; fails on a sanitizer report or a non-zero exit. */
    async stop() {
      const killedBefore = exitInfo?.signal === 'SIGKILL';
      let hung = false;
      if (!exitInfo) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, WAIT_LIMIT_MS);
      const info = await exited;
      clearTimeout(timer);
      if (hung) throw new Error(`agentgate did not stop within ${WAIT_LIMIT_MS / 1000} s of SIGTERM:\n${output.slice(-3000)}`);
      if (sanitizerComplaint(output)) throw new Error('sanitizer report from agentgate:\n' + output);
      if (info.code !== 0 && !killedBefore) {
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
  let listening;
  try {
    listening = await handle.waitForLog(LISTENING, { what: 'agentgate to listen' });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const [, host, port, publicUrl] = listening;
  handle.port = Number(port);
  handle.url = `http://${host}:${port}`;
  handle.publicUrl = publicUrl;
  const health = await httpFetch(`${handle.url}/healthz`);
  if (health.status !== 200) throw new Error(`agentgate at ${handle.url} answered /healthz with ${health.status}`);
  return handle;
}

let counter = 0;
export function webhookId() {
  return `msg_${process.pid}_${++counter}_${crypto.randomBytes(8).toString('hex')}`;
}

/** Decides a draft through the forum's signed decision API (CONTRACT §4.2). */
export async function decide(srv, draftId, { decision = 'approve', actor = { id: '1001', name: 'alice' }, reason, flags = [] } = {}) {
  return postDecision(srv, draftId, JSON.stringify({ draft_id: draftId, actor, decision, reason, acknowledged_flags: flags }));
}

/** Sends `body` (any text, valid JSON or not) as a signed decision on draftId (CONTRACT §4.2). */
export async function postDecision(srv, draftId, body, { id = webhookId() } = {}) {
  const ts = Math.floor(Date.now() / 1000);
  const res = await httpFetch(`${srv.url}/v1/forums/eng/drafts/${draftId}/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(srv.secret, id, ts, body) },
    body,
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, json, text };
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

/** The raw bytes and Standard Webhooks headers of a signed intake request. */
export function signedIntake(srv, body, opts = {}) {
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
  return { raw, headers, id };
}

/**
 * Sends a signed intake request. `body` may be an object (JSON-encoded) or a string/Buffer sent
 * as is. Options override headers, id, timestamp, signature, forum, secret.
 */
export async function postIntake(srv, body, opts = {}) {
  const { raw, headers, id } = signedIntake(srv, body, opts);
  const res = await httpFetch(`${srv.url}/v1/forums/${opts.forum ?? 'eng'}/posts`, {
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

export async function countRows(database, table, where = 'true', options = {}) {
  return Number(await psql(database, `SELECT count(*) FROM ${table} WHERE ${where}`, options));
}

/**
 * A private PostgreSQL cluster for tests that stop and start it. Its socket is in its own new
 * directory and it listens on no TCP address, so its port only names the socket file there:
 * two clusters cannot collide, whatever port they use.
 */
export async function startPrivateCluster() {
  const dir = tmpdir('pg-');
  const data = path.join(dir, 'data');
  const port = 5432;
  const pgctl = (...args) => run('runuser', ['-u', 'postgres', '--', `${PGBIN}/pg_ctl`, '-D', data, ...args], { what: `pg_ctl ${args.join(' ')}` });
  fs.mkdirSync(data, { mode: 0o700 });
  await run('chown', ['postgres:postgres', data]);
  const init = await run('runuser', ['-u', 'postgres', '--', `${PGBIN}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], { what: 'initdb' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const cluster = {
    host: data,
    port,
    async start() {
      const r = await pgctl('-o', `-k ${data} -p ${port} -c listen_addresses='' -c fsync=off`, '-l', path.join(data, 'server.log'), '-w', '-t', String(WAIT_LIMIT_MS / 1000), 'start');
      if (r.status !== 0) throw new Error(`PostgreSQL did not start: ${r.stderr}\n${fs.readFileSync(path.join(data, 'server.log'), 'utf8').slice(-2000)}`);
    },
    async stop(mode = 'fast', { ignoreErrors = false } = {}) {
      const r = await pgctl('-m', mode, '-w', '-t', String(WAIT_LIMIT_MS / 1000), 'stop');
      if (r.status !== 0 && !ignoreErrors) throw new Error(`PostgreSQL did not stop: ${r.stderr}`);
    },
  };
  await cluster.start();
  return cluster;
}
