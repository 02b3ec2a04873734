// Driver of tests/bench/history.sh: see there for what is measured and how.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { newSecret, psql, startServer } from '../lib/harness.mjs';
import { devSignIn } from '../lib/web.mjs';

const DATABASE = process.env.BENCH_DATABASE;
const REQUESTS = Number(process.env.BENCH_REQUESTS || 200);
const WARMUP = Number(process.env.BENCH_WARMUP || 20);
const TARGET_P95_MS = 50;
const TARGET_ROWS_PER_S = 100000;
const FLAT_MB = 20; // "memory flat": the server grows by less than this during an export

if (!DATABASE) throw new Error('BENCH_DATABASE is not set: run tests/bench/history.sh');

/** mulberry32: the same filters on every run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const ms = (x) => `${x.toFixed(1)} ms`;

/** The server's resident memory (VmRSS) and its high-water mark (VmHWM), in MB. */
function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/**
 * The page requests: every filter alone and combined, over the shapes the data has (see
 * history_data.sql), a third of them deep in the history through a cursor. Returns
 * [{kind, query}].
 */
function requestMix(count, seed, nowMs) {
  const rand = prng(seed);
  const int = (n) => Math.floor(rand() * n);
  const pick = (list) => list[int(list.length)];
  const states = ['pending', 'approved', 'released', 'release_failed', 'rejected', 'expired', 'revoked'];
  const common = ['restart', 'worker', 'error', 'deploy', 'queue', 'timeout', 'database', 'cache'];
  const word = () => {
    const r = rand();
    if (r < 0.3) return pick(common);
    if (r < 0.7) return `term${100 + int(1900)}`; // medium
    return `term${2000 + int(3000)}`; // rare
  };
  const day = (daysAgo) => new Date(nowMs - daysAgo * 86400000).toISOString().slice(0, 10);
  const agent = () => (rand() < 0.5 ? `agent-${Math.floor(300 * rand() ** 2)}` : `Agent ${Math.floor(300 * rand() ** 2)}`);
  const invoker = () => {
    const n = Math.floor(20000 * rand() ** 1.5);
    return rand() < 0.5 ? String(1000 + n) : `user${n}`;
  };
  const decider = () => (rand() < 0.3 ? `moderator${int(20)}` : invoker());
  const shapes = [
    ['none', () => ({})],
    ['state', () => ({ state: pick(states) })],
    ['agent', () => ({ agent: agent() })],
    ['invoker', () => ({ invoker: invoker() })],
    ['decider', () => ({ decider: decider() })],
    ['time range', () => {
      const from = 1 + int(360);
      return { from: day(from), to: day(from - 1 - int(14)) };
    }],
    ['text', () => ({ q: rand() < 0.15 ? `"${pick(common)} ${pick(common)}"` : word() })],
    ['state+agent', () => ({ state: pick(states), agent: agent() })],
    ['state+text', () => ({ state: pick(['released', 'rejected', 'pending']), q: word() })],
    ['agent+time', () => ({ agent: agent(), from: day(30 + int(300)) })],
    ['invoker+text', () => ({ invoker: invoker(), q: pick(common) })],
    ['decider+state', () => ({ decider: decider(), state: pick(['released', 'rejected', 'revoked']) })],
  ];
  const requests = [];
  for (let i = 0; i < count; i++) {
    const [kind, make] = shapes[i % shapes.length];
    const filters = make();
    // a third of the pages are deep: a cursor somewhere in the last year
    if (rand() < 0.33) {
      const us = BigInt(nowMs - int(360) * 86400000 - int(86400000)) * 1000n;
      filters.after = `${us}:ffffffff-ffff-ffff-ffff-ffffffffffff`;
    }
    requests.push({ kind: filters.after ? `${kind} (deep)` : kind, query: new URLSearchParams(filters).toString() });
  }
  return requests;
}

