// Driver of tests/bench/audit.sh: see there for what is measured and how.
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decide, eventually, newSecret, postIntake, psql, runCli, samplePost, startServer } from '../lib/harness.mjs';

const CLIENTS = Number(process.env.BENCH_CLIENTS || 64);
const DURATION = Number(process.env.BENCH_DURATION || 20);
const BULK = Number(process.env.BENCH_BULK || 100000);

// Notes each event's writing transaction in a row nothing rewrites (see audit.sh).
const INSTRUMENT = `
  CREATE TABLE bench_written (event_id bigint PRIMARY KEY, xid xid8 NOT NULL);
  CREATE FUNCTION bench_written_note() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO bench_written VALUES (NEW.id, pg_current_xact_id());
    RETURN NULL;
  END $$;
  CREATE TRIGGER bench_written_note AFTER INSERT ON audit_events FOR EACH ROW
    EXECUTE FUNCTION bench_written_note();`;

const fail = (message) => {
  console.error(`error: ${message}`);
  process.exit(1);
};
const ms = (value) => `${Number(value).toFixed(1)} ms`;

const releaseSecret = newSecret();
const forumProcess = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'forum_process.mjs'), { env: { ...process.env, RELEASE_SECRET: releaseSecret } });
const forumUrl = await new Promise((resolve) => forumProcess.on('message', (m) => m.kind === 'ready' && resolve(m.url)));
const inbound = newSecret();
const options = {
  server: { threads: 16, log_level: 'warn' },
  forums: { eng: { inbound_secret: inbound, rate_limit: 'none', release_url: forumUrl, release_secret: releaseSecret } },
  delivery: { workers: 2 },
};
const first = await startServer(options);
const servers = [first, await startServer({ ...options, database: first.database, secret: inbound })];
first.secret = inbound;
const database = first.database;
await psql(database, INSTRUMENT);
console.log(`machine: ${os.cpus().length} cores; ${CLIENTS} clients for ${DURATION} s on two serve processes, durable commits`);

// 1. load
let intakes = 0;
let approvals = 0;
const deadline = Date.now() + DURATION * 1000;
const started = Date.now();
await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
  for (let i = client; Date.now() < deadline; i += CLIENTS) {
    const res = await postIntake(servers[i % 2], samplePost({ agent: { id: `bot-${i % 64}`, name: `bot ${i % 64}` }, invoker: { id: String(2000 + (i % 200)), name: `user${i % 200}` }, post: { topic_id: String(i), body: `Answer ${i}: restart the worker.` } }));
    if (res.status !== 202) fail(`intake answered ${res.status} ${res.text}`);
    intakes++;
    if (i % 4 === 0) {
      const r = await decide(servers[(i + 1) % 2], res.json.draft_id, { actor: { id: String(2000 + (i % 200)), name: `user${i % 200}` } });
      if (r.status !== 200) fail(`decision answered ${r.status} ${r.text}`);
      approvals++;
    }
  }
}));
const loadSeconds = (Date.now() - started) / 1000;
// let the sealers finish what the load wrote (the figure below is from commit times, not this wait)
await eventually(async () => {
  const pending = Number(await psql(database, `SELECT count(*) FROM audit_events WHERE seq IS NULL`));
  const approved = Number(await psql(database, `SELECT count(*) FROM drafts WHERE state = 'approved'`));
  return pending === 0 && approved === 0;
}, { what: 'every event sealed and every approval released' });
const written = Number(await psql(database, 'SELECT count(*) FROM bench_written'));
const [p50, p99, max, min, firstWrite, lastSeal] = (await psql(database, `
  WITH t AS (
    SELECT extract(epoch FROM pg_xact_commit_timestamp(e.xmin) - pg_xact_commit_timestamp(w.xmin)) * 1000 AS delay,
      pg_xact_commit_timestamp(w.xmin) AS written_at, pg_xact_commit_timestamp(e.xmin) AS sealed_at
    FROM audit_events e JOIN bench_written w ON w.event_id = e.id)
  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY delay), percentile_cont(0.99) WITHIN GROUP (ORDER BY delay),
    max(delay), min(delay), extract(epoch FROM min(written_at)), extract(epoch FROM max(sealed_at)) FROM t`)).split('|').map(Number);
if (!(min >= 0)) fail(`impossible figure: an event was sealed ${ms(-min)} before its own commit`);
const sealSpan = lastSeal - firstWrite;
console.log(`load: ${intakes} intakes and ${approvals} approvals in ${loadSeconds.toFixed(1)} s (${(intakes / loadSeconds).toFixed(0)} intakes/s); ${written} audit events written, ${(written / loadSeconds).toFixed(0)} events/s`);
console.log(`sealed under load: ${written} events between the first write and the last seal (${sealSpan.toFixed(1)} s), ${(written / sealSpan).toFixed(0)} events/s`);
console.log(`event commit -> seal commit: p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(max)} (min ${ms(min)})`);
for (const s of servers) await s.stop();
forumProcess.send('stop');

// 2. sealing alone
await psql(database, 'DROP TRIGGER bench_written_note ON audit_events');
let t = Date.now();
await psql(database, `INSERT INTO audit_events (actor, action, forum, draft_id, details)
  SELECT 'agent:bot-' || (n % 64), 'intake.held', 'eng', gen_random_uuid(),
    jsonb_build_object('webhook_id', 'msg_' || n, 'agent', jsonb_build_object('id', 'bot-' || (n % 64), 'name', 'bot'),
      'invoker', jsonb_build_object('id', (2000 + n % 200)::text, 'name', 'user'), 'flags', 0)
  FROM generate_series(1, ${BULK}) n`);
const insertSeconds = (Date.now() - t) / 1000;
t = Date.now();
let sealedAlone = 0;
for (;;) {
  const n = Number(await psql(database, 'SELECT audit_seal(5000)'));
  if (n === 0) break;
  sealedAlone += n;
}
const sealSeconds = (Date.now() - t) / 1000;
if (sealedAlone !== BULK) fail(`sealed ${sealedAlone} of ${BULK} events`);
console.log(`alone: ${BULK} events inserted in ${insertSeconds.toFixed(1)} s (${(BULK / insertSeconds).toFixed(0)}/s), sealed in ${sealSeconds.toFixed(1)} s (${(BULK / sealSeconds).toFixed(0)}/s, one sealer)`);

// 3. verification
t = Date.now();
const verify = await runCli(['--config', first.configFile, 'audit', 'verify']);
const verifySeconds = (Date.now() - t) / 1000;
if (verify.status !== 0) fail(`audit verify: ${verify.stderr}`);
const events = Number(/intact: (\d+) events/.exec(verify.stdout)[1]);
console.log(`audit verify: ${events} events in ${verifySeconds.toFixed(1)} s (${(events / verifySeconds).toFixed(0)} events/s): ${verify.stdout.trim()}`);
process.exit(0);
