'use strict';

// Sends an agent's queued post to agentgate's intake (CONTRACT §4.1), signed with the
// inbound secret by the Standard Webhooks scheme. The request is first written to the outbox in
// NodeBB's database, so a post whose send fails (agentgate down, a timeout, a 5xx) is retried
// by the outbox worker, across NodeBB restarts, under the same webhook-id (agentgate answers a
// repeated id with its first answer and stores nothing new). While unsent, the post simply
// stays in NodeBB's post queue: nothing is published.

const crypto = require('crypto');
const nconf = require.main.require('nconf');
const winston = require.main.require('winston');
const posts = require.main.require('./src/posts');
const topics = require.main.require('./src/topics');
const { Webhook } = require('standardwebhooks');

const config = require('./config');
const store = require('./store');
const notify = require('./notify');

// agentgate's answers that mean "this post will never be held": the agent's call is refused
// (or, for a post retried later, the queued post is removed and the agent told why). Anything
// else but a 202 (no answer, 401 and 404 from a configuration mistake, 5xx) is retried.
const REFUSED = new Set([400, 403, 413, 415, 422, 423]);

/** The §4.1 body for a queued post of `agent` invoked by `invoker`. */
async function buildIntakeBody(queueId, type, data, agent, invoker) {
	const post = {};
	let where;
	if (type === 'reply') {
		const topic = await topics.getTopicFields(data.tid, ['tid', 'cid', 'title', 'slug']);
		if (!topic || !topic.tid) {
			throw new Error('[[error:no-topic]]');
		}
		post.topic_id = String(topic.tid);
		if (data.toPid) {
			post.reply_to_post_id = String(data.toPid);
		}
		post.category = String(topic.cid);
		post.topic_title = String(topic.title);
		post.topic_url = `${nconf.get('url')}/topic/${topic.slug}`;
		where = String(topic.title);
	} else {
		post.category = String(data.cid);
		post.title = String(data.title);
		where = String(data.title);
	}
	post.body = String(data.content);
	post.forum_ref = queueId;
	const body = {
		agent: { id: String(agent.uid), name: agent.username },
		invoker: { id: String(invoker.uid), name: invoker.username },
		post,
	};
	if (invoker.context) {
		body.context = invoker.context;
	}
	return { body: JSON.stringify(body), where };
}

function signedHeaders(webhookId, body) {
	const now = new Date();
	return {
		'content-type': 'application/json',
		'webhook-id': webhookId,
		'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
		'webhook-signature': new Webhook(config.get().inboundSecret).sign(webhookId, now, body),
	};
}

/**
 * One signed POST to agentgate. Returns {kind: 'held'|'refused'|'retry', status, json, message,
 * retryAfterMs}.
 */
async function post(webhookId, body) {
	const settings = config.get();
	const url = `${settings.url}/v1/forums/${encodeURIComponent(settings.forum)}/posts`;
	let res;
	let text;
	try {
		res = await fetch(url, {
			method: 'POST',
			headers: signedHeaders(webhookId, body),
			body,
			redirect: 'manual',
			signal: AbortSignal.timeout(settings.timeoutMs),
		});
		text = await res.text();
	} catch (err) {
		const cause = err.cause && err.cause.code ? err.cause.code : err.name;
		return { kind: 'retry', status: 0, message: `agentgate unreachable (${cause})` };
	}
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {
		// not JSON: handled below
	}
	const error = json && json.error && typeof json.error === 'object' ? json.error : null;
	const message = error ?
		`${error.code || 'error'}: ${error.message || ''}${error.field ? ` (${error.field})` : ''}` :
		`HTTP ${res.status}`;
	if (res.status === 202 && json && typeof json.draft_id === 'string' && typeof json.review_url === 'string') {
		return { kind: 'held', status: 202, json };
	}
	const retryAfter = Number(res.headers.get('retry-after'));
	const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 0;
	if (REFUSED.has(res.status)) {
		return { kind: 'refused', status: res.status, message, retryAfterMs };
	}
	if (res.status === 429) {
		return { kind: 'rate_limited', status: 429, message, retryAfterMs };
	}
	return { kind: 'retry', status: res.status, message, retryAfterMs };
}

function backoff(attempts, retryAfterMs) {
	const base = Math.min(config.get().retryMaxMs, 1000 * (2 ** Math.min(attempts, 20)));
	const jittered = base * (0.8 + (0.4 * Math.random()));
	return Math.max(retryAfterMs || 0, Math.round(jittered));
}

/** Records a post agentgate now holds, drops its outbox entry, tells the invoker. */
async function markHeld(queueId, record, answer) {
	const held = {
		queue_id: queueId,
		draft_id: answer.draft_id,
		review_url: answer.review_url,
		agent_uid: record.agent_uid,
		agent_name: record.agent_name,
		invoker_uid: record.invoker_uid,
		where: record.where,
		new_topic: record.new_topic,
		held_at: Date.now(),
	};
	await store.setHeld(queueId, held);
	await store.removeOutbox(queueId);
	winston.info(`[agentgate] queued post ${queueId} of uid ${record.agent_uid} is held as draft ${answer.draft_id}`);
	await notify.held(held);
	return held;
}