/** EXPLAIN ANALYZE of the query a page runs, condensed to its scans and time. */
async function explain(label, args) {
  const [state, agent, invoker, decider, from, to, q, afterAt] = args.map((a) => (a === null ? 'NULL' : `'${a.replace(/'/g, "''")}'`));
  const sql = await psql(DATABASE, `SELECT history_sql(${state}, m.agent_mode, m.invoker_mode, m.decider_mode, ${from}::timestamptz, ${to}::timestamptz, CASE WHEN ${q}::text IS NULL THEN NULL ELSE websearch_to_tsquery('simple', ${q}) END, ${afterAt}::timestamptz, 51, true) FROM history_modes('eng', ${agent}, ${invoker}, ${decider}) m`);
  const plan = await psql(DATABASE, `PREPARE h(text, text, text, text, text, timestamptz, timestamptz, tsquery, timestamptz, uuid, integer) AS ${sql};
    EXPLAIN (ANALYZE, COSTS OFF) EXECUTE h('eng', ${state}, ${agent}, ${invoker}, ${decider}, ${from}, ${to}, CASE WHEN ${q}::text IS NULL THEN NULL ELSE websearch_to_tsquery('simple', ${q}) END, ${afterAt}, 'ffffffff-ffff-ffff-ffff-ffffffffffff', 51)`);
  const lines = plan.split('\n');
  const scans = [...new Set(lines.filter((l) => /Scan|Sort|Merge|Hash Join/.test(l)).map((l) => l.trim().replace(/ \(actual.*$/, '')))];
  const time = lines.find((l) => l.startsWith('Execution Time')) || '';
  console.log(`  ${label.padEnd(34)} ${time.replace('Execution Time: ', '').padStart(10)}  ${scans.slice(0, 4).join(' | ')}`);
}

/** Streams an export, counting rows, while sampling the server's memory every 20 ms. */
async function exportRun(srv, client, path) {
  const before = memory(srv.child.pid);
  let peak = before.rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memory(srv.child.pid).rss);
  }, 20);
  const started = performance.now();
  const res = await fetch(`${srv.url}${path}`, { headers: { cookie: client.cookie } });
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body) {
    bytes += chunk.length;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const after = memory(srv.child.pid);
  peak = Math.max(peak, after.rss);
  return { seconds, bytes, lines, before, peak, after };
}

