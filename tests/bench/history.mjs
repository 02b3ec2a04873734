// Driver of tests/bench/history.sh: see there for what is measured and how.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { PGHOST, PGPORT, newSecret, psql, startServer } from '../lib/harness.mjs';
import { devSignIn } from '../lib/web.mjs';

const DATABASE = process.env.BENCH_DATABASE;
const REQUESTS = Number(process.env.BENCH_REQUESTS || 200);
const WARMUP = Number(process.env.BENCH_WARMUP || 20);
const RUNS = Number(process.env.BENCH_RUNS || 3);
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

/** Runs SQL through psql and returns its standard error (where auto_explain's plans go). */
function psqlPlans(sql) {
  const result = spawnSync('psql', ['-X', '-qtA', '-v', 'ON_ERROR_STOP=1', '-h', PGHOST, '-p', String(PGPORT), '-U', 'postgres', '-d', DATABASE, '-c', sql], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stderr;
}

/** What a statement inside history_page() is, from its text. */
function stepOf(text) {
  if (text.includes('WITH w AS')) return 'walk';
  if (text.includes('WITH f AS')) return 'people';
  if (text.includes('s.search @@ p_query')) return 'index';
  if (text.includes('unnest($12')) return 'pick';
  if (text.includes('json_agg')) return 'rows';
  if (text.includes('history_page(')) return 'total';
  if (text.includes('FROM drafts d WHERE')) return 'range';
  return null;
}

/**
 * The plans a page really runs, from auto_explain (every statement inside history_page() with
 * its actual row counts): for each step, the scans it used, the rows its top node returned
 * and its duration.
 */
function explainPage(label, args) {
  const value = (a) => (a === null ? 'NULL' : `'${String(a).replace(/'/g, "''")}'`);
  const [state, agent, invoker, decider, from, to, q, afterAt] = args.map(value);
  const after = afterAt === 'NULL' ? 'NULL, NULL' : `${afterAt}, 'ffffffff-ffff-ffff-ffff-ffffffffffff'`;
  const log = psqlPlans(`LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
    SET auto_explain.log_analyze = on; SET auto_explain.log_timing = off; SET auto_explain.log_level = warning;
    SELECT length(history_page('eng', ${state}, ${agent}, ${invoker}, ${decider}, ${from}, ${to}, ${q}, ${after}, 51))`);
  const blocks = log.split(/WARNING: {2}duration: /).slice(1);
  const steps = [];
  let total = '';
  for (const block of blocks) {
    const ms = /^([\d.]+) ms/.exec(block)[1];
    const text = (/Query Text: ([\s\S]*?)\n(?=\S)/.exec(block) || [])[1] || '';
    const step = stepOf(text);
    if (!step) continue;
    if (step === 'total') {
      total = ms;
      continue;
    }
    const lines = block.split('\n');
    const scans = [...new Set(lines.map((l) => /(Index Only Scan|Index Scan Backward|Index Scan|Bitmap Index Scan|Seq Scan|Bitmap Heap Scan) (?:using|on) (\w+)/.exec(l)).filter(Boolean).map((m) => `${m[1]} ${m[2]}`))];
    const sorts = lines.some((l) => /^\s*(->\s*)?Sort\b/.test(l) && !/top-N/.test(l)) ? ' +sort' : '';
    // the rows a step read: its first LIMIT's (the walk's budget, the index's matches)
    const rows = (/Limit[^\n]*\(actual rows=(\d+)/.exec(block) || /actual rows=(\d+)/.exec(block) || [])[1];
    steps.push(`      ${step.padEnd(7)}${ms.padStart(9)} ms  rows ${String(rows).padStart(6)}  ${scans.join(', ')}${sorts}`);
  }
  console.log(`  ${label.padEnd(44)} ${total.padStart(9)} ms`);
  for (const line of steps) console.log(line);
}

/** The export's plan under the export's own settings (db/history.c). */
function explainExport(label, filters) {
  const value = (a) => (a === undefined ? 'NULL' : `'${String(a).replace(/'/g, "''")}'`);
  const log = psqlPlans(`LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
    SET auto_explain.log_level = warning; SET jit = off; SET enable_hashjoin = off; SET enable_nestloop = off; SET enable_sort = off;
    BEGIN; SELECT history_open('c', 'eng', ${value(filters.state)}, ${value(filters.agent)}, NULL, NULL, NULL, NULL, ${value(filters.q)}); FETCH 1 FROM c; COMMIT`);
  const plan = log.split(/WARNING: {2}duration: /).find((b) => b.includes('d.id AS draft_id')) || '';
  const nodes = plan.split('\n').filter((l) => /Merge Join|Nested Loop|Hash Join|Sort|Scan/.test(l)).map((l) => l.trim().replace(/\s+\(cost.*$/, '').replace(/^->\s*/, ''));
  console.log(`  ${label.padEnd(44)} ${nodes.join(' | ')}`);
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
  const engDrafts = Number(await psql(DATABASE, "SELECT count(*) FROM drafts WHERE forum = 'eng'"));
  const nowMs = Date.now();

  console.log('\nPlans at this scale: every statement a page runs (auto_explain, actual rows), forum eng.');
  console.log('A page without text is one ordered index range ("range"); with text, history_search() races a walk');
  console.log('of draft_search in page order ("walk"), a walk of the people filters\' own index ("people") and the GIN');
  console.log('index ("index", then "pick") with budgets that grow fourfold a round (sql/history_search.sql); "rows"');
  console.log('reads the page\'s 51 drafts. "rows" below: what the step\'s first LIMIT returned.');
  const daysAgo = (n) => new Date(nowMs - n * 86400000).toISOString();
  explainPage('newest 51', [null, null, null, null, null, null, null, null]);
  explainPage('state=rejected, deep cursor', ['rejected', null, null, null, null, null, null, daysAgo(200)]);
  explainPage('agent=agent-7', [null, 'agent-7', null, null, null, null, null, null]);
  explainPage('invoker=user15000', [null, null, 'user15000', null, null, null, null, null]);
  explainPage('decider=moderator3', [null, null, null, 'moderator3', null, null, null, null]);
  explainPage('from..to (one week)', [null, null, null, null, daysAgo(100), daysAgo(93), null, null]);
  explainPage('q=restart (common)', [null, null, null, null, null, null, 'restart', null]);
  explainPage('q=term300 (medium)', [null, null, null, null, null, null, 'term300', null]);
  explainPage('q=term4900 (rare), deep', [null, null, null, null, null, null, 'term4900', daysAgo(200)]);
  explainPage('q=nosuchword (none)', [null, null, null, null, null, null, 'nosuchword', null]);
  explainPage('q="restart worker" (phrase)', [null, null, null, null, null, null, '"restart worker"', null]);
  explainPage('state=pending, q=term300', ['pending', null, null, null, null, null, 'term300', null]);
  explainPage('state=pending, q=restart, deep', ['pending', null, null, null, null, null, 'restart', daysAgo(100)]);
  explainPage('state=rejected, q=term300, deep', ['rejected', null, null, null, null, null, 'term300', daysAgo(200)]);
  explainPage('state=released, q=term4900 (rare)', ['released', null, null, null, null, null, 'term4900', null]);
  explainPage('state=rejected, q=restart', ['rejected', null, null, null, null, null, 'restart', null]);
  explainPage('invoker=user15000, q=restart', [null, null, 'user15000', null, null, null, 'restart', null]);
  console.log('\nExport plans (the export transaction turns hash joins, nested loops and sorts off):');
  explainExport('all of eng', {});
  explainExport('state=rejected', { state: 'rejected' });
  explainExport('agent=agent-7', { agent: 'agent-7' });
  explainExport('q=term300', { q: 'term300' });

  // signed in after the plans: a keep-alive connection idle that long would be closed meanwhile
  const moderator = await devSignIn(srv, { user_id: '9001', username: 'benchmod', groups: 'moderators' });
  const get = async (query) => {
    const started = performance.now();
    const res = await fetch(`${srv.url}/history${query ? '?' + query : ''}`, { headers: { cookie: moderator.cookie } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`/history?${query} answered ${res.status}: ${text.slice(0, 200)}`);
    return performance.now() - started;
  };
  const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

  /** One run: the page mix, then both exports; returns its figures. */
  async function run(number) {
    const loadBefore = load();
    for (const r of requestMix(WARMUP, 7 + number, nowMs)) await get(r.query);
    const timings = [];
    for (const r of requestMix(REQUESTS, 20261124, nowMs)) timings.push({ kind: r.kind, ms: await get(r.query) });
    const sorted = timings.map((t) => t.ms).sort((a, b) => a - b);
    console.log(`\nRun ${number}: ${REQUESTS} /history pages one after another (after ${WARMUP} warm-up), ${engDrafts} drafts in the forum; load average ${loadBefore} (1, 5, 15 min; 2 cores)`);
    console.log(`  p50 ${ms(quantile(sorted, 0.5))}   p95 ${ms(quantile(sorted, 0.95))}   p99 ${ms(quantile(sorted, 0.99))}   max ${ms(sorted.at(-1))}`);
    const kinds = [...new Set(timings.map((t) => t.kind.replace(' (deep)', '')))];
    const byKind = {};
    for (const kind of kinds) {
      const list = timings.filter((t) => t.kind.replace(' (deep)', '') === kind).map((t) => t.ms).sort((a, b) => a - b);
      byKind[kind] = { p50: quantile(list, 0.5), max: list.at(-1) };
      console.log(`  ${kind.padEnd(14)} n=${String(list.length).padStart(3)}  p50 ${ms(quantile(list, 0.5)).padStart(9)}  max ${ms(list.at(-1)).padStart(9)}`);
    }
    const exports = {};
    console.log(`  full exports of forum eng (${engDrafts} rows), server memory sampled every 20 ms:`);
    for (const [format, path] of [['csv', '/history.csv'], ['ndjson', '/history.ndjson']]) {
      const r = await exportRun(srv, moderator, path);
      const rows = format === 'csv' ? r.lines - 1 : r.lines;
      if (rows !== engDrafts) throw new Error(`${format}: ${rows} rows, expected ${engDrafts}`);
      exports[format] = { rate: rows / r.seconds, growth: r.peak - r.before.rss, bytes: r.bytes };
      console.log(`  ${format.padEnd(6)} ${rows} rows, ${(r.bytes / 1048576).toFixed(0)} MB in ${r.seconds.toFixed(2)} s: ${Math.round(rows / r.seconds)} rows/s; ` +
        `RSS ${r.before.rss.toFixed(1)} MB before, ${r.peak.toFixed(1)} MB peak during, ${r.after.rss.toFixed(1)} MB after (VmHWM ${r.before.hwm.toFixed(1)} -> ${r.after.hwm.toFixed(1)} MB)`);
    }
    console.log(`  load average after the run: ${load()}`);
    return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted.at(-1), byKind, exports };
  }

  const runs = [];
  for (let i = 1; i <= RUNS; i++) runs.push(await run(i));
  // the worst of the runs is the result; the median is shown beside it
  const worst = (f, higherIsWorse = true) => runs.map(f).sort((a, b) => (higherIsWorse ? b - a : a - b))[0];
  const median = (f) => quantile(runs.map(f).sort((a, b) => a - b), 0.5);
  const p95 = worst((r) => r.p95);
  const csvRate = worst((r) => r.exports.csv.rate, false);
  const ndjsonRate = worst((r) => r.exports.ndjson.rate, false);
  const growth = worst((r) => Math.max(r.exports.csv.growth, r.exports.ndjson.growth));
  const rate = (x) => `${String(Math.round(x)).padStart(8)} rows/s`;
  console.log(`\nResult: the worst of ${RUNS} runs (the median of the runs in brackets)`);
  console.log(`  slow shapes, p50 / max:  state+text ${ms(worst((r) => r.byKind['state+text'].p50))} / ${ms(worst((r) => r.byKind['state+text'].max))},  text ${ms(worst((r) => r.byKind.text.p50))} / ${ms(worst((r) => r.byKind.text.max))}`);
  console.log('                                       measured                 target');
  console.log(`  filtered page p95                  ${ms(p95).padStart(12)}  (${ms(median((r) => r.p95))})    <= ${TARGET_P95_MS} ms    ${p95 <= TARGET_P95_MS ? 'met' : 'MISSED'}`);
  console.log(`  full CSV export                    ${rate(csvRate)}  (${Math.round(median((r) => r.exports.csv.rate))})  >= ${TARGET_ROWS_PER_S} rows/s  ${csvRate >= TARGET_ROWS_PER_S ? 'met' : 'MISSED'}`);
  console.log(`  full NDJSON export                 ${rate(ndjsonRate)}  (${Math.round(median((r) => r.exports.ndjson.rate))})  >= ${TARGET_ROWS_PER_S} rows/s  ${ndjsonRate >= TARGET_ROWS_PER_S ? 'met' : 'MISSED'}`);
  console.log(`  memory growth during an export     ${growth.toFixed(1).padStart(9)} MB    flat (< ${FLAT_MB} MB while ${(runs[0].exports.csv.bytes / 1048576).toFixed(0)} MB streamed)  ${growth < FLAT_MB ? 'met' : 'MISSED'}`);
} catch (error) {
  console.error(`server log (last lines):\n${srv.logs().split('\n').slice(-20).join('\n')}`);
  throw error;
} finally {
  await srv.stop();
}
