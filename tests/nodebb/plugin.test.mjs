// The NodeBB plugin (CONTRACT §11) against a real, stock NodeBB 4.10.3 with the plugin
// installed as an admin installs it, and a real agentgate (generic adapter, deliveries to the
// plugin's route, dev sign-in for the invoker). One NodeBB serves every test; each test names
// its posts with a fresh token so that tests never read each other's posts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, conninfo, createDatabase, eventually, newSecret, psql, runCli, sign, spawnServer, tmpdir, webhookId, writeConfig,
} from '../lib/harness.mjs';
import { privateLoopbackAddress } from '../lib/fake_forum.mjs';
import { launchBrowser, newPage } from '../lib/browser.mjs';
import { devSignIn } from '../lib/web.mjs';
import * as nodebb from './lib/nodebb.mjs';

const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
const SETUP_TIMEOUT = 20 * 60 * 1000; // a cold NodeBB: extract, npm install, setup, build

const inboundSecret = newSecret();
const releaseSecret = newSecret();
let info; // start.sh's fixtures: url, token, cid, tid, agent_uid, alice_uid
let nbb; // NodeBB API client
let topic; // this run's topic, opened by alice: {tid, title}
let ag; // the running agentgate
let agConfig; // {file, url, database}
let browser;

const token = () => crypto.randomBytes(5).toString('hex');
const releaseUrl = () => `${info.url}/api/v3/plugins/agentgate/release`;

async function startAgentgate() {
  ag = await spawnServer(agConfig.file);
}

async function stopAgentgate() {
  await ag.stop();
  ag = null;
}

before(async () => {
  // agentgate first, on a loopback address of its own and a port the kernel picks; the config
  // then names that port, so that agentgate comes back on the same address after a restart (no
  // other socket binds that address, so nothing can take the port meanwhile) and NodeBB keeps
  // reaching it
  const host = privateLoopbackAddress();
  const database = await createDatabase();
  const dir = tmpdir('nodebb-ag-');
  const config = (port) => ({
    server: { listen: `${host}:${port}`, database: conninfo(database), auth: 'dev', threads: 4 },
    forums: {
      eng: {
        adapter: 'generic',
        inbound_secret: inboundSecret,
        release_secret: releaseSecret,
        release_url: `${nodebb.NODEBB_URL}/api/v3/plugins/agentgate/release`,
        rate_limit: 'none',
      },
    },
  });
  const first = await spawnServer(writeConfig(dir, config(0)));
  await first.stop();
  const file = writeConfig(dir, config(first.port));
  const url = first.url;
  agConfig = { file, url, database };
  await startAgentgate();
  info = await nodebb.prepare({
    url,
    forum: 'eng',
    inbound_secret: inboundSecret,
    release_secret: releaseSecret,
    agents_group: 'agents',
    retry_max_seconds: 2,
  });
  assert.equal(info.url, nodebb.NODEBB_URL);
  nbb = nodebb.client(info);
  // the agents group, with helperbot in it (what the admin does after installing the plugin)
  const group = await nbb.call('HEAD', '/api/v3/groups/agents');
  if (group.status !== 200) {
    const created = await nbb.call('POST', '/api/v3/groups', { body: { name: 'agents', private: 1 } });
    assert.equal(created.status, 200, created.text);
  }
  const joined = await nbb.call('PUT', `/api/v3/groups/agents/membership/${info.agent_uid}`);
  assert.equal(joined.status, 200, joined.text);
  // a topic of this run's own, for the agent's replies
  const title = `Deploy pipeline is flaky on Fridays (run ${token()})`;
  const opened = await nbb.call('POST', '/api/v3/topics', {
    uid: info.alice_uid,
    body: { cid: info.cid, title, content: 'Our deploy pipeline fails one run in five on Fridays. Has anyone looked at the runner logs?' },
  });
  assert.equal(opened.status, 200, opened.text);
  topic = { tid: opened.json.response.tid, title };
  // queued posts of earlier runs belong to drafts of an agentgate database that is gone
  for (const item of await nbb.queue()) {
    if (item.uid === info.agent_uid) {
      const removed = await nbb.call('DELETE', `/api/v3/posts/queue/${encodeURIComponent(item.id)}`);
      assert.equal(removed.status, 200, removed.text);
    }
  }
}, { timeout: SETUP_TIMEOUT });

