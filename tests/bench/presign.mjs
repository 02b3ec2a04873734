// Pre-signs intake requests for tests/bench/intake.sh, before the timed run, so that the
// benchmark measures agentgate and not the client's HMACs.
//
//   node presign.mjs OUT_PREFIX THREADS COUNT SECRET HOST:PORT FORUM AGENTS [AGENT_PREFIX]
//
// Writes THREADS files OUT_PREFIX.1 .. OUT_PREFIX.THREADS (wrk numbers its threads from 1 in
// intake.lua). Each holds complete raw HTTP/1.1 requests, every one followed by a NUL byte
// (JSON text never contains one), ready for wrk to send as they are. Every request has its own
// webhook-id; agents cycle through AGENTS ids (AGENT_PREFIX-1.., default bench-agent), invokers through 200 people; bodies are realistic
// markdown replies of about 300-500 bytes (the JSON document is about 650-900 bytes). All are
// signed (Standard Webhooks) with a timestamp of now, which agentgate accepts for 5 minutes.
import crypto from 'node:crypto';
import fs from 'node:fs';

const [prefix, threadsText, countText, secret, hostPort, forum, agentsText, agentPrefix = 'bench-agent'] = process.argv.slice(2);
if (!agentsText) {
  console.error('usage: node presign.mjs OUT_PREFIX THREADS COUNT SECRET HOST:PORT FORUM AGENTS [AGENT_PREFIX]');
  process.exit(2);
}
const threads = Number(threadsText);
const count = Number(countText);
const agents = Number(agentsText);
const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
const timestamp = String(Math.floor(Date.now() / 1000));
const run = crypto.randomBytes(4).toString('hex');
const path = `/v1/forums/${forum}/posts`;

// Innocuous text (nothing the flag scanner reports), cut to vary the length.
const paragraphs = [
  'The ingest worker stalls when the upstream queue is drained faster than the batcher can flush.',
  'Restarting it clears the backlog, but the real fix is to raise the flush interval to 30 seconds',
  'and to cap the batch size at 500 items, as described in the runbook section on back-pressure.',
  'You can check the queue depth on the dashboard before and after the change to confirm it helps.',
  'If the depth keeps growing after that, please open a ticket with the worker logs attached.',
];
const fullText = paragraphs.join(' ');

function bodyFor(i) {
  const agent = (i % agents) + 1;
  const invoker = 1001 + ((i * 7) % 200);
  const topic = 5000 + ((i * 13) % 90000);
  const length = 300 + ((i * 37) % 200);
  const text = `**Answer ${i}.** ` + fullText.repeat(2).slice(0, length);
  return JSON.stringify({
    agent: { id: `${agentPrefix}-${agent}`, name: `helperbot-${agent}` },
    invoker: { id: String(invoker), name: `user${invoker}` },
    post: { topic_id: String(topic), reply_to_post_id: String(topic * 10 + 1), body: text, forum_ref: `ref-${topic}` },
    context: {
      question_url: `http://forum.example/t/${topic}`,
      agent_run_url: `http://agents.example/run/${run}-${i}`,
      prompt_excerpt: 'why is the ingest worker stuck again?',
    },
  });
}

const files = [];
const buffers = [];
for (let t = 1; t <= threads; t++) {
  files.push(fs.openSync(`${prefix}.${t}`, 'w'));
  buffers.push([]);
}
const flushAt = 2000;
for (let i = 0; i < count; i++) {
  const body = bodyFor(i);
  const id = `msg_bench_${run}_${i}`;
  const signature = 'v1,' + crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  const t = i % threads;
  buffers[t].push(
    `POST ${path} HTTP/1.1\r\nHost: ${hostPort}\r\nContent-Type: application/json\r\n` +
      `webhook-id: ${id}\r\nwebhook-timestamp: ${timestamp}\r\nwebhook-signature: ${signature}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}\0`,
  );
  if (buffers[t].length >= flushAt) {
    fs.writeSync(files[t], buffers[t].join(''));
    buffers[t] = [];
  }
}
for (let t = 0; t < threads; t++) {
  if (buffers[t].length) fs.writeSync(files[t], buffers[t].join(''));
  fs.closeSync(files[t]);
}
