// Driver of tests/bench/delivery.sh: see there for what is measured and how.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decide, eventually, newSecret, postIntake, psql, samplePost, startServer } from '../lib/harness.mjs';

const DRAFTS = Number(process.env.BENCH_DRAFTS || 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 8);
const RATE = Number(process.env.BENCH_RATE || 100); // approvals per second; 0: as fast as possible

async function pool(items, size, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

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
const inbound = newSecret();
const srv = await startServer({
  server: { threads: 16, log_level: 'warn' },
  forums: { eng: { inbound_secret: inbound, rate_limit: 'none', release_url: forum.url, release_secret: releaseSecret } },
  delivery: { workers: 4 },
});
srv.secret = inbound;
try {
  console.log(`holding ${DRAFTS} drafts`);
  const ids = [];
  await pool(Array.from({ length: DRAFTS }, (_, i) => i), 16, async (i) => {
    const res = await postIntake(srv, samplePost({ agent: { id: `bot-${i % 16}`, name: `bot${i % 16}` }, post: { topic_id: String(1000 + i), body: `Answer number ${i}: restart the worker.` } }));
    if (res.status !== 202) throw new Error(`intake ${res.status} ${res.text}`);
    ids.push(res.json.draft_id);
  });
  console.log(`approving them, ${CONCURRENCY} at a time`);
  const started = Date.now();
  let sent = 0;
  await pool(ids, CONCURRENCY, async (id) => {
    if (RATE > 0) {
      const due = started + (sent++ * 1000) / RATE;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    }
    const res = await decide(srv, id);
    if (res.status !== 200) throw new Error(`decision ${res.status} ${res.text}`);
  });
  const approveSeconds = (Date.now() - started) / 1000;
  const approvedEvents = () => new Set(forum.received.filter((e) => e.type === 'draft.approved').map((e) => e.id)).size;
  await eventually(() => approvedEvents() >= DRAFTS, { what: 'every approval delivered' });
  const received = new Map();
  for (const e of forum.received) if (e.type === 'draft.approved' && !received.has(e.draft)) received.set(e.draft, e.at);
  const commits = (await psql(srv.database, "SELECT draft_id || ' ' || (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000)::text FROM audit_events WHERE action = 'draft.approve'"))
    .split('\n').map((line) => line.split(' '));
  const latencies = commits.map(([id, ms]) => received.get(id) - Number(ms)).sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  const p50 = pct(50);
  const p99 = pct(99);
  console.log('');
  console.log(`machine: ${(await import('node:os')).cpus().length} cores; ${DRAFTS} approvals in ${approveSeconds.toFixed(1)} s (${(DRAFTS / approveSeconds).toFixed(0)}/s${RATE ? `, paced at ${RATE}/s` : ', unpaced'}), 4 delivery workers, durable commits`);
  console.log(`approval commit -> forum received: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms, min ${latencies[0].toFixed(1)} ms`);
  console.log(`targets: p50 <= 20 ms (${p50 <= 20 ? 'met' : 'MISSED'}), p99 <= 100 ms (${p99 <= 100 ? 'met' : 'MISSED'})`);
  const dup = forum.received.filter((e) => e.type === 'draft.approved').length - DRAFTS;
  child.send('stop');
  await new Promise((r) => child.on('exit', r));
  console.log(`duplicate deliveries: ${dup}; signature failures at the forum: ${forum.rejected}`);
} finally {
  await srv.stop();
  if (child.exitCode === null) child.kill();
}
