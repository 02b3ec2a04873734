// The discourse and nodebb adapters publish through the delivery worker to test platforms that
// check each request as the real APIs do; a moderator retries a failed release from the page.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QUICK_RETRIES, countRows, decide, eventually, newSecret, postIntake, psql, samplePost, startServer } from '../lib/harness.mjs';
import { startFakeForum } from '../lib/fake_forum.mjs';
import { startFakeDiscourse, startFakeNodebb } from '../lib/fake_platforms.mjs';
import { devSignIn } from '../lib/web.mjs';

// three attempts, a second apart
const THREE_ATTEMPTS = { ...QUICK_RETRIES, retry_schedule: '0s, 1s, 1s' };

async function platformServer(forumKeys) {
  const inbound = newSecret();
  const srv = await startServer({ forums: { eng: { inbound_secret: inbound, rate_limit: 'none', ...forumKeys } }, delivery: THREE_ATTEMPTS });
  srv.secret = inbound;
  return srv;
}

async function approveNew(srv, post) {
  const res = await postIntake(srv, post);
  assert.equal(res.status, 202, res.text);
  const decision = await decide(srv, res.json.draft_id, { actor: { id: '1001', name: 'alice' } });
  assert.equal(decision.status, 200, decision.text);
  return res.json.draft_id;
}

const row = async (srv, id) => JSON.parse(await psql(srv.database, `SELECT json_build_object('state', state, 'post_id', post_id, 'post_url', post_url) FROM drafts WHERE id = '${id}'`));

describe('discourse adapter', () => {
  it('publishes a reply and a new topic through /posts.json as the agent, and stores the post URL', async () => {
    const discourse = await startFakeDiscourse({ apiKey: 'k-123' });
    const srv = await platformServer({ adapter: 'discourse', forum_url: discourse.url, release_api_key: 'k-123' });
    try {
      const reply = await approveNew(srv, samplePost({ post: { topic_id: '5531', body: 'A reply from the agent' } }));
      await eventually(async () => (await row(srv, reply)).state === 'released', { what: 'reply released' });
      const sent = discourse.received.find((r) => r.body.raw === 'A reply from the agent');
      assert.equal(sent.method, 'POST');
      assert.equal(sent.path, '/posts.json');
      assert.equal(sent.headers['api-key'], 'k-123');
      assert.equal(sent.headers['api-username'], 'helperbot');
      assert.equal(sent.body.topic_id, 5531);
      const stored = await row(srv, reply);
      assert.match(stored.post_id, /^\d+$/);
      assert.match(stored.post_url, new RegExp(`^${discourse.url}/t/[^/]+/5531/\\d+$`));

      const topic = await approveNew(srv, samplePost({ post: { category: '7', title: 'Ingest runbook', body: 'New topic body from the agent' } }));
      await eventually(async () => (await row(srv, topic)).state === 'released', { what: 'topic released' });
      const created = discourse.received.find((r) => r.body.title === 'Ingest runbook');
      assert.equal(created.body.category, 7);
      assert.equal(created.body.raw, 'New topic body from the agent');
    } finally {
      await srv.stop();
      await discourse.stop();
    }
  });

  it('retries a platform error and stops with release_failed when the platform queues the post', async () => {
    const discourse = await startFakeDiscourse({ apiKey: 'k-123' });
    const srv = await platformServer({ adapter: 'discourse', forum_url: discourse.url, release_api_key: 'k-123' });
    try {
      discourse.failNext(1, 500);
      const retried = await approveNew(srv, samplePost({ post: { topic_id: '10', body: 'retried body' } }));
      await eventually(async () => (await row(srv, retried)).state === 'released', { what: 'released after a 500' });
      discourse.queueNext(1);
      const queued = await approveNew(srv, samplePost({ post: { topic_id: '10', body: 'queued body' } }));
      await eventually(async () => (await row(srv, queued)).state === 'release_failed', { what: 'release_failed when queued' });
      assert.equal(discourse.received.filter((r) => r.body.raw === 'queued body').length, 1, 'no second copy queued');
    } finally {
      await srv.stop();
      await discourse.stop();
    }
  });

  it('fails the release, not the draft, when the API key is wrong', async () => {
    const discourse = await startFakeDiscourse({ apiKey: 'right' });
    const srv = await platformServer({ adapter: 'discourse', forum_url: discourse.url, release_api_key: 'wrong' });
    try {
      const id = await approveNew(srv, samplePost({ post: { topic_id: '10', body: 'x' } }));
      await eventually(async () => (await row(srv, id)).state === 'release_failed', { what: 'release_failed' });
      assert.equal(await psql(srv.database, `SELECT string_agg(http_status::text, ',' ORDER BY id) FROM delivery_attempts WHERE draft_id = '${id}'`), '403,403,403');
    } finally {
      await srv.stop();
      await discourse.stop();
    }
  });
});

