// A test forum receiving agentgate's deliveries (CONTRACT §5) at /agentgate/release. It checks
// every request exactly as a real receiver must: Standard Webhooks signature over the raw body
// with the release secret, the timestamp within 5 minutes, JSON body, and it drops duplicates by
// webhook-id (answering 200 again). Tests can make it refuse connections, fail, hang, or hold
// requests until the test lets them go (to act while a delivery is in flight).
//
// Each forum listens on a loopback address of its own (127.x.y.z) on a port the kernel picks.
// No other socket binds that address, so stop() and start() reopen the very same address and
// port: the port cannot be taken by someone else while the forum is down.
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

/**
 * A loopback address no other test uses (127.1.0.1 to 127.254.255.254), for a server that must
 * stop and come back on the very same address and port: no other socket binds that address, so
 * nothing can take the port in between (a port on 127.0.0.1 could go to anyone's bind or
 * outgoing connection).
 */
export function privateLoopbackAddress() {
  const [a, b, c] = crypto.randomBytes(3);
  return `127.${1 + (a % 254)}.${b}.${1 + (c % 254)}`;
}

/**
 * Starts a forum. `host` and `port` default to a private loopback address and a port the kernel
 * picks (what the tests want); `onAnswered({id, type, body, duplicate, postId})` is called for
 * every request answered 2xx, after the answer is decided (the demo forum prints from it).
 */
export async function startFakeForum({ secret, host = privateLoopbackAddress(), port = 0, onAnswered = null }) {
  const forum = {
    secret,
    arrivals: [], // every correctly signed request, in order: {id, type, draftId, body}
    received: [], // those answered 2xx, duplicates included: {id, type, body, at}
    events: new Map(), // webhook-id -> first body answered 2xx (deduplicated view)
    rejected: [], // requests refused for a bad signature
    behaviour: [], // queue of {status, headers} | {hang: true} for the next requests
    hanging: [], // answers never given (a forum that hangs)
    hold: false, // while true, every request waits in `held` until release()
    held: [], // {id, type, draftId, answer(status)} of requests waiting for the test
    nextPostId: 9000,
    server: null,
    host,
    port,
    url: null,
  };

  /** Answers one accepted request: a 2xx records it, and draft.approved gets a post id. */
  function answer(res, id, body, status = 200, headers = {}) {
    if (status < 200 || status >= 300) {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end('{"error":"test"}');
      return;
    }
    forum.received.push({ id, type: body.type, body, at: Date.now() });
    const duplicate = forum.events.has(id);
    if (!duplicate) forum.events.set(id, body);
    let reply = {};
    if (body.type === 'draft.approved') {
      const first = forum.events.get(id);
      first.__postId ??= String(forum.nextPostId++);
      reply = { post_id: first.__postId, post_url: `http://forum.example/p/${first.__postId}` };
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    onAnswered?.({ id, type: body.type, body, duplicate, postId: reply.post_id ?? null });
  }

  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (req.method !== 'POST' || req.url !== '/agentgate/release' || req.headers['content-type'] !== 'application/json') {
        res.writeHead(404).end();
        return;
      }
      const problem = verifyStandardWebhook(secret, req.headers, raw);
      if (problem) {
        forum.rejected.push({ problem, headers: req.headers });
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: problem }));
        return;
      }
      const body = JSON.parse(raw.toString());
      const id = req.headers['webhook-id'];
      const arrival = { id, type: body.type, draftId: body.data?.draft_id, body };
      forum.arrivals.push(arrival);
      if (forum.hold) {
        forum.held.push({ ...arrival, answer: (status, headers) => answer(res, id, body, status, headers) });
        return;
      }
      const behaviour = forum.behaviour.shift();
      if (behaviour?.hang) {
        forum.hanging.push(res);
        return;
      }
      answer(res, id, body, behaviour?.status, behaviour?.headers);
    });
  };
  forum.start = async () => {
    const server = http.createServer(handler);
    server.on('clientError', (error, socket) => socket.destroy());
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(forum.port, forum.host, resolve);
    });
    forum.server = server;
    forum.port = server.address().port;
    forum.url = `http://${forum.host}:${forum.port}/agentgate/release`;
  };
  /** Stops listening: connections are refused until start() again. Held and hanging requests
   * are cut off. */
  forum.stop = async () => {
    for (const res of forum.hanging.splice(0)) res.destroy();
    for (const request of forum.held.splice(0)) request.answer(503);
    if (!forum.server) return;
    const server = forum.server;
    forum.server = null;
    await new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    });
  };
  /** Stops holding and answers every held request with `status` (200: published). */
  forum.release = (status = 200) => {
    forum.hold = false;
    for (const request of forum.held.splice(0)) request.answer(status);
  };
  /** Events of a type, deduplicated by webhook-id, in first-answer order. */
  forum.unique = (type) => [...forum.events.entries()].filter(([, b]) => !type || b.type === type).map(([id, body]) => ({ id, body }));
  await forum.start();
  return forum;
}
