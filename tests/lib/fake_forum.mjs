// A test forum receiving agentgate's deliveries (CONTRACT §5) at /agentgate/release. It checks
// every request exactly as a real receiver must: Standard Webhooks signature over the raw body
// with the release secret, the timestamp within 5 minutes, JSON body, and it drops duplicates by
// webhook-id (answering 200 again). Tests can make it refuse connections, fail, hang or abort.
import crypto from 'node:crypto';
import http from 'node:http';

export function verifyStandardWebhook(secret, headers, rawBody) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return 'missing headers';
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return 'stale timestamp';
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.`).update(rawBody).digest();
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const candidate = Buffer.from(value, 'base64');
    if (candidate.length === expected.length && crypto.timingSafeEqual(candidate, expected)) return null;
  }
  return 'bad signature';
}

export async function startFakeForum({ secret, port = 0 }) {
  const forum = {
    secret,
    received: [], // every accepted request, duplicates included: {id, type, body, at}
    events: new Map(), // webhook-id -> first body (deduplicated view)
    rejected: [], // requests refused for a bad signature
    behaviour: [], // queue of {status, headers, hang} for the next requests
    hanging: [],
    nextPostId: 9000,
    server: null,
    port,
    url: null,
  };
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const problem = verifyStandardWebhook(secret, req.headers, raw);
      if (req.method !== 'POST' || req.url !== '/agentgate/release' || req.headers['content-type'] !== 'application/json') {
        res.writeHead(404).end();
        return;
      }
      if (problem) {
        forum.rejected.push({ problem, headers: req.headers });
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: problem }));
        return;
      }
      const behaviour = forum.behaviour.shift();
      if (behaviour?.hang) {
        forum.hanging.push(res);
        return;
      }
      const body = JSON.parse(raw.toString());
      const id = req.headers['webhook-id'];
      if (behaviour?.status) {
        res.writeHead(behaviour.status, { 'content-type': 'application/json', ...(behaviour.headers || {}) }).end('{"error":"test"}');
        return;
      }
      forum.received.push({ id, type: body.type, body, at: Date.now() });
      let answer = {};
      if (!forum.events.has(id)) {
        forum.events.set(id, body);
      }
      if (body.type === 'draft.approved') {
        const postId = forum.events.get(id).__postId ?? String(forum.nextPostId++);
        forum.events.get(id).__postId = postId;
        answer = { post_id: postId, post_url: `http://forum.example/p/${postId}` };
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  };
  forum.start = async () => {
    forum.server = http.createServer(handler);
    await new Promise((resolve) => forum.server.listen(forum.port, '127.0.0.1', resolve));
    forum.port = forum.server.address().port;
    forum.url = `http://127.0.0.1:${forum.port}/agentgate/release`;
  };
  /** Stops listening: connections are refused until start() again. */
  forum.stop = async () => {
    for (const res of forum.hanging.splice(0)) res.destroy();
    if (!forum.server) return;
    const server = forum.server;
    forum.server = null;
    await new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    });
  };
  /** Events of a type, deduplicated by webhook-id, in first-arrival order. */
  forum.unique = (type) => [...forum.events.entries()].filter(([, b]) => !type || b.type === type).map(([id, body]) => ({ id, body }));
  await forum.start();
  return forum;
}

/** Polls `fn` until it returns a truthy value or `ms` passes. */
export async function eventually(fn, ms = 15000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
