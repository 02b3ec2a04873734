// Driver of tests/bench/delivery.sh: see there for what is measured and how.
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decide, eventually, newSecret, postIntake, psql, samplePost, startServer } from '../lib/harness.mjs';

const DRAFTS = Number(process.env.BENCH_DRAFTS || 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 8);
const RATE = Number(process.env.BENCH_RATE || 100); // approvals per second when paced
const RUNS = Number(process.env.BENCH_RUNS || 3);
const MODES = (process.env.BENCH_MODES || 'paced,unpaced').split(',');

async function pool(items, size, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** Thrown for a figure that cannot be true: the measurement is wrong, not the system slow. */
class ImpossibleFigure extends Error {}

// The instrument: a row written by the approving transaction itself (an AFTER INSERT trigger on
// its draft.approve audit event) and never written again, so that its xmin stays that
// transaction's xid and pg_xact_commit_timestamp(xmin) is the approval's commit time. Not the
// audit event's own xmin: the sealer UPDATEs audit events, which gives them the sealer's xid.
const INSTRUMENT = `
  CREATE TABLE bench_approval (draft_id uuid PRIMARY KEY, xid xid8 NOT NULL,
    written_at timestamptz NOT NULL);
  CREATE FUNCTION bench_approval_note() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO bench_approval VALUES (NEW.draft_id, pg_current_xact_id(), clock_timestamp());
    RETURN NULL;
  END $$;
  CREATE TRIGGER bench_approval_note AFTER INSERT ON audit_events FOR EACH ROW
    WHEN (NEW.action = 'draft.approve') EXECUTE FUNCTION bench_approval_note();`;

const releaseSecret = newSecret();
const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'forum_process.mjs'), { env: { ...process.env, RELEASE_SECRET: releaseSecret } });
const forum = { received: [], rejected: 0, url: null };
await new Promise((resolve) => child.on('message', (m) => {
  if (m.kind === 'ready') {
    forum.url = m.url;
    resolve();
  } else if (m.kind === 'received') forum.received.push(m);
  else if (m.kind === 'rejected') forum.rejected = m.count;
}));

async function run(label, rate) {
  const inbound = newSecret();
  const srv = await startServer({
    server: { threads: 16, log_level: 'warn' },
    forums: { eng: { inbound_secret: inbound, rate_limit: 'none', release_url: forum.url, release_secret: releaseSecret } },
    delivery: { workers: 4 },
  });
  srv.secret = inbound;
  try {
    await psql(srv.database, INSTRUMENT);
    const ids = [];
    await pool(Array.from({ length: DRAFTS }, (_, i) => i), 16, async (i) => {
      const res = await postIntake(srv, samplePost({ agent: { id: `bot-${i % 16}`, name: `bot${i % 16}` }, post: { topic_id: String(1000 + i), body: `Answer number ${i}: restart the worker.` } }));
      if (res.status !== 202) throw new Error(`intake ${res.status} ${res.text}`);
      ids.push(res.json.draft_id);
    });
    const mine = new Set(ids);
    const started = Date.now();
    let sent = 0;
    await pool(ids, CONCURRENCY, async (id) => {
      if (rate > 0) {
        const due = started + (sent++ * 1000) / rate;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      const res = await decide(srv, id);
      if (res.status !== 200) throw new Error(`decision ${res.status} ${res.text}`);
    });
    const approveSeconds = (Date.now() - started) / 1000;
    const approved = () => forum.received.filter((e) => e.type === 'draft.approved' && mine.has(e.draft));
    await eventually(() => new Set(approved().map((e) => e.draft)).size >= DRAFTS, { what: 'every approval delivered' });
    const finished = Date.now();
    const received = new Map();
    for (const e of approved()) if (!received.has(e.draft)) received.set(e.draft, e.at);

    // xmin::text::bigint is the 32-bit xid; it must be the low half of the xid noted at the
    // insert, else the row was written again and its commit time is someone else's
    const rows = (await psql(srv.database, `SELECT b.draft_id,
        (extract(epoch FROM pg_xact_commit_timestamp(b.xmin)) * 1000)::text,
        (extract(epoch FROM b.written_at) * 1000)::text,
        (b.xmin::text::bigint = b.xid::text::bigint % 4294967296)::text
      FROM bench_approval b`)).split('\n').filter(Boolean).map((line) => line.split('|'));
    if (rows.length !== DRAFTS) throw new ImpossibleFigure(`${rows.length} approvals noted for ${DRAFTS} decisions`);
    const latencies = [];
    for (const [id, committedMs, writtenMs, sameXid] of rows) {
      const committed = Number(committedMs);
      const at = received.get(id);
      if (sameXid !== 'true') throw new ImpossibleFigure(`the approval of ${id} was rewritten by a later transaction`);
      if (!(committed >= Number(writtenMs))) throw new ImpossibleFigure(`the approval of ${id} committed (${committed}) before it was written (${writtenMs})`);
      if (at === undefined) throw new ImpossibleFigure(`the forum has no draft.approved for ${id}`);
      const latency = at - committed;
      if (!(latency >= 0) || latency > finished - started) {
        throw new ImpossibleFigure(`approval of ${id}: commit -> forum ${latency.toFixed(1)} ms, outside 0..${finished - started} ms (the run)`);
      }
      latencies.push(latency);
    }
    latencies.sort((a, b) => a - b);
    const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
    const result = { label, p50: pct(50), p99: pct(99), max: latencies.at(-1), min: latencies[0], rate: DRAFTS / approveSeconds };
    const duplicates = approved().length - DRAFTS;
    console.log(`${label}: ${DRAFTS} approvals in ${approveSeconds.toFixed(1)} s (${result.rate.toFixed(0)}/s${rate ? `, paced at ${rate}/s` : ', unpaced'}); commit -> forum p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, min ${result.min.toFixed(1)} ms, max ${result.max.toFixed(1)} ms; duplicates ${duplicates}`);
    return result;
  } finally {
    await srv.stop();
  }
}

let failed = false;
try {
  console.log(`machine: ${os.cpus().length} cores; ${DRAFTS} approvals per run, ${CONCURRENCY} at a time, 4 delivery workers, durable commits`);
  const results = { paced: [], unpaced: [] };
  for (let r = 1; r <= RUNS; r++) {
    for (const mode of MODES) results[mode].push(await run(`run ${r} ${mode}`, mode === 'paced' ? RATE : 0));
  }
  console.log('');
  const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  for (const mode of MODES) {
    const runs = results[mode];
    const p50s = runs.map((x) => x.p50);
    const p99s = runs.map((x) => x.p99);
    console.log(`${mode} (${runs.length} runs): p50 median ${median(p50s).toFixed(1)} ms, worst ${Math.max(...p50s).toFixed(1)} ms; p99 median ${median(p99s).toFixed(1)} ms, worst ${Math.max(...p99s).toFixed(1)} ms`);
    console.log(`  targets: p50 <= 20 ms (${Math.max(...p50s) <= 20 ? 'met' : 'MISSED'} in the worst run), p99 <= 100 ms (${Math.max(...p99s) <= 100 ? 'met' : 'MISSED'} in the worst run)`);
  }
} catch (e) {
  failed = true;
  console.error(e instanceof ImpossibleFigure ? `error: impossible figure, the measurement is wrong: ${e.message}` : e);
} finally {
  child.send('stop');
  await new Promise((r) => child.on('exit', r));
  console.log(`signature failures at the forum: ${forum.rejected}`);
  if (forum.rejected) failed = true;
}
process.exit(failed ? 1 : 0);