after(async () => {
  await browser?.close();
  if (ag) await ag.stop();
});

/** A new NodeBB user with a known password: {uid, username, password}. */
async function ensureUser(username, password) {
  const created = await nbb.call('POST', '/api/v3/users', { body: { username, password } });
  assert.equal(created.status, 200, created.text);
  return { uid: created.json.response.uid, username, password };
}

/** The agent (helperbot) posts through NodeBB's write API, naming its invoker. */
function agentReply(content) {
  return nbb.call('POST', `/api/v3/topics/${topic.tid}`, {
    uid: info.agent_uid,
    body: { content, agentgate: { invoker_uid: info.alice_uid, context: { prompt_excerpt: 'why does the deploy fail?' } } },
  });
}

function agentTopic(title, content) {
  return nbb.call('POST', '/api/v3/topics', {
    uid: info.agent_uid,
    body: { cid: info.cid, title, content, agentgate: { invoker_uid: info.alice_uid } },
  });
}

async function draftOf(queueId) {
  const row = await psql(agConfig.database, `SELECT json_build_object('id', id, 'state', state, 'agent_id', agent_id, 'agent_name', agent_name, 'invoker_id', invoker_id, 'invoker_name', invoker_name, 'topic_id', topic_id, 'category', category, 'post_id', post_id, 'post_url', post_url, 'context', context) FROM drafts WHERE forum_ref = '${queueId}'`);
  return row ? JSON.parse(row) : null;
}

async function stateOf(draftId) {
  return psql(agConfig.database, `SELECT state FROM drafts WHERE id = '${draftId}'`);
}

async function published(tid, needle) {
  return (await nbb.topicPosts(tid)).filter((p) => p.content.includes(needle));
}

function inQueue(queueId) {
  return nbb.inQueue(queueId);
}

/** Holds a reply and returns {queueId, draft, review_url}. */
async function holdReply(content) {
  const res = await agentReply(content);
  assert.equal(res.status, 200, res.text);
  const { response } = res.json;
  assert.equal(response.queued, true);
  assert.equal(response.agentgate.status, 'held', res.text);
  return { queueId: response.id, draftId: response.agentgate.draft_id, reviewUrl: response.agentgate.review_url };
}

/** The invoker, signed in to agentgate (dev sign-in) as a page client. */
function invoker() {
  return devSignIn({ url: agConfig.url }, { user_id: String(info.alice_uid), username: 'alice' });
}

/** The invoker approves a draft on its page (the form, without a browser). */
async function approve(draftId) {
  const res = await (await invoker()).post(`/drafts/${draftId}/approve`, { revision: '1' });
  assert.equal(res.status, 303, res.text);
}

/** Waits until agentgate has a draft in `state`. */
function reaches(draftId, state) {
  return eventually(async () => (await stateOf(draftId)) === state, { what: `draft ${draftId} to be ${state}` });
}

async function openBrowser() {
  browser ??= await launchBrowser();
  return newPage(browser);
}

/** Signs the invoker in on agentgate's dev sign-in page, on the way to `reviewUrl`. */
async function signInAsInvoker(page, reviewUrl) {
  await page.goto(reviewUrl);
  await page.locator('#dev-user-id').fill(String(info.alice_uid));
  await page.locator('#dev-username').fill('alice');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(reviewUrl);
}

