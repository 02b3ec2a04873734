// The HTTP front under hostile or unusual clients: slow-header floods from many addresses, bytes
// in URLs and form fields that would forge log lines, reply headers too long to send whole, and
// a graceful stop with a request in flight.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { countRows, newSecret, postIntake, samplePost, sign, startServer, webhookId } from '../lib/harness.mjs';
import { devSignIn } from '../lib/web.mjs';

/** Opens a socket from `localAddress`; resolves once connected. */
function connectFrom(port, localAddress) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when `socket` is closed by the other side. */
const closed = (socket) => new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', resolve)));

describe('kept-alive connections', () => {
  /** Sends one GET on a raw socket and resolves with the answer's head, the socket left open. */
  const headOf = (socket) => new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\r\n\r\n')) resolve(text.slice(0, text.indexOf('\r\n\r\n')));
    });
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  });

  it('tells the client when an idle connection will be cut, and cuts it', async () => {
    for (const [server, expected] of [[{ header_timeout: '2s', idle_timeout: '60s' }, 2], [{ header_timeout: '60s', idle_timeout: '3s' }, 3]]) {
      const srv = await startServer({ server });
      try {
        const socket = await connectFrom(srv.port, '127.0.0.1');
        socket.on('error', () => {});
        const head = await headOf(socket);
        assert.match(head, /^HTTP\/1\.1 200/);
        assert.match(head, new RegExp(`\r\nKeep-Alive: timeout=${expected}\r\n`, 'i'));
        // the connection stays open after the answer, then agentgate closes it when idle
        assert.equal(socket.destroyed, false);
        await closed(socket);
      } finally {
        await srv.stop();
      }
    }
  });
});

