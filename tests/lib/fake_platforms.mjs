// Test stand-ins for the forum platforms the `discourse` and `nodebb` adapters publish to. Each
// checks a request the way the real platform's API does, and answers in the platform's own
// shapes:
//
// Discourse (docs.discourse.org, "Creates a new topic, a new post, or a private message"):
//   POST /posts.json, headers Api-Key (must equal apiKey) and Api-Username (non-empty),
//   Content-Type: application/json, body {"raw", "topic_id"} for a reply or
//   {"title", "raw", "category"} for a new topic. Answers 200 with the created post
//   ({id, topic_id, topic_slug, post_number, raw, cooked, username, ...}); errors as Discourse
//   does: 403 {"errors": [...], "error_type": "invalid_access"}, 400 {"errors": [...]},
//   404 {"errors": [...], "error_type": "not_found"}, 422 {"action": "create_post",
//   "errors": [...]}.
// NodeBB (write API v3, public/openapi/write/topics.yaml and topics/tid.yaml):
//   POST /api/v3/topics/{tid} {"content", "toPid"?, "_uid"} for a reply, POST /api/v3/topics
//   {"cid", "title", "content", "_uid"} for a new topic, header Authorization: Bearer token,
//   Content-Type: application/json. `_uid` is required as for a master token. Answers
//   {"status": {"code": "ok", "message": "OK"}, "response": {...}} (the post for a reply, the
//   topic with mainPid and mainPost for a new topic); errors as
//   {"status": {"code": "forbidden" | "bad-request" | "not-found", "message"}, "response": {}}.
//
// Both return { url, received: [{ method, path, headers, body, rawBody }], failNext(n, status),
// queueNext(n), stop() }. failNext makes the next n requests answer `status` (with the
// platform's error body; 429 and 503 carry Retry-After: 1); queueNext makes the next n valid
// posts go to the platform's review queue instead of being published. By default any positive
// numeric topic exists; pass `topics` (ids) to allow only those. minPostLength / minTitleLength
// turn on the platforms' length checks (real defaults: Discourse 20 / 15, NodeBB 8 / 3).
import http from 'node:http';

const MAX_BODY = 4 * 1024 * 1024;

const isDigits = (value) =>
  (typeof value === 'number' && Number.isInteger(value) && value > 0) ||
  (typeof value === 'string' && /^[0-9]+$/.test(value) && Number(value) > 0);

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const cook = (raw) =>
  String(raw)
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${escapeHtml(paragraph).replace(/\n/g, '<br>\n')}</p>`)
    .join('\n');

const slugify = (title) =>
  String(title)
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80) || 'topic';

const isJson = (headers) => /^application\/json\s*(;|$)/i.test(headers['content-type'] ?? '');

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res, status, payload, headers = {}) {
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

// The parts shared by both fakes: recording, failNext/queueNext, start and stop.
async function startFake(handle) {
  const fake = {
    url: null,
    received: [],
    failures: [],
    queued: 0,
    failNext(n = 1, status = 500) {
      for (let i = 0; i < n; i++) fake.failures.push(status);
    },
    queueNext(n = 1) {
      fake.queued += n;
    },
  };
  const server = http.createServer(async (req, res) => {
    let rawBody;
    try {
      rawBody = await readBody(req);
    } catch {
      if (!res.headersSent) res.writeHead(413).end();
      return;
    }
    let body = null;
    if (rawBody.length) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = rawBody;
      }
    }
    const url = new URL(req.url, 'http://fake');
    const entry = { method: req.method, path: url.pathname, headers: { ...req.headers }, body, rawBody };
    fake.received.push(entry);
    try {
      await handle(req, res, entry, fake);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: String(err && err.message) });
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.server = server;
  fake.url = `http://127.0.0.1:${server.address().port}`;
  fake.stop = () =>
    new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
  return fake;
}

// ---------------------------------------------------------------- Discourse