describe('an agent posts through NodeBB', () => {
  it('holds a reply and a new topic in the queue and in agentgate, and tells the invoker', async () => {
    const t = token();
    const replyText = `The Friday failures are OOM kills on the runner (${t}).`;
    const reply = await agentReply(replyText);
    // NodeBB's answer for a queued reply (200, queued), plus agentgate's review link
    assert.equal(reply.status, 200, reply.text);
    const r = reply.json.response;
    assert.equal(r.queued, true);
    assert.equal(r.type, 'reply');
    assert.match(r.id, /^reply-\d+$/);
    assert.equal(r.agentgate.status, 'held');
    assert.equal(r.agentgate.review_url, `${agConfig.url}/drafts/${r.agentgate.draft_id}`);

    const topicTitle = `Runner memory limits (${t})`;
    const created = await agentTopic(topicTitle, `Raise the runner memory to 4 GB (${t}).`);
    assert.equal(created.status, 202, created.text); // NodeBB's answer for a queued topic
    const tp = created.json.response;
    assert.equal(tp.queued, true);
    assert.equal(tp.type, 'topic');
    assert.equal(tp.agentgate.status, 'held');

    // nothing is visible in the forum
    assert.deepEqual(await published(topic.tid, t), []);
    assert.equal((await nbb.categoryTopics(info.cid)).filter((x) => x.title.includes(t)).length, 0);
    // both wait in NodeBB's post queue
    assert.ok(await inQueue(r.id));
    assert.ok(await inQueue(tp.id));

    // both are pending drafts in agentgate, with who, where and the invoker's context
    const d1 = await draftOf(r.id);
    assert.equal(d1.id, r.agentgate.draft_id);
    assert.equal(d1.state, 'pending');
    assert.deepEqual([d1.agent_id, d1.agent_name, d1.invoker_id, d1.invoker_name], [String(info.agent_uid), 'helperbot', String(info.alice_uid), 'alice']);
    assert.equal(d1.topic_id, String(topic.tid));
    assert.equal(d1.category, String(info.cid));
    assert.deepEqual(d1.context, { prompt_excerpt: 'why does the deploy fail?' });
    const d2 = await draftOf(tp.id);
    assert.equal(d2.state, 'pending');
    assert.equal(d2.topic_id, null);
    assert.equal(d2.category, String(info.cid));
    assert.equal(await psql(agConfig.database, `SELECT title FROM draft_revisions WHERE draft_id = '${d2.id}'`), topicTitle);

    // the invoker has a NodeBB notification for each, linking to agentgate's review page
    const notes = await eventually(async () => {
      const all = await nbb.notifications(info.alice_uid);
      const mine = all.filter((n) => n.path === r.agentgate.review_url || n.path === tp.agentgate.review_url);
      return mine.length === 2 ? mine : null;
    }, { what: 'the invoker\'s notifications' });
    assert.ok(notes.some((n) => /helperbot/.test(n.bodyShort) && /reply/.test(n.bodyShort)));
    assert.ok(notes.some((n) => n.bodyShort.includes(t) && /new topic/.test(n.bodyShort)));
  });

  it('sends a reply\'s topic title and link to agentgate', async () => {
    const held = await holdReply(`Checking the topic link (${token()}).`);
    const page = await (await invoker()).get(`/drafts/${held.draftId}`);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes(topic.title), 'the draft page names the topic');
    assert.ok(page.text.includes(`${info.url}/topic/${topic.tid}/`), 'the draft page links to the NodeBB topic');
  });

  it('refuses a post without an invoker, with an unknown one, or naming the agent itself; nothing is queued', async () => {
    const t = token();
    const queueBefore = (await nbb.queue()).length;
    const draftsBefore = await psql(agConfig.database, 'SELECT count(*) FROM drafts');
    const cases = [
      [undefined, /name the person who invoked the agent/],
      [{ context: {} }, /invoker_uid/],
      [{ invoker_uid: 987654321 }, /no NodeBB user has uid 987654321/],
      [{ invoker_uid: info.agent_uid }, /cannot be the agent itself/],
      [{ invoker_uid: 'alice' }, /must be a NodeBB user id/],
      [{ invoker_uid: info.alice_uid, context: 'why?' }, /context" must be an object/],
    ];
    for (const [agentgate, message] of cases) {
      const res = await nbb.call('POST', `/api/v3/topics/${topic.tid}`, { uid: info.agent_uid, body: { content: `Invalid invoker here (${t}).`, agentgate } });
      assert.equal(res.status, 400, res.text);
      assert.match(res.json.status.message, message);
    }
    assert.equal((await nbb.queue()).length, queueBefore);
    assert.equal(await psql(agConfig.database, 'SELECT count(*) FROM drafts'), draftsBefore);
    assert.deepEqual(await published(topic.tid, t), []);
  });

  it('leaves people who are not agents alone: their posts appear at once', async () => {
    const t = token();
    const res = await nbb.call('POST', `/api/v3/topics/${topic.tid}`, { uid: info.alice_uid, body: { content: `Thanks, I will look at the runner (${t}).` } });
    assert.equal(res.status, 200, res.text);
    assert.notEqual(res.json.response.queued, true);
    assert.equal((await published(topic.tid, t)).length, 1);
  });
});