describe('slow clients', () => {
  it('cuts hundreds of trickling connections from several addresses while others are served', async () => {
    const srv = await startServer({ server: { header_timeout: '2s', request_timeout: '60s', idle_timeout: '60s', max_connections_per_ip: 128 } });
    const trickling = [];
    const latencies = [];
    try {
      // 300 connections from six loopback addresses, each sending one header line at a time
      for (let i = 0; i < 300; i++) {
        const socket = await connectFrom(srv.port, `127.0.0.${2 + (i % 6)}`);
        socket.on('error', () => {});
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
        trickling.push(socket);
      }
      const trickle = setInterval(() => {
        for (const s of trickling) if (!s.destroyed) s.write('X-Trickle: 1\r\n');
      }, 500);
      // an ordinary client keeps working until every trickling connection was cut
      const allCut = Promise.all(trickling.map(closed));
      let done = false;
      allCut.then(() => (done = true));
      let served = 0;
      while (!done) {
        const started = performance.now();
        const res = await postIntake(srv, samplePost());
        assert.equal(res.status, 202, res.text);
        latencies.push(performance.now() - started);
        served++;
      }
      clearInterval(trickle);
      assert.ok(served > 0);
      await srv.waitForLog(/connections cut: \d+ without a complete head/);
      assert.equal(await countRows(srv.database, 'drafts'), served);
      latencies.sort((a, b) => a - b);
      const p50 = latencies[Math.floor(latencies.length / 2)];
      const max = latencies[latencies.length - 1];
      console.log(`# ordinary client during a 300-connection slow-header flood from 6 addresses: ${served} intakes, p50 ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
    } finally {
      for (const s of trickling) s.destroy();
      await srv.stop();
    }
  });
});

describe('log lines', () => {
  it('escapes CR, LF and ESC from paths, headers and form fields instead of writing them', async () => {
    const srv = await startServer();
    try {
      // a raw request line: fetch() would refuse to send these bytes
      await new Promise((resolve) => {
        const socket = net.connect(srv.port, '127.0.0.1', () => {
          socket.write('GET /nowhere%0d%0a2026-01-01T00:00:00.000Z%20info%20rid=forged%20GET%20/admin%20200%1b[31mred HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        });
        socket.on('data', () => {});
        socket.on('close', resolve);
        socket.on('error', resolve);
      });
      // a form field that is logged: the agent a moderator pauses
      const moderator = await devSignIn(srv, { user_id: '2001', username: 'mod', groups: 'moderators' });
      const paused = await moderator.post('/agents/pause', { agent: 'bot\r\n2026 error rid=x forged\u001b[2J', reason: 'log test' });
      assert.ok(paused.status < 500, String(paused.status));
      await srv.waitForLog(/GET \/nowhere\\x0d\\x0a2026/);
      const lines = srv.logs().split('\n');
      assert.ok(!lines.some((l) => /^2026-01-01T00:00:00.000Z/.test(l)), 'a forged line starts a line');
      assert.ok(!lines.some((l) => /^2026 error rid=x forged/.test(l)), 'a forged line from a form field');
      assert.ok(!srv.logs().includes('\u001b'), 'an ESC byte reached the log');
      assert.match(srv.logs(), /\\x1b\[31mred/);
      await srv.waitForLog(/agent bot\\x0d\\x0a2026 error rid=x forged\\x1b\[2J of forum eng paused/);
    } finally {
      await srv.stop();
    }
  });
});

describe('log lines from headers', () => {
  it('escapes control bytes of a header value that is logged', async () => {
    const srv = await startServer({ server: { auth: 'proxy', trusted_proxies: '127.0.0.9', proxy_forum: 'eng' } });
    try {
      // an untrusted client claiming an identity: agentgate logs the claim and ignores it
      await new Promise((resolve) => {
        const socket = net.connect(srv.port, '127.0.0.1', () => {
          socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-User: eve\u001b]0;owned\u0007\u001b[2J\r\nConnection: close\r\n\r\n');
        });
        socket.on('data', () => {});
        socket.on('close', resolve);
        socket.on('error', resolve);
      });
      await srv.waitForLog(/it claimed eve\\x1b\]0;owned\\x07\\x1b\[2J\)/);
      assert.ok(!srv.logs().includes('\u001b') && !srv.logs().includes('\u0007'), 'a control byte reached the log');
    } finally {
      await srv.stop();
    }
  });
});

describe('reply headers', () => {
  it('sends a long Location whole (a long sso_url), never cut', async () => {
    const sso_url = `http://idp.example/session/sso_provider?${'pad='.padEnd(900, 'x')}`;
    // over a config line's length, so it comes from the environment, as a long URL would
    const srv = await startServer({
      server: { auth: 'sso' },
      forums: { eng: { inbound_secret: newSecret(), sso_url: 'env:AGENTGATE_TEST_SSO_URL', sso_secret: 'a-long-enough-sso-secret' } },
      env: { AGENTGATE_TEST_SSO_URL: sso_url },
    });
    try {
      const res = await fetch(`${srv.url}/auth/login?forum=eng`, { redirect: 'manual' });
      assert.equal(res.status, 303);
      const location = res.headers.get('location');
      assert.ok(location.startsWith(sso_url + '&sso='), location.slice(0, 80));
      assert.match(location, /&sig=[0-9a-f]{64}$/);
    } finally {
      await srv.stop();
    }
  });
});

describe('graceful stop', () => {
  it('on SIGTERM refuses new connections, finishes the request in flight and exits 0', async () => {
    // shutdown_timeout far off: this test is about what a stop finishes, not about its limit,
    // and the test needs time for its probes before it sends the rest of the request
    const srv = await startServer({ server: { log_level: 'debug', shutdown_timeout: '10m' } });
    // a request in flight: its head and half its body are sent
    const body = Buffer.from(JSON.stringify(samplePost()));
    const id = webhookId();
    const ts = Math.floor(Date.now() / 1000);
    const socket = net.connect(srv.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d));
    const answered = new Promise((resolve) => socket.on('close', resolve));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /v1/forums/eng/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
      `webhook-id: ${id}\r\nwebhook-timestamp: ${ts}\r\nwebhook-signature: ${sign(srv.secret, id, ts, body)}\r\nConnection: close\r\n\r\n`);
    socket.write(body.subarray(0, 10));
    // the server has the request (its head) before the signal
    await srv.waitForLog(/POST \/v1\/forums\/eng\/posts: head received/);
    srv.child.kill('SIGTERM');
    await srv.waitForLog(/signal 15: stopping/);
    // no new connection is accepted once agentgate says so (it logs the signal first, then stops
    // accepting: a probe in between would be accepted by the kernel)...
    await srv.waitForLog(/no longer accepting connections/);
    const refused = await new Promise((resolve) => {
      const probe = net.connect(srv.port, '127.0.0.1');
      probe.on('connect', () => { probe.destroy(); resolve(null); });
      probe.on('error', (e) => resolve(e.code));
    });
    assert.equal(refused, 'ECONNREFUSED');
    // ...and a new request on a kept-alive connection is turned away
    const late = await fetch(`${srv.url}/healthz`).catch((e) => e);
    assert.ok(late instanceof Error || late.status === 503, String(late.status));
    // the request in flight completes and is committed
    // write, not end: a client that half-closes its side is taken as gone (libmicrohttpd)
    socket.write(body.subarray(10));
    await answered;
    assert.match(answer, /^HTTP\/1\.1 202/, answer);
    const info = await srv.exited;
    assert.equal(info.code, 0, srv.logs());
    assert.equal(await countRows(srv.database, 'drafts', `webhook_id = '${id}'`), 1);
  });

  it('stops cleanly while clients keep sending requests, again and again, and keeps every 202', async () => {
    // libmicrohttpd 0.9.75 aborted now and then (about one stop in 60 under ASan on a busy
    // machine) when its epoll threads were told to stop accepting while they served requests:
    // the stop must end with exit 0 however the signal falls between requests. (The operations
    // suite stops once under intake and approval load; this stops many times, on both builds.)
    for (let round = 0; round < 12; round++) {
      const srv = await startServer({ server: { http_threads: 8 } });
      let stopping = false;
      let accepted = 0;
      const clients = Array.from({ length: 6 }, async (_, client) => {
        while (!stopping) {
          try {
            // half of the clients post intakes, the others ask for /healthz
            const res = client % 2 ? await postIntake(srv, samplePost()) : await fetch(`${srv.url}/healthz`);
            if (res.status === 202) accepted++;
          } catch {
            // refused or cut: the server is stopping
          }
        }
      });
      await srv.waitForLog(/POST \/v1\/forums\/eng\/posts 202/);
      srv.child.kill('SIGTERM');
      const info = await srv.exited;
      stopping = true;
      await Promise.all(clients);
      assert.equal(info.code, 0, `round ${round}: ${info.signal ?? ''}\n${srv.logs().slice(-2000)}`);
      assert.equal(await countRows(srv.database, 'drafts'), accepted, `round ${round}`);
    }
  });
});
