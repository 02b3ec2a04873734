'use strict';

// POST /api/v3/plugins/agentgate/release: agentgate's deliveries (CONTRACT §5, generic
// adapter). Each is verified with the Standard Webhooks reference library over the exact bytes
// received (captured before NodeBB's body parser, see rawbody.js) with the release secret and
// its 5-minute timestamp tolerance. A webhook-id already answered gets the same answer again and
// nothing is done twice.
//   draft.approved  publish the queued post as approved (title and body of the approved
//                   revision) as the agent; answer {"post_id", "post_url"}
//   draft.rejected, draft.expired, draft.revoked
//                   remove the queued post, tell the agent's account why
//   draft.expiring  remind the invoker, with the review link

const nconf = require.main.require('nconf');
const winston = require.main.require('winston');
const posts = require.main.require('./src/posts');
const topics = require.main.require('./src/topics');
const { Webhook, WebhookVerificationError } = require('standardwebhooks');

const config = require('./config');
const store = require('./store');
const notify = require('./notify');

const OUTCOME = {
	'draft.rejected': 'rejected',
	'draft.expired': 'not approved in time (expired)',
	'draft.revoked': 'revoked',
};

// queue ids agentgate is publishing right now: {title, body, target}. Only these pass the
// guard on NodeBB's own "accept queued post" (guard.js).
const releasing = new Map();

// one delivery per webhook-id, and one action per queued post, at a time (in this process)
const running = new Map();
function serialised(key, fn) {
	const previous = running.get(key) || Promise.resolve();
	const next = previous.catch(() => {}).then(fn);
	running.set(key, next);
	next.finally(() => {
		if (running.get(key) === next) {
			running.delete(key);
		}
	}).catch(() => {});
	return next;
}

function error(status, code, message) {
	return { status, body: { error: { code, message } } };
}

async function topicUrl(tid) {
	const slug = await topics.getTopicField(tid, 'slug');
	return slug ? `${nconf.get('url')}/topic/${slug}` : null;
}

async function approved(data) {
	const queueId = data.post.forum_ref;
	const published = await store.getPublished(queueId);
	if (published) {
		return { status: 200, body: { post_id: published.post_id, post_url: published.post_url } };
	}
	const queued = await posts.getFromQueue(queueId);
	if (!queued) {
		// 410 stops agentgate's retries: there is nothing left to publish
		return error(410, 'not_in_queue', `queued post ${queueId} is no longer in NodeBB's post queue (removed there); nothing was published`);
	}
	if (String(queued.uid) !== String(data.agent.id)) {
		return error(410, 'agent_mismatch', `queued post ${queueId} belongs to uid ${queued.uid}, not to agent ${data.agent.id}; nothing was published`);
	}
	const target = queued.type === 'topic' ?
		{ cid: data.post.category, title: data.post.title } :
		{ tid: data.post.topic_id };
	releasing.set(queueId, { body: data.post.body, ...target });
	let result;
	try {
		result = await posts.submitFromQueue(queueId);
	} catch (err) {
		winston.warn(`[agentgate] publishing queued post ${queueId} failed: ${err.message}`);
		return error(409, 'publish_failed', `NodeBB could not publish the post: ${err.message}`);
	} finally {
		releasing.delete(queueId);
	}
	if (!result || !result.pid) {
		return error(410, 'not_in_queue', `queued post ${queueId} is no longer in NodeBB's post queue; nothing was published`);
	}
	const answer = { post_id: String(result.pid), post_url: `${nconf.get('url')}/post/${result.pid}` };
	await store.setPublished(queueId, answer);
	await store.removeHeld(queueId);
	await store.removeOutbox(queueId);
	winston.info(`[agentgate] published draft ${data.draft_id} (queued post ${queueId}) as post ${result.pid}`);
	return { status: 200, body: answer };
}