describe('the invoker decides in agentgate', () => {
  it('edits and approves in the browser: the edited text appears in the topic as the agent, and agentgate links to it', async () => {
    const t = token();
    const held = await holdReply(`Restart the runner (${t}).`);
    const page = await openBrowser();
    await signInAsInvoker(page, held.reviewUrl);
    await page.locator('details summary').filter({ hasText: /edit/i }).first().click();
    const edited = `Restart the runner, then raise its memory limit to 4 GB (${t}).`;
    await page.locator('#edit-body').fill(edited);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${held.reviewUrl}?done=edited&revision=2`);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${held.reviewUrl}?done=approved`);

    await reaches(held.draftId, 'released');
    const posts = await published(topic.tid, t);
    assert.equal(posts.length, 1);
    assert.equal(posts[0].username, 'helperbot');
    assert.equal(posts[0].uid, info.agent_uid);
    assert.match(posts[0].content, /raise its memory limit to 4 GB/);
    assert.ok(!(await inQueue(held.queueId)), 'the queue item is gone');

    const draft = await draftOf(held.queueId);
    assert.equal(draft.post_id, String(posts[0].pid));
    assert.equal(draft.post_url, `${info.url}/post/${posts[0].pid}`);
    await page.reload();
    await assert.doesNotReject(page.locator(`a[href="${draft.post_url}"]`).waitFor());
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'nodebb-released-draft.png'), fullPage: true });
    // the link leads to the agent's post in NodeBB
    const target = await fetch(draft.post_url, { redirect: 'manual' });
    assert.ok([301, 302, 307, 308].includes(target.status), `GET ${draft.post_url}: ${target.status}`);
    assert.match(target.headers.get('location'), new RegExp(`/topic/${topic.tid}/`));
    assert.deepEqual(page.incidents, []);
    await page.context().close();
  });

  it('does not let the agent edit a published post afterwards', async () => {
    const t = token();
    const held = await holdReply(`Approved text (${t}).`);
    await approve(held.draftId);
    await reaches(held.draftId, 'released');
    const [post] = await published(topic.tid, t);
    const edit = await nbb.call('PUT', `/api/v3/posts/${post.pid}`, { uid: info.agent_uid, body: { content: `Unapproved text (${t}).` } });
    assert.equal(edit.status, 400, edit.text);
    assert.match(edit.json.status.message, /cannot edit/);
    const [after] = await published(topic.tid, t);
    assert.match(after.content, /Approved text/);
  });

  it('approves a new topic with its edited title: NodeBB publishes it as approved', async () => {
    const t = token();
    const res = await agentTopic(`Runner OOM (${t})`, `The runner runs out of memory on Fridays (${t}).`);
    assert.equal(res.status, 202, res.text);
    const { agentgate: held } = res.json.response;
    const page = await openBrowser();
    await signInAsInvoker(page, held.review_url);
    await page.locator('details summary').filter({ hasText: /edit/i }).first().click();
    await page.locator('#edit-title').fill(`Runner runs out of memory on Fridays (${t})`);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${held.review_url}?done=edited&revision=2`);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${held.review_url}?done=approved`);
    await reaches(held.draft_id, 'released');
    const topics = (await nbb.categoryTopics(info.cid)).filter((x) => x.title.includes(t));
    assert.deepEqual(topics.map((x) => [x.title, x.uid]), [[`Runner runs out of memory on Fridays (${t})`, info.agent_uid]]);
    await page.context().close();
  });

  it('rejects: the queue item is gone, the agent\'s account is told why, nothing is published', async () => {
    const t = token();
    const held = await holdReply(`Delete the runner cache with rm -rf (${t}).`);
    const alice = await invoker();
    const reason = `Too risky without a backup (${t})`;
    const res = await alice.post(`/drafts/${held.draftId}/reject`, { reason, revision: '1' });
    assert.equal(res.status, 303, res.text);
    await eventually(async () => (await psql(agConfig.database, `SELECT outcome FROM deliveries WHERE draft_id = '${held.draftId}' AND event_type = 'draft.rejected'`)) === 'delivered', { what: 'the rejection to be delivered' });
    assert.ok(!(await inQueue(held.queueId)), 'the queue item is gone');
    const note = await eventually(async () => (await nbb.notifications(info.agent_uid)).find((n) => n.bodyShort.includes(reason)), { what: 'the agent\'s notification' });
    assert.match(note.bodyShort, /rejected/);
    assert.match(note.bodyShort, /alice/);
    assert.deepEqual(await published(topic.tid, t), []);
  });

  it('revokes when a moderator pauses the agent with its pending drafts: the queue item is gone', async () => {
    const t = token();
    const held = await holdReply(`Open the firewall for the runner (${t}).`);
    const paused = await runCli(['--config', agConfig.file, 'agent', 'pause', 'eng', String(info.agent_uid), '--reason', `incident ${t}`, '--revoke-pending']);
    assert.equal(paused.status, 0, paused.stderr);
    try {
      await eventually(async () => !(await inQueue(held.queueId)), { what: 'the revoked post to leave the queue' });
      const note = await eventually(async () => (await nbb.notifications(info.agent_uid)).find((n) => n.bodyShort.includes(`incident ${t}`)), { what: 'the agent\'s notification' });
      assert.match(note.bodyShort, /revoked/);
      // while paused, agentgate refuses the agent's posts: the agent's call says so, nothing is queued
      const refused = await agentReply(`Posting while paused (${t}).`);
      assert.equal(refused.status, 400, refused.text);
      assert.match(refused.json.status.message, /agentgate refused the post \(HTTP 423/);
      assert.deepEqual(await published(topic.tid, t), []);
    } finally {
      assert.equal((await runCli(['--config', agConfig.file, 'agent', 'resume', 'eng', String(info.agent_uid)])).status, 0);
    }
  });
});