/**
 * Called while NodeBB queues an agent's post (before the queue item is written). Writes the
 * outbox record and tries the send once. Returns the agentgate part of the agent's answer;
 * throws (so nothing is queued and the agent's call answers 400) when agentgate refuses the
 * post for good.
 */
async function holdNew(queueId, type, data, agent, invoker) {
	const { body, where } = await buildIntakeBody(queueId, type, data, agent, invoker);
	const record = {
		queue_id: queueId,
		webhook_id: `nbb_${crypto.randomUUID()}`,
		body,
		agent_uid: String(agent.uid),
		agent_name: agent.username,
		invoker_uid: String(invoker.uid),
		where,
		new_topic: type === 'topic' ? '1' : '0',
		attempts: 0,
		created: Date.now(),
	};
	// leased: the outbox worker leaves it alone while this first attempt runs
	await store.addOutbox(queueId, record, Date.now() + config.get().timeoutMs + 5000);
	const result = await post(record.webhook_id, body);
	if (result.kind === 'held') {
		const held = await markHeld(queueId, record, result.json);
		return { status: 'held', draft_id: held.draft_id, review_url: held.review_url, flags: result.json.flags || [] };
	}
	if (result.kind === 'refused' || result.kind === 'rate_limited') {
		await store.removeOutbox(queueId);
		throw new Error(`agentgate refused the post (HTTP ${result.status}, ${result.message}); nothing was queued`);
	}
	await store.setOutboxDue(queueId, Date.now() + backoff(0, result.retryAfterMs), {
		attempts: 1, last_error: result.message,
	});
	winston.warn(`[agentgate] could not send queued post ${queueId} to agentgate (${result.message}); it stays queued and is retried`);
	return {
		status: 'waiting',
		message: 'agentgate could not be reached; the post stays in the post queue and is sent to agentgate as soon as it answers, never published without approval',
	};
}

/** One outbox retry for a queued post (the worker calls this for records that are due). */
async function retry(queueId) {
	const record = await store.getOutbox(queueId);
	if (!record) {
		await store.removeOutbox(queueId);
		return;
	}
	const queued = await posts.getFromQueue(queueId);
	if (!queued) {
		if (Date.now() - Number(record.created) < 60000) {
			// NodeBB writes the queue item just after the first attempt: look again shortly
			await store.setOutboxDue(queueId, Date.now() + 5000);
			return;
		}
		// removed from the queue meanwhile (by a moderator, the agent, or a user deletion)
		await store.removeOutbox(queueId);
		return;
	}
	const settings = config.get();
	await store.setOutboxDue(queueId, Date.now() + settings.timeoutMs + 5000);
	const result = await post(record.webhook_id, record.body);
	const attempts = Number(record.attempts || 0) + 1;
	if (result.kind === 'held') {
		await markHeld(queueId, record, result.json);
	} else if (result.kind === 'refused') {
		winston.warn(`[agentgate] agentgate refused queued post ${queueId} (${result.message}); removing it from the queue`);
		await store.removeOutbox(queueId);
		await posts.removeFromQueue(queueId);
		await notify.notPublished(record.agent_uid, queueId, {
			newTopic: record.new_topic === '1',
			where: record.where,
			content: queued.data.content,
			outcome: 'refused by agentgate',
			reason: result.message,
		});
	} else {
		await store.setOutboxDue(queueId, Date.now() + backoff(attempts, result.retryAfterMs), {
			attempts, last_error: result.message,
		});
	}
}

let timer = null;
let lastPurge = 0;

async function runDue() {
	timer = null;
	try {
		const due = await store.dueOutbox(Date.now(), 20);
		for (const queueId of due) {
			// eslint-disable-next-line no-await-in-loop
			await retry(queueId).catch((err) => {
				winston.error(`[agentgate] retrying queued post ${queueId} failed: ${err.stack}`);
			});
		}
		if (Date.now() - lastPurge > 3600 * 1000) {
			lastPurge = Date.now();
			await store.purge();
		}
	} catch (err) {
		winston.error(`[agentgate] outbox worker: ${err.stack}`);
	}
	let delay = 5000;
	try {
		const next = await store.nextDue();
		if (next !== null) {
			delay = Math.min(5000, Math.max(100, next - Date.now()));
		}
	} catch {
		// the database is away: try again in a while
	}
	timer = setTimeout(runDue, delay);
}

/** Starts the outbox worker; every unsent post is retried at once after a (re)start. */
async function startWorker() {
	if (timer) {
		return;
	}
	const pending = await store.allOutbox();
	const now = Date.now();
	for (const queueId of pending) {
		// eslint-disable-next-line no-await-in-loop
		await store.setOutboxDue(queueId, now);
	}
	if (pending.length) {
		winston.info(`[agentgate] ${pending.length} queued post(s) still to send to agentgate`);
	}
	timer = setTimeout(runDue, 0);
}

module.exports = { holdNew, startWorker };
