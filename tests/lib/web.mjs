// Browser-less helpers for page tests: sign in through dev sign-in, keep the session cookie,
// read the CSRF token from a page, submit forms the way a browser would (same Origin).
import { httpFetch } from './harness.mjs';

/** Signs in with auth = dev; returns a client {cookie, csrf, get(), post()}. */
export async function devSignIn(srv, { forum = 'eng', user_id, username, name, groups = '' }) {
  const body = new URLSearchParams({ forum, user_id, username: username ?? user_id, name: name ?? '', groups, return_to: '/' });
  const res = await httpFetch(`${srv.url}/auth/dev`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: srv.url },
    body,
  });
  if (res.status !== 303) throw new Error(`dev sign-in answered ${res.status}: ${await res.text()}`);
  const cookie = cookieFrom(res);
  const client = makeClient(srv, cookie);
  await client.refreshCsrf();
  return client;
}

export function cookieFrom(res) {
  const set = res.headers.get('set-cookie');
  if (!set) throw new Error('no Set-Cookie');
  return set.split(';')[0];
}

export function makeClient(srv, cookie) {
  const client = {
    cookie,
    csrf: null,
    async get(path) {
      const res = await httpFetch(`${srv.url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
      return { status: res.status, headers: res.headers, text: await res.text() };
    },
    async post(path, fields, { origin = srv.url, withCsrf = true } = {}) {
      const body = new URLSearchParams();
      if (withCsrf && client.csrf) body.append('csrf', client.csrf);
      for (const [k, v] of Object.entries(fields)) {
        if (Array.isArray(v)) for (const x of v) body.append(k, x);
        else body.append(k, v);
      }
      const headers = { 'content-type': 'application/x-www-form-urlencoded' };
      if (cookie) headers.cookie = cookie;
      if (origin) headers.origin = origin;
      const res = await httpFetch(`${srv.url}${path}`, { method: 'POST', redirect: 'manual', headers, body });
      return { status: res.status, headers: res.headers, text: await res.text() };
    },
    async refreshCsrf() {
      const page = await client.get('/');
      const m = /name="csrf" value="([0-9a-f]{64})"/.exec(page.text);
      client.csrf = m ? m[1] : null;
      return client.csrf;
    },
  };
  return client;
}

export const anonymous = (srv) => makeClient(srv, null);