const DISCOURSE_ERRORS = {
  400: { errors: ['You supplied invalid parameters to the request.'], error_type: 'invalid_parameters' },
  403: {
    errors: ['You are not permitted to view the requested resource. The API username or key is invalid.'],
    error_type: 'invalid_access',
  },
  404: { errors: ['The requested URL or resource could not be found.'], error_type: 'not_found' },
  422: { action: 'create_post', errors: ['Something went wrong.'] },
  429: {
    errors: ['You’ve performed this action too many times. Please wait 1 second before trying again.'],
    error_type: 'rate_limit',
    extras: { wait_seconds: 1, time_left: '1 second' },
  },
};

function discourseError(res, status) {
  const body = DISCOURSE_ERRORS[status] ?? { errors: [`HTTP ${status}`] };
  sendJson(res, status, body, status === 429 || status === 503 ? { 'retry-after': '1' } : {});
}

export async function startFakeDiscourse({ apiKey, topics = null, minPostLength = 0, minTitleLength = 0 } = {}) {
  if (!apiKey) throw new Error('startFakeDiscourse needs apiKey');
  const known = new Map(); // topic id -> { slug, title, category, last }
  for (const id of topics ?? []) known.set(Number(id), { slug: `topic-${id}`, title: `Topic ${id}`, category: 1, last: 1 });
  let nextPostId = 88000;
  let nextTopicId = 5000;
  let nextPending = 1;

  return startFake(async (req, res, entry, fake) => {
    if (fake.failures.length) return discourseError(res, fake.failures.shift());
    if (entry.method !== 'POST' || entry.path !== '/posts.json') return discourseError(res, 404);

    const key = req.headers['api-key'];
    const username = req.headers['api-username'];
    if (key !== apiKey || typeof username !== 'string' || username.trim() === '') {
      return discourseError(res, 403);
    }
    if (!isJson(req.headers)) {
      return sendJson(res, 400, { errors: ['param is missing or the value is empty: raw'] });
    }
    const body = entry.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return sendJson(res, 400, { errors: ['param is missing or the value is empty: raw'] });
    }
    if (typeof body.raw !== 'string' || body.raw.trim() === '') {
      return sendJson(res, 400, { errors: ['param is missing or the value is empty: raw'] });
    }
    if (body.raw.trim().length < minPostLength) {
      return sendJson(res, 422, { action: 'create_post', errors: [`Body is too short (minimum is ${minPostLength} characters)`] });
    }

    let topic;
    let topicId;
    const reply = body.topic_id !== undefined && body.topic_id !== null && body.topic_id !== '';
    if (reply) {
      if (!isDigits(body.topic_id)) return discourseError(res, 404);
      topicId = Number(body.topic_id);
      topic = known.get(topicId);
      if (!topic) {
        if (topics) return discourseError(res, 404);
        topic = { slug: `topic-${topicId}`, title: `Topic ${topicId}`, category: 1, last: 1 };
        known.set(topicId, topic);
      }
    } else {
      if (typeof body.title !== 'string' || body.title.trim() === '') {
        return sendJson(res, 422, { action: 'create_post', errors: ["Title can't be blank"] });
      }
      if (body.title.trim().length < minTitleLength) {
        return sendJson(res, 422, { action: 'create_post', errors: [`Title is too short (minimum is ${minTitleLength} characters)`] });
      }
      if (body.category === undefined || body.category === null || body.category === '') {
        return sendJson(res, 422, { action: 'create_post', errors: ["Category can't be blank"] });
      }
      if (!isDigits(body.category)) {
        return sendJson(res, 400, {
          errors: ['You supplied invalid parameters to the request: category'],
          error_type: 'invalid_parameters',
        });
      }
    }

    const now = new Date().toISOString();
    if (fake.queued > 0) {
      fake.queued--;
      return sendJson(res, 200, {
        action: 'enqueued',
        pending_post: { id: nextPending++, raw: body.raw, created_at: now },
        pending_count: 1,
        success: true,
      });
    }
    if (!reply) {
      topicId = nextTopicId++;
      topic = { slug: slugify(body.title), title: body.title, category: Number(body.category), last: 0 };
      known.set(topicId, topic);
    }
    topic.last += 1;
    const id = nextPostId++;
    return sendJson(res, 200, {
      id,
      name: null,
      username,
      avatar_template: `/letter_avatar_proxy/v4/letter/${username[0].toLowerCase()}/8e7dd6/{size}.png`,
      created_at: now,
      raw: body.raw,
      cooked: cook(body.raw),
      post_number: topic.last,
      post_type: 1,
      updated_at: now,
      reply_count: 0,
      reply_to_post_number: null,
      quote_count: 0,
      incoming_link_count: 0,
      reads: 0,
      readers_count: 0,
      score: 0,
      yours: true,
      topic_id: topicId,
      topic_slug: topic.slug,
      display_username: null,
      primary_group_name: null,
      primary_group_flair_url: null,
      primary_group_flair_bg_color: null,
      primary_group_flair_color: null,
      version: 1,
      can_edit: true,
      can_delete: false,
      can_recover: false,
      can_wiki: false,
      user_title: null,
      bookmarked: false,
      actions_summary: [],
      moderator: false,
      admin: false,
      staff: false,
      user_id: 57,
      draft_sequence: 0,
      hidden: false,
      trust_level: 1,
      deleted_at: null,
      user_deleted: false,
      edit_reason: null,
      can_view_edit_history: true,
      wiki: false,
      reviewable_id: null,
      reviewable_score_count: 0,
      reviewable_score_pending_count: 0,
    });
  });
}