const srv = await startServer({
  database: DATABASE,
  server: { threads: 8, log_level: 'warn', request_timeout: '10m' },
  forums: { eng: { inbound_secret: newSecret(), rate_limit: 'none' }, ops: { inbound_secret: newSecret(), rate_limit: 'none' } },
  delivery: { workers: 0 },
});
try {
  const moderator = await devSignIn(srv, { user_id: '9001', username: 'benchmod', groups: 'moderators' });
  const engDrafts = Number(await psql(DATABASE, "SELECT count(*) FROM drafts WHERE forum = 'eng'"));
  const nowMs = Date.now();

  console.log('\nPlans at this scale (EXPLAIN ANALYZE of the page query, forum eng):');
  const deep = new Date(nowMs - 200 * 86400000).toISOString();
  await explain('newest 51', [null, null, null, null, null, null, null, null]);
  await explain('state=rejected, deep cursor', ['rejected', null, null, null, null, null, null, deep]);
  await explain('agent=agent-7', [null, 'agent-7', null, null, null, null, null, null]);
  await explain('invoker=user15000', [null, null, 'user15000', null, null, null, null, null]);
  await explain('decider=moderator3', [null, null, null, 'moderator3', null, null, null, null]);
  await explain('from..to (one week)', [null, null, null, null, new Date(nowMs - 100 * 86400000).toISOString(), new Date(nowMs - 93 * 86400000).toISOString(), null, null]);
  await explain('q=restart (common)', [null, null, null, null, null, null, 'restart', null]);
  await explain('q=term300 (medium)', [null, null, null, null, null, null, 'term300', null]);
  await explain('q=term4900 (rare)', [null, null, null, null, null, null, 'term4900', null]);
  await explain('q=nosuchword (none)', [null, null, null, null, null, null, 'nosuchword', null]);
  await explain('state=pending, q=term300', ['pending', null, null, null, null, null, 'term300', null]);

  const get = async (query) => {
    const started = performance.now();
    const res = await fetch(`${srv.url}/history${query ? '?' + query : ''}`, { headers: { cookie: moderator.cookie } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`/history?${query} answered ${res.status}: ${text.slice(0, 200)}`);
    return performance.now() - started;
  };
  for (const r of requestMix(WARMUP, 7, nowMs)) await get(r.query);
  const mix = requestMix(REQUESTS, 20261124, nowMs);
  const timings = [];
  for (const r of mix) timings.push({ kind: r.kind, ms: await get(r.query) });
  const sorted = timings.map((t) => t.ms).sort((a, b) => a - b);
  const p95 = quantile(sorted, 0.95);

  console.log(`\nFiltered /history pages: ${REQUESTS} requests one after another (after ${WARMUP} warm-up), ${engDrafts} drafts in the forum`);
  console.log(`  p50 ${ms(quantile(sorted, 0.5))}   p95 ${ms(p95)}   p99 ${ms(quantile(sorted, 0.99))}   max ${ms(sorted.at(-1))}`);
  const kinds = [...new Set(timings.map((t) => t.kind.replace(' (deep)', '')))];
  for (const kind of kinds) {
    const list = timings.filter((t) => t.kind.replace(' (deep)', '') === kind).map((t) => t.ms).sort((a, b) => a - b);
    console.log(`  ${kind.padEnd(14)} n=${String(list.length).padStart(3)}  p50 ${ms(quantile(list, 0.5)).padStart(9)}  max ${ms(list.at(-1)).padStart(9)}`);
  }

  console.log(`\nFull exports of forum eng (${engDrafts} rows), server memory sampled every 20 ms:`);
  const results = {};
  for (const [format, path] of [['csv', '/history.csv'], ['ndjson', '/history.ndjson']]) {
    const r = await exportRun(srv, moderator, path);
    const rows = format === 'csv' ? r.lines - 1 : r.lines;
    if (rows !== engDrafts) throw new Error(`${format}: ${rows} rows, expected ${engDrafts}`);
    results[format] = { ...r, rows, rate: rows / r.seconds };
    console.log(`  ${format.padEnd(6)} ${rows} rows, ${(r.bytes / 1048576).toFixed(0)} MB in ${r.seconds.toFixed(2)} s: ${Math.round(rows / r.seconds)} rows/s; ` +
      `RSS ${r.before.rss.toFixed(1)} MB before, ${r.peak.toFixed(1)} MB peak during, ${r.after.rss.toFixed(1)} MB after (VmHWM ${r.before.hwm.toFixed(1)} -> ${r.after.hwm.toFixed(1)} MB)`);
  }
  const csv = results.csv;
  const growth = Math.max(csv.peak - csv.before.rss, results.ndjson.peak - results.ndjson.before.rss);
  console.log('\nResult                               measured        target');
  console.log(`  filtered page p95                  ${ms(p95).padStart(12)}    <= ${TARGET_P95_MS} ms    ${p95 <= TARGET_P95_MS ? 'met' : 'MISSED'}`);
  console.log(`  full CSV export                    ${String(Math.round(csv.rate)).padStart(8)} rows/s  >= ${TARGET_ROWS_PER_S} rows/s  ${csv.rate >= TARGET_ROWS_PER_S ? 'met' : 'MISSED'}`);
  console.log(`  memory growth during an export     ${growth.toFixed(1).padStart(9)} MB    flat (< ${FLAT_MB} MB while ${(csv.bytes / 1048576).toFixed(0)} MB streamed)  ${growth < FLAT_MB ? 'met' : 'MISSED'}`);
} finally {
  await srv.stop();
}