describe('agentgate is unreachable', () => {
  it('keeps the post queued and sends it when agentgate is back', async () => {
    const t = token();
    await stopAgentgate();
    let res;
    try {
      res = await agentReply(`Posted while agentgate was down (${t}).`);
    } finally {
      await startAgentgate();
    }
    assert.equal(res.status, 200, res.text);
    const { response } = res.json;
    assert.equal(response.queued, true);
    assert.equal(response.agentgate.status, 'waiting');
    const draft = await eventually(async () => draftOf(response.id), { what: 'the retried send to reach agentgate' });
    assert.equal(draft.state, 'pending');
    assert.ok(await inQueue(response.id));
    assert.deepEqual(await published(topic.tid, t), []);
    const reviewUrl = `${agConfig.url}/drafts/${draft.id}`;
    await eventually(async () => (await nbb.notifications(info.alice_uid)).some((n) => n.path === reviewUrl), { what: 'the invoker\'s notification' });
  });

  it('removes a waiting post that agentgate refuses once it is back, and tells the agent why', async () => {
    const t = token();
    await stopAgentgate();
    let res;
    try {
      res = await agentReply(`Posted while agentgate was down, then refused (${t}).`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.response.agentgate.status, 'waiting');
      const paused = await runCli(['--config', agConfig.file, 'agent', 'pause', 'eng', String(info.agent_uid), '--reason', `paused ${t}`]);
      assert.equal(paused.status, 0, paused.stderr);
      await startAgentgate();
      await eventually(async () => !(await inQueue(res.json.response.id)), { what: 'the refused post to leave the queue' });
      const note = await eventually(async () => (await nbb.notifications(info.agent_uid)).find((n) => n.bodyShort.includes(t)), { what: 'the agent\'s notification' });
      assert.match(note.bodyShort, /refused by agentgate/);
      assert.match(note.bodyShort, /agent_paused/);
      assert.deepEqual(await published(topic.tid, t), []);
    } finally {
      if (!ag) await startAgentgate();
      assert.equal((await runCli(['--config', agConfig.file, 'agent', 'resume', 'eng', String(info.agent_uid)])).status, 0);
    }
  });

  it('keeps the post across a NodeBB restart and sends it when agentgate is back', async () => {
    const t = token();
    await stopAgentgate();
    let res;
    try {
      res = await agentReply(`Posted before NodeBB restarted (${t}).`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.response.agentgate.status, 'waiting');
      info = await nodebb.restart();
      nbb = nodebb.client(info);
      // after the restart, still queued, still unpublished, still not in agentgate
      assert.ok(await inQueue(res.json.response.id));
      assert.deepEqual(await published(topic.tid, t), []);
      assert.equal(await draftOf(res.json.response.id), null);
    } finally {
      await startAgentgate();
    }
    const queueId = res.json.response.id;
    const draft = await eventually(async () => draftOf(queueId), { what: 'the send after the restart' });
    assert.equal(draft.state, 'pending');
    assert.equal(await psql(agConfig.database, `SELECT count(*) FROM drafts WHERE forum_ref = '${queueId}'`), '1');
    // and it is approved and published like any other
    await approve(draft.id);
    await reaches(draft.id, 'released');
    assert.equal((await published(topic.tid, t)).length, 1);
  });
});