// ---------------------------------------------------------------- NodeBB

const NODEBB_CODES = {
  400: ['bad-request', 'Something was wrong with the request payload you passed in.'],
  401: ['not-authorised', 'A valid login session was not found. Please log in and try again.'],
  403: ['forbidden', 'You do not have enough privileges for this action.'],
  404: ['not-found', 'Invalid API call'],
  429: ['too-many-requests', 'You are posting too quickly, please wait 1 second(s) before posting again.'],
  500: ['internal-server-error', 'An unexpected error was encountered while attempting to service your request.'],
};

function nodebbError(res, status, message) {
  const [code, fallback] = NODEBB_CODES[status] ?? ['internal-server-error', NODEBB_CODES[500][1]];
  sendJson(
    res,
    status,
    { status: { code, message: message ?? fallback }, response: {} },
    status === 429 || status === 503 ? { 'retry-after': '1' } : {},
  );
}

export async function startFakeNodebb({ token, topics = null, minPostLength = 0, minTitleLength = 0 } = {}) {
  if (!token) throw new Error('startFakeNodebb needs token');
  const known = new Map(); // tid -> { slug, title, cid, uid }
  for (const id of topics ?? []) known.set(Number(id), { slug: `${id}/topic-${id}`, title: `Topic ${id}`, cid: 1, uid: 1 });
  let nextPid = 88100;
  let nextTid = 5600;
  let nextQueue = 1;

  const user = (uid) => ({
    uid,
    username: `user${uid}`,
    displayname: `user${uid}`,
    userslug: `user${uid}`,
    picture: null,
    status: 'online',
    'icon:text': 'U',
    'icon:bgColor': '#f44336',
  });

  return startFake(async (req, res, entry, fake) => {
    if (fake.failures.length) return nodebbError(res, fake.failures.shift());
    const match = /^\/api\/v3\/topics(?:\/([^/]+))?\/?$/.exec(entry.path);
    if (entry.method !== 'POST' || !match) return nodebbError(res, 404);

    // No valid token: NodeBB goes on as a guest, who may not post.
    if (req.headers.authorization !== `Bearer ${token}`) return nodebbError(res, 403);
    if (!isJson(req.headers)) return nodebbError(res, 400, 'Required parameters were missing from this API call: content');
    const body = entry.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return nodebbError(res, 400, 'Required parameters were missing from this API call: content');
    }
    // The token is taken as a master token: it names no user, so `_uid` must.
    if (!Object.hasOwn(body, '_uid')) {
      return nodebbError(res, 400, 'A master token was received without a corresponding `_uid` in the request body');
    }
    const uid = Number.parseInt(body._uid, 10);
    if (!(uid > 0)) return nodebbError(res, 403);

    const reply = match[1] !== undefined;
    const required = reply ? ['content'] : ['cid', 'title', 'content'];
    const missing = required.filter((field) => body[field] === undefined || body[field] === null || body[field] === '');
    if (missing.length) {
      return nodebbError(res, 400, `Required parameters were missing from this API call: ${missing.join(' ')}`);
    }
    if (typeof body.content !== 'string' || body.content.trim().length < minPostLength) {
      return nodebbError(res, 400, `Please enter a longer post. Posts should contain at least ${minPostLength} character(s).`);
    }

    let tid;
    let topic;
    if (reply) {
      tid = Number(match[1]);
      if (!isDigits(match[1])) return nodebbError(res, 404, 'Topic does not exist');
      topic = known.get(tid);
      if (!topic) {
        if (topics) return nodebbError(res, 404, 'Topic does not exist');
        topic = { slug: `${tid}/topic-${tid}`, title: `Topic ${tid}`, cid: 1, uid: 1 };
        known.set(tid, topic);
      }
      if (body.toPid !== undefined && body.toPid !== null && !isDigits(body.toPid)) {
        return nodebbError(res, 400, 'Invalid post identifier');
      }
    } else {
      if (!isDigits(body.cid)) return nodebbError(res, 400, 'Category does not exist');
      if (typeof body.title !== 'string' || body.title.trim().length < Math.max(minTitleLength, 1)) {
        return nodebbError(res, 400, `Please enter a longer title. Titles should contain at least ${Math.max(minTitleLength, 1)} character(s).`);
      }
    }

    const now = Date.now();
    if (fake.queued > 0) {
      fake.queued--;
      const type = reply ? 'reply' : 'topic';
      const queued = { id: `${type}-${nextQueue++}`, type, queued: true, message: 'Your post has been queued for approval' };
      // New topics are answered 202 Accepted, replies 200 OK (NodeBB's write controller).
      if (reply) return sendJson(res, 200, { status: { code: 'ok', message: 'OK' }, response: queued });
      return sendJson(res, 202, { status: { code: 'accepted', message: 'Accepted' }, response: queued });
    }

    const pid = nextPid++;
    const post = {
      pid,
      tid,
      uid,
      content: cook(body.content),
      sourceContent: null,
      timestamp: now,
      timestampISO: new Date(now).toISOString(),
      deleted: false,
      upvotes: 0,
      downvotes: 0,
      votes: 0,
      user: user(uid),
      replies: 0,
    };
    if (reply) {
      const topicInfo = { uid: topic.uid, tid, title: topic.title, cid: topic.cid, slug: topic.slug, deleted: 0, postcount: 2 };
      return sendJson(res, 200, {
        status: { code: 'ok', message: 'OK' },
        response: {
          ...post,
          toPid: body.toPid !== undefined && body.toPid !== null ? Number(body.toPid) : null,
          topic: topicInfo,
          category: { cid: topic.cid, name: `Category ${topic.cid}`, slug: `${topic.cid}/category-${topic.cid}`, icon: 'fa-comments' },
          isMainPost: false,
        },
      });
    }
    tid = nextTid++;
    const cid = Number(body.cid);
    topic = { slug: `${tid}/${slugify(body.title)}`, title: body.title, cid, uid };
    known.set(tid, topic);
    post.tid = tid;
    return sendJson(res, 200, {
      status: { code: 'ok', message: 'OK' },
      response: {
        tid,
        uid,
        cid,
        title: body.title,
        titleRaw: body.title,
        slug: topic.slug,
        mainPid: pid,
        postcount: 1,
        viewcount: 0,
        postercount: 1,
        deleted: 0,
        locked: 0,
        pinned: 0,
        timestamp: now,
        timestampISO: new Date(now).toISOString(),
        lastposttime: now,
        lastposttimeISO: new Date(now).toISOString(),
        upvotes: 0,
        downvotes: 0,
        votes: 0,
        teaserPid: null,
        tags: [],
        category: { cid, name: `Category ${cid}`, slug: `${cid}/category-${cid}`, icon: 'fa-comments' },
        user: user(uid),
        mainPost: { ...post, isMainPost: true },
      },
    });
  });
}
