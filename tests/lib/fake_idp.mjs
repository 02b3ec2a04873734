// A test identity provider that speaks Discourse Connect exactly as a Discourse forum does:
// it checks agentgate's request signature (hex HMAC-SHA256 of the base64 payload under the
// shared secret), shows a page where a user is picked (for browser tests) or answers at once for
// `nextUser`, and sends the browser back to return_sso_url with a signed payload.
import crypto from 'node:crypto';
import http from 'node:http';

export function ssoSign(secret, payloadBase64) {
  return crypto.createHmac('sha256', secret).update(payloadBase64).digest('hex');
}

export function ssoEncode(fields) {
  return Buffer.from(new URLSearchParams(fields).toString()).toString('base64');
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startFakeIdp({ secret, users = {} }) {
  const idp = {
    secret,
    users,
    nextUser: null,
    requests: [],
    url: null,
    server: null,
    /** A signed answer for `user` to the nonce, as the forum would send it. */
    answer(nonce, returnUrl, user) {
      const sso = ssoEncode({
        nonce,
        return_sso_url: returnUrl,
        external_id: user.external_id,
        username: user.username,
        name: user.name ?? user.username,
        email: user.email ?? `${user.username}@example.com`,
        groups: user.groups ?? '',
        admin: 'false',
        moderator: 'false',
      });
      return `${returnUrl}?sso=${encodeURIComponent(sso)}&sig=${ssoSign(secret, sso)}`;
    },
  };
  idp.server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://idp');
    const sso = url.searchParams.get('sso') ?? '';
    const sig = url.searchParams.get('sig') ?? '';
    if (!url.pathname.startsWith('/session/sso_provider')) {
      res.writeHead(404).end();
      return;
    }
    const expected = ssoSign(secret, sso);
    if (sig.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('bad signature from agentgate');
      return;
    }
    const request = Object.fromEntries(new URLSearchParams(Buffer.from(sso, 'base64').toString()));
    idp.requests.push(request);
    const pick = url.searchParams.get('user');
    const user = pick ? users[pick] : idp.nextUser;
    if (user) {
      res.writeHead(302, { location: idp.answer(request.nonce, request.return_sso_url, user) }).end();
      return;
    }
    // the forum's own sign-in page: choose who you are
    const buttons = Object.keys(users)
      .map((key) => `<form method="get" action="/session/sso_provider"><input type="hidden" name="sso" value="${escapeHtml(sso)}"><input type="hidden" name="sig" value="${escapeHtml(sig)}"><input type="hidden" name="user" value="${escapeHtml(key)}"><button type="submit">Log in as ${escapeHtml(key)}</button></form>`)
      .join('\n');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>Test forum sign-in</title><h1>Test forum</h1>${buttons}`);
  });
  await new Promise((resolve) => idp.server.listen(0, '127.0.0.1', resolve));
  idp.url = `http://127.0.0.1:${idp.server.address().port}`;
  idp.stop = () => new Promise((resolve) => {
    idp.server.close(resolve);
    idp.server.closeAllConnections();
  });
  return idp;
}