describe('nodebb adapter', () => {
  it('replies with POST /api/v3/topics/{tid} and creates topics with POST /api/v3/topics, as the agent', async () => {
    const nodebb = await startFakeNodebb({ token: 't-456' });
    const srv = await platformServer({ adapter: 'nodebb', forum_url: nodebb.url, release_api_key: 't-456' });
    try {
      const agent = { id: '42', name: 'helperbot' };
      const reply = await approveNew(srv, samplePost({ agent, post: { topic_id: '77', reply_to_post_id: '880', body: 'nodebb reply' } }));
      await eventually(async () => (await row(srv, reply)).state === 'released', { what: 'reply released' });
      const sent = nodebb.received.find((r) => r.body.content === 'nodebb reply');
      assert.equal(sent.path, '/api/v3/topics/77');
      assert.equal(sent.headers.authorization, 'Bearer t-456');
      assert.equal(sent.body._uid, 42);
      assert.equal(String(sent.body.toPid), '880');
      assert.match((await row(srv, reply)).post_url, new RegExp(`^${nodebb.url}/post/\\d+$`));

      const topic = await approveNew(srv, samplePost({ agent, post: { category: '3', title: 'A topic title', body: 'nodebb topic body' } }));
      await eventually(async () => (await row(srv, topic)).state === 'released', { what: 'topic released' });
      const created = nodebb.received.find((r) => r.body.title === 'A topic title');
      assert.equal(created.path, '/api/v3/topics');
      assert.equal(String(created.body.cid), '3');
      assert.equal(created.body.content, 'nodebb topic body');
    } finally {
      await srv.stop();
      await nodebb.stop();
    }
  });
});

describe('moderators retry a failed release from the page', () => {
  it('shows the attempts and a Retry button to moderators only, and the retry delivers', async () => {
    const releaseSecret = newSecret();
    const forum = await startFakeForum({ secret: releaseSecret });
    const srv = await platformServer({ release_url: forum.url, release_secret: releaseSecret });
    try {
      forum.behaviour.push({ status: 410 });
      const id = await approveNew(srv, samplePost());
      await eventually(async () => (await row(srv, id)).state === 'release_failed', { what: 'release_failed' });
      const invoker = await devSignIn(srv, { user_id: '1001', username: 'alice' });
      const moderator = await devSignIn(srv, { user_id: '4004', username: 'mona', groups: 'moderators' });
      const invokerPage = await invoker.get(`/drafts/${id}`);
      assert.match(invokerPage.text, /410/);
      assert.doesNotMatch(invokerPage.text, /Retry delivery/);
      assert.equal((await invoker.post(`/drafts/${id}/retry`, {})).status, 403);
      const modPage = await moderator.get(`/drafts/${id}`);
      assert.match(modPage.text, /Retry delivery/);
      const retry = await moderator.post(`/drafts/${id}/retry`, {});
      assert.equal(retry.status, 303);
      await eventually(async () => (await row(srv, id)).state === 'released', { what: 'released after the retry' });
      assert.equal(await countRows(srv.database, 'audit_events', `draft_id = '${id}' AND action = 'delivery.retry' AND actor = 'user:4004'`), 1, 'audited under the moderator\'s id');
      const page = await invoker.get(`/drafts/${id}`);
      assert.match(page.text, /http:\/\/forum\.example\/p\/\d+/, 'the post URL is shown');
    } finally {
      await srv.stop();
      await forum.stop();
    }
  });
});