describe('NodeBB moderators', () => {
  it('cannot accept an agent\'s queued post in NodeBB\'s post queue', async () => {
    const t = token();
    const held = await holdReply(`Wait for the invoker (${t}).`);
    const res = await nbb.call('POST', `/api/v3/posts/queue/${encodeURIComponent(held.queueId)}`, { uid: 1 });
    assert.equal(res.status, 400, res.text);
    assert.match(res.json.status.message, /held in agentgate/);
    assert.ok(res.json.status.message.includes(held.reviewUrl));
    assert.ok(await inQueue(held.queueId));
    assert.deepEqual(await published(topic.tid, t), []);
    assert.equal(await stateOf(held.draftId), 'pending');
  });

  it('cannot accept it on NodeBB\'s post-queue page either (a global moderator, in the browser)', async () => {
    const t = token();
    const held = await holdReply(`Wait for the invoker, moderator (${t}).`);
    const moderator = await ensureUser(`mona_${t}`, `mona-password-${t}`);
    const joined = await nbb.call('PUT', `/api/v3/groups/global-moderators/membership/${moderator.uid}`);
    assert.equal(joined.status, 200, joined.text);

    const page = await openBrowser();
    await page.goto(`${info.url}/login`);
    await page.locator('#username').fill(moderator.username);
    await page.locator('#password').fill(moderator.password);
    await page.locator('#login').click();
    await page.waitForURL((url) => !url.pathname.startsWith('/login'));
    await page.goto(`${info.url}/post-queue/${held.queueId}`);
    const accept = page.locator(`[data-id="${held.queueId}"] [data-action="accept"]`);
    const answer = page.waitForResponse((r) => r.url().endsWith(`/api/v3/posts/queue/${held.queueId}`) && r.request().method() === 'POST');
    await accept.click();
    assert.equal((await answer).status(), 400);
    // NodeBB shows the plugin's reason, and the post stays in the queue, unpublished
    await assert.doesNotReject(page.getByText(/held in agentgate/).first().waitFor());
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'nodebb-queue-accept-refused.png'), fullPage: true });
    assert.ok(await inQueue(held.queueId));
    assert.deepEqual(await published(topic.tid, t), []);
    await page.context().close();
  });

  it('may remove it from the queue; a later approval then publishes nothing', async () => {
    const t = token();
    const held = await holdReply(`Removed by a moderator (${t}).`);
    const removed = await nbb.call('DELETE', `/api/v3/posts/queue/${encodeURIComponent(held.queueId)}`, { uid: 1 });
    assert.equal(removed.status, 200, removed.text);
    assert.ok(!(await inQueue(held.queueId)));
    await approve(held.draftId);
    // the plugin answers 410: agentgate stops retrying and shows the failed release
    await reaches(held.draftId, 'release_failed');
    assert.match(await psql(agConfig.database, `SELECT http_status FROM delivery_attempts WHERE draft_id = '${held.draftId}'`), /^410$/);
    assert.deepEqual(await published(topic.tid, t), []);
  });
});