async function notPublished(type, data) {
	const queueId = data.post.forum_ref;
	const queued = await posts.getFromQueue(queueId);
	if (queued) {
		await posts.removeFromQueue(queueId);
		const newTopic = queued.type === 'topic';
		const where = newTopic ? queued.data.title : await topics.getTopicField(queued.data.tid, 'title');
		const by = data.rejected_by && data.rejected_by.name;
		const path = newTopic ? null : await topicUrl(queued.data.tid);
		await notify.notPublished(queued.uid, queueId, {
			newTopic, where, content: queued.data.content, outcome: OUTCOME[type], by, reason: data.reason, path,
		});
		winston.info(`[agentgate] draft ${data.draft_id} ${OUTCOME[type]}: removed queued post ${queueId}`);
	}
	await store.removeHeld(queueId);
	await store.removeOutbox(queueId);
	return { status: 200, body: {} };
}

async function expiring(data) {
	const held = await store.getHeld(data.post.forum_ref);
	if (held) {
		await notify.expiring(held, data.expires_at);
	}
	return { status: 200, body: {} };
}

function checkEvent(event) {
	const settings = config.get();
	const data = event && typeof event === 'object' ? event.data : null;
	if (!data || typeof data !== 'object' || typeof event.type !== 'string') {
		return 'the body must be an event {"type", "data"}';
	}
	if (data.forum !== settings.forum) {
		return `the event is for forum "${data.forum}", this NodeBB is "${settings.forum}"`;
	}
	if (!data.post || typeof data.post !== 'object' || typeof data.post.forum_ref !== 'string' ||
		!/^(topic|reply)-[0-9]{1,20}$/.test(data.post.forum_ref)) {
		return 'data.post.forum_ref must name a NodeBB post queue item';
	}
	if (!data.agent || typeof data.agent !== 'object') {
		return 'data.agent is missing';
	}
	if (event.type === 'draft.approved' && typeof data.post.body !== 'string') {
		return 'data.post.body is missing';
	}
	return null;
}

async function act(event) {
	const problem = checkEvent(event);
	if (problem) {
		return error(400, 'invalid_event', problem);
	}
	const { data } = event;
	return serialised(`queue:${data.post.forum_ref}`, async () => {
		switch (event.type) {
			case 'draft.approved':
				return approved(data);
			case 'draft.rejected':
			case 'draft.expired':
			case 'draft.revoked':
				return notPublished(event.type, data);
			case 'draft.expiring':
				return expiring(data);
			default:
				return { status: 200, body: { ignored: `event type ${event.type} needs nothing from NodeBB` } };
		}
	});
}

/** Express handler for the release route. */
async function handle(req, res) {
	const reply = ({ status, body }) => res.status(status).json(body);
	const settings = config.get();
	if (!settings.ok) {
		return reply(error(503, 'not_configured', 'the agentgate plugin is not configured (see NodeBB\'s log)'));
	}
	const raw = req.agentgateRawBody;
	if (!Buffer.isBuffer(raw)) {
		winston.error('[agentgate] release refused: the raw request body was not captured');
		return reply(error(500, 'raw_body_unavailable', 'the plugin could not read the raw request body to check its signature'));
	}
	let event;
	try {
		event = new Webhook(settings.releaseSecret).verify(raw, req.headers);
	} catch (err) {
		const message = err instanceof WebhookVerificationError ? err.message : 'the body is not JSON';
		winston.warn(`[agentgate] release refused from ${req.ip}: ${message}`);
		return reply(error(401, 'bad_signature', `signature check failed: ${message}`));
	}
	const webhookId = String(req.headers['webhook-id']);
	if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(webhookId)) {
		return reply(error(400, 'invalid_webhook_id', 'webhook-id must be 1 to 200 letters, digits, or _.:-'));
	}
	const answer = await serialised(`delivery:${webhookId}`, async () => {
		const seen = await store.getDelivery(webhookId);
		if (seen) {
			return seen;
		}
		const result = await act(event);
		// a final answer is kept for repeats of this webhook-id; a failure may be retried
		if (result.status < 300 || result.status === 410) {
			await store.setDelivery(webhookId, result.status, result.body);
		}
		return result;
	});
	return reply(answer);
}

module.exports = { handle, releasing };
