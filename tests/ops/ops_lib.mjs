// Shared by the operations tests in tests/ops/: private PostgreSQL clusters that tests may
// stop, crash, restart and fail over (a primary and a streaming standby made with
// pg_basebackup), steady intake and approval load against a running agentgate that keeps a
// record of every answer, and checks of what PostgreSQL holds afterwards.
//
// Clusters listen on unix sockets only, each in its own folder, so their port only names the
// socket and several coexist. Everything runs as the postgres user, as in scripts/lib.sh.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { decide, eventually, PGBIN, postIntake, runCli, samplePost, spawnServer, tmpdir, webhookId } from '../lib/harness.mjs';

const PORT = 5432; // names the socket file inside each cluster's own folder

function asPostgres(command, args, options = {}) {
  return execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...options });
}

/** Runs SQL on a cluster (stdin, so it may be long); returns trimmed unaligned output. */
export function sql(cluster, database, text) {
  return execFileSync('psql', ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-h', cluster.host, '-p', String(PORT), '-U', 'postgres', '-d', database], {
    input: text,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  }).trim();
}

function makeCluster(data, settings) {
  const cluster = {
    host: data,
    port: PORT,
    data,
    log: path.join(data, 'server.log'),
    start() {
      const opts = [`-k ${data}`, `-p ${PORT}`, "-c listen_addresses=''", ...settings.map((s) => `-c ${s}`)].join(' ');
      asPostgres(`${PGBIN}/pg_ctl`, ['-D', data, '-o', opts, '-l', cluster.log, '-w', '-t', '60', 'start']);
    },
    /** mode: fast (clean) or immediate (a crash: recovery from WAL at the next start). */
    stop(mode = 'fast') {
      try {
        asPostgres(`${PGBIN}/pg_ctl`, ['-D', data, '-m', mode, '-w', 'stop']);
      } catch (e) {
        if (!/not running|No such file|does not exist/.test(String(e.stderr))) throw e;
      }
    },
    running() {
      try {
        asPostgres(`${PGBIN}/pg_ctl`, ['-D', data, 'status']);
        return true;
      } catch {
        return false;
      }
    },
    sql(database, text) {
      return sql(cluster, database, text);
    },
    promote() {
      asPostgres(`${PGBIN}/pg_ctl`, ['-D', data, '-w', 'promote']);
    },
    conninfo(database) {
      return `host=${data} port=${PORT} dbname=${database} user=postgres`;
    },
  };
  return cluster;
}

