// The "other agent" of tests/bench/intake.sh (d): posts signed intakes one after the other
// (one connection, each signed just before it is sent) for SECONDS and prints its answer
// latencies, so that its p99 can be compared with and without a runaway agent flooding the same
// server.
//
//   node intake_victim.mjs URL SECRET FORUM SECONDS
//
// Prints key=value lines: victim.count, victim.non202, victim.p50_ms, victim.p99_ms, victim.max_ms.
import crypto from 'node:crypto';
import http from 'node:http';

const [url, secret, forum, secondsText] = process.argv.slice(2);
if (!secondsText) {
  console.error('usage: node intake_victim.mjs URL SECRET FORUM SECONDS');
  process.exit(2);
}
const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
const target = new URL(`/v1/forums/${forum}/posts`, url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const run = crypto.randomBytes(4).toString('hex');

function post(i) {
  const body = JSON.stringify({
    agent: { id: 'victim-agent', name: 'steady helper' },
    invoker: { id: String(1001 + (i % 200)), name: 'someone' },
    post: { topic_id: String(7000 + i), body: `**Answer ${i}.** The batcher flushes every 30 seconds; raise the interval if the queue grows.` },
  });
  const id = `msg_victim_${run}_${i}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = 'v1,' + crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(target, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature, 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const latencies = [];
let non202 = 0;
const deadline = Date.now() + Number(secondsText) * 1000;
for (let i = 0; Date.now() < deadline; i++) {
  const answer = await post(i);
  if (answer.status === 202) latencies.push(answer.ms);
  else non202++;
}
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : 0);
console.log(`victim.count=${latencies.length}`);
console.log(`victim.non202=${non202}`);
console.log(`victim.p50_ms=${at(50).toFixed(2)}`);
console.log(`victim.p99_ms=${at(99).toFixed(2)}`);
console.log(`victim.max_ms=${(latencies.at(-1) ?? 0).toFixed(2)}`);