describe('the release route', () => {
  /** A draft.approved event for a queued post, as agentgate would send it. */
  function approval(queueId, body) {
    return JSON.stringify({
      type: 'draft.approved',
      timestamp: new Date().toISOString(),
      data: {
        draft_id: crypto.randomUUID(),
        forum: 'eng',
        agent: { id: String(info.agent_uid), name: 'helperbot' },
        invoker: { id: String(info.alice_uid), name: 'alice' },
        post: { topic_id: String(topic.tid), category: String(info.cid), body, forum_ref: queueId },
        revision: 1,
        approved_by: { id: String(info.alice_uid), name: 'alice' },
        flags: [],
      },
    });
  }

  async function deliver(body, { secret = releaseSecret, id = webhookId(), timestamp = Math.floor(Date.now() / 1000), signature, headers = {} } = {}) {
    const res = await fetch(releaseUrl(), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature ?? sign(secret, id, timestamp, body),
        ...headers,
      },
      body,
    });
    const text = await res.text();
    return { status: res.status, text, json: text ? JSON.parse(text) : null };
  }

  it('refuses forged, tampered, stale and unsigned deliveries: nothing is published', async () => {
    const t = token();
    const held = await holdReply(`Original text (${t}).`);
    const forged = approval(held.queueId, `Forged text (${t}).`);
    const wrongKey = await deliver(forged, { secret: newSecret() });
    assert.equal(wrongKey.status, 401, wrongKey.text);
    const id = webhookId();
    const ts = Math.floor(Date.now() / 1000);
    const tampered = await deliver(forged, { id, timestamp: ts, signature: sign(releaseSecret, id, ts, approval(held.queueId, `Original text (${t}).`)) });
    assert.equal(tampered.status, 401, tampered.text);
    const stale = await deliver(forged, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    assert.equal(stale.status, 401, stale.text);
    assert.match(stale.json.error.message, /too old/);
    const unsigned = await deliver(forged, { signature: '' });
    assert.equal(unsigned.status, 401, unsigned.text);
    // re-encoded JSON is not what was signed: the route checks the bytes received
    const respaced = await deliver(JSON.stringify(JSON.parse(forged), null, 1), { id, timestamp: ts, signature: sign(releaseSecret, id, ts, forged) });
    assert.equal(respaced.status, 401, respaced.text);
    assert.deepEqual(await published(topic.tid, t), []);
    assert.ok(await inQueue(held.queueId));
    assert.equal(await stateOf(held.draftId), 'pending');
  });

  it('answers a replayed delivery without publishing twice', async () => {
    const t = token();
    const held = await holdReply(`Replay me (${t}).`);
    await approve(held.draftId);
    await reaches(held.draftId, 'released');
    const first = await draftOf(held.queueId);
    // agentgate's own delivery, captured from its records, sent again (freshly signed)
    const [capturedId, payload] = (await psql(agConfig.database, `SELECT webhook_id || E'\\t' || payload::text FROM deliveries WHERE draft_id = '${held.draftId}' AND event_type = 'draft.approved'`)).split('\t');
    const again = await deliver(payload, { id: capturedId });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json, { post_id: first.post_id, post_url: first.post_url });
    // the same approval under another webhook-id does not publish again either
    const other = await deliver(payload);
    assert.equal(other.status, 200, other.text);
    assert.equal(other.json.post_id, first.post_id);
    // nor does a replay past the timestamp tolerance get anywhere
    const stale = await deliver(payload, { id: capturedId, timestamp: Math.floor(Date.now() / 1000) - 3600 });
    assert.equal(stale.status, 401);
    assert.equal((await published(topic.tid, t)).length, 1);
  });

  /** A signed event of `type` for a queued post, with `extra` fields in its data. */
  function event(type, queueId, extra = {}) {
    const body = JSON.parse(approval(queueId, 'unused'));
    body.type = type;
    delete body.data.approved_by;
    Object.assign(body.data, extra);
    return JSON.stringify(body);
  }

  it('reminds the invoker of a draft about to expire, and removes an expired one telling the agent', async () => {
    const t = token();
    const held = await holdReply(`About to expire (${t}).`);
    const expiring = await deliver(event('draft.expiring', held.queueId, { expires_at: '2031-01-01T12:00:00Z' }));
    assert.equal(expiring.status, 200, expiring.text);
    const reminder = await eventually(async () => (await nbb.notifications(info.alice_uid)).find((n) => /expires/.test(n.bodyShort) && n.path === held.reviewUrl), { what: 'the reminder' });
    assert.match(reminder.bodyShort, /expires on 1 Jan 2031 12:00 UTC/);
    assert.ok(await inQueue(held.queueId));

    const expired = await deliver(event('draft.expired', held.queueId, { expired_at: new Date().toISOString() }));
    assert.equal(expired.status, 200, expired.text);
    assert.ok(!(await inQueue(held.queueId)));
    const note = await eventually(async () => (await nbb.notifications(info.agent_uid)).find((n) => n.bodyShort.includes(t)), { what: 'the agent\'s notification' });
    assert.match(note.bodyShort, /expired/);
    assert.deepEqual(await published(topic.tid, t), []);
    // an approval arriving after that publishes nothing, and agentgate is told to stop (410)
    const late = await deliver(approval(held.queueId, `Approved too late (${t}).`));
    assert.equal(late.status, 410, late.text);
    assert.deepEqual(await published(topic.tid, t), []);
  });

  it('refuses a signed delivery for another forum or without a queue reference', async () => {
    const t = token();
    const held = await holdReply(`Wrong forum (${t}).`);
    const event = JSON.parse(approval(held.queueId, `Wrong forum (${t}).`));
    event.data.forum = 'other';
    const wrongForum = await deliver(JSON.stringify(event));
    assert.equal(wrongForum.status, 400, wrongForum.text);
    event.data.forum = 'eng';
    event.data.post.forum_ref = '../../etc';
    const badRef = await deliver(JSON.stringify(event));
    assert.equal(badRef.status, 400, badRef.text);
    assert.deepEqual(await published(topic.tid, t), []);
    assert.ok(await inQueue(held.queueId));
  });
});