/** Initialises and starts a private cluster. `settings` are extra `-c` options. */
export function startCluster(settings = ['fsync=off']) {
  const dir = tmpdir('pg-');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  execFileSync('chown', ['postgres:postgres', data]);
  fs.chmodSync(data, 0o700);
  asPostgres(`${PGBIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  const cluster = makeCluster(data, settings);
  cluster.start();
  return cluster;
}

/**
 * A streaming standby of `primary`, made with pg_basebackup -R (which writes standby.signal and
 * primary_conninfo), started, and awaited until the primary reports it streaming. With
 * `synchronous`, the primary then waits for the standby to flush every commit before it
 * answers, so a commit agentgate was told about survives the primary's crash.
 */
export async function startStandby(primary, { synchronous = true, settings = ['fsync=off'] } = {}) {
  const dir = tmpdir('pg-standby-');
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  execFileSync('chown', ['postgres:postgres', data]);
  fs.chmodSync(data, 0o700);
  asPostgres('pg_basebackup', ['-h', primary.host, '-p', String(PORT), '-U', 'postgres', '-D', data, '-R', '-X', 'stream', '-c', 'fast', '-d', 'application_name=standby']);
  // The primary's socket lock file came along (its socket folder is its data folder).
  for (const f of fs.readdirSync(data)) if (f.startsWith('.s.PGSQL.')) fs.rmSync(path.join(data, f));
  const standby = makeCluster(data, settings);
  standby.start();
  await eventually(() => primary.sql('postgres', "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") === '1', { what: 'the standby to stream' });
  if (synchronous) {
    primary.sql('postgres', "ALTER SYSTEM SET synchronous_standby_names = 'standby'");
    primary.sql('postgres', 'SELECT pg_reload_conf()');
    await eventually(() => primary.sql('postgres', "SELECT sync_state FROM pg_stat_replication") === 'sync', { what: 'the standby to be synchronous' });
  }
  return standby;
}

/**
 * Wraps a server from startServer() so tests may kill it, stop it and start it again on the
 * same config file. url and secret stay readable on the wrapper across restarts.
 */
export function managedServer(started) {
  const server = {
    url: started.url,
    secret: started.secret,
    database: started.database,
    configFile: started.configFile,
    current: started,
    starts: 1,
    earlierLogs: '',
    /** The output of every process this wrapper started, the running one last. */
    logs() {
      return server.earlierLogs + (server.current ? server.current.logs() : '');
    },
    async start() {
      const handle = await spawnServer(server.configFile);
      server.current = handle;
      if (handle.url) server.url = handle.url;
      server.starts++;
      return handle;
    },
    /** SIGKILL: no chance to finish anything. */
    async kill() {
      const handle = server.current;
      server.current = null;
      if (handle) await handle.kill();
      server.earlierLogs += handle ? handle.logs() : '';
    },
    /** SIGTERM: resolves to {code, signal, ms, logs} once it has exited. */
    async terminate() {
      const handle = server.current;
      server.current = null;
      const started = Date.now();
      handle.child.kill('SIGTERM');
      const info = await handle.exited;
      server.earlierLogs += handle.logs();
      return { ...info, ms: Date.now() - started, logs: handle.logs() };
    },
    /** SIGTERM, then checks it exited cleanly (and, in sanitized builds, without reports). */
    async stop() {
      const handle = server.current;
      server.current = null;
      if (handle) await handle.stop();
      server.earlierLogs += handle ? handle.logs() : '';
    },
  };
  return server;
}

/** What a failure report needs of an answer other than 202 or 200: its X-Request-Id and body. */
function answerDetail(answer) {
  if (!answer || answer.status === 200 || answer.status === 202) return {};
  return { requestId: answer.headers?.get('x-request-id') ?? null, text: answer.text };
}

/**
 * Answers whose status is not in `allowed`, each with its body and the server's log lines that
 * carry its request id, then the servers' error lines (a database error is logged without a
 * request id): the text of an assertion message, so that a failure says what went wrong.
 */
export function unexpectedAnswers(results, allowed, server) {
  const unexpected = results.filter((r) => !allowed.includes(String(r.status)));
  if (!unexpected.length) return '';
  const logs = server.logs().split('\n');
  const answers = unexpected.map((r) => `${r.status} ${r.text ?? ''}\n${logs.filter((l) => r.requestId && l.includes(`rid=${r.requestId}`)).join('\n')}`);
  return [...answers, 'error lines:', ...logs.filter((l) => / error rid=/.test(l)).slice(-40)].join('\n');
}

/**
 * Steady intake load: `concurrency` loops each posting a fresh signed post, one at a time, to
 * `target` (anything with url and secret, read at every request so a restarted server is
 * followed). Every answer is recorded: {id, status, draftId, at, done}, and for an answer other
 * than 202 its requestId and text (status 0: no answer, the
 * connection failed). `onHeld(draftId)` is called for each 202.
 */
export function intakeLoad(target, { concurrency = 4, onHeld = () => {}, post = () => samplePost() } = {}) {
  const load = { results: [], running: true, loops: [] };
  const loop = async () => {
    while (load.running) {
      const id = webhookId();
      const at = Date.now();
      let status = 0;
      let draftId = null;
      let answer = null;
      try {
        answer = await postIntake(target, post(), { id });
        status = answer.status;
        if (status === 202) {
          draftId = answer.json?.draft_id ?? null;
          onHeld(draftId);
        }
      } catch {
        // the server is not there (killed, restarting): no answer; a short pause paces the
        // load until it is back (load pacing, not a wait for an event)
        await new Promise((r) => setTimeout(r, 20));
      }
      load.results.push({ id, status, draftId, at, done: Date.now(), ...answerDetail(answer) });
    }
  };
  for (let i = 0; i < concurrency; i++) load.loops.push(loop());
  load.stop = async () => {
    load.running = false;
    await Promise.all(load.loops);
  };
  load.count = (status) => load.results.filter((r) => r.status === status).length;
  return load;
}

/**
 * Steady approvals: `concurrency` loops that take held drafts from a queue and approve them
 * through the signed decision API (CONTRACT §4.2). A draft whose decision got no answer or a
 * 503 goes back into the queue; 409 (no longer pending) after such a retry means the first
 * attempt committed. Records {draftId, status} of every attempt (requestId and text too when
 * it was not answered 200); `approved` holds the drafts
 * whose approval was answered 200.
 */
export function approvalLoad(target, { concurrency = 2 } = {}) {
  const load = { queue: [], attempts: [], approved: new Set(), running: true, loops: [] };
  // An idle loop sleeps until add() or stop() wakes it, rather than polling the queue.
  let wake = null;
  let woken = new Promise((r) => { wake = r; });
  const wakeAll = () => {
    wake();
    woken = new Promise((r) => { wake = r; });
  };
  const loop = async () => {
    while (load.running || load.queue.length) {
      const draftId = load.queue.shift();
      if (!draftId) {
        if (!load.running) break;
        await woken;
        continue;
      }
      let status = 0;
      let answer = null;
      try {
        answer = await decide(target, draftId, { actor: { id: '1001', name: 'alice' } });
        status = answer.status;
      } catch {
        status = 0;
      }
      load.attempts.push({ draftId, status, ...answerDetail(answer) });
      if (status === 200) load.approved.add(draftId);
      else if (status === 0 || status === 503) {
        // back in the queue, tried again after a short pause: load pacing while the server or
        // the database is away, not a wait for an event
        load.queue.push(draftId);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  for (let i = 0; i < concurrency; i++) load.loops.push(loop());
  load.add = (draftId) => {
    if (!draftId) return;
    load.queue.push(draftId);
    wakeAll();
  };
  /** Stops taking new drafts once the queue is empty (retries of unanswered ones included). */
  load.stop = async () => {
    load.running = false;
    wakeAll();
    await Promise.all(load.loops);
  };
  return load;
}

/** How many drafts of the held ids PostgreSQL has (checked in one statement). */
export function draftsFound(cluster, database, heldResults) {
  if (heldResults.length === 0) return 0;
  const values = heldResults.map((r) => `('${r.draftId}'::uuid, '${r.id.replace(/'/g, "''")}')`).join(',\n');
  return Number(cluster.sql(database, `SELECT count(*) FROM (VALUES ${values}) AS held (draft_id, webhook_id)
    JOIN drafts d ON d.id = held.draft_id AND d.webhook_id = held.webhook_id`));
}

/** `agentgate audit verify` with this config: {status, stdout, stderr}. */
export function auditVerify(configFile) {
  return runCli(['--config', configFile, 'audit', 'verify']);
}

/** Counts of statuses in a list of results, e.g. {202: 40, 503: 3, 0: 1}. */
export function statusCounts(results) {
  const counts = {};
  for (const r of results) counts[r.status] = (counts[r.status] || 0) + 1;
  return counts;
}
