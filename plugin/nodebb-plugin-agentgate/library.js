'use strict';

// nodebb-plugin-agentgate: every post or topic an agent account (a member of the configured
// group) creates is held in NodeBB's post queue and sent to agentgate, where the person who
// invoked the agent reviews it; only agentgate's signed approval publishes it, as approved.
// See README.md for the whole flow and the settings.

const nconf = require.main.require('nconf');
const winston = require.main.require('winston');
const groups = require.main.require('./src/groups');
const user = require.main.require('./src/user');
const routeHelpers = require.main.require('./src/routes/helpers');

const config = require('./lib/config');
const agents = require('./lib/agents');
const intake = require('./lib/intake');
const release = require('./lib/release');
const rawbody = require('./lib/rawbody');
const store = require('./lib/store');

const RELEASE_ROUTE = '/agentgate/release'; // under /api/v3/plugins
const RELEASE_PATH = `/api/v3/plugins${RELEASE_ROUTE}`;
const WRITE_POST_PATH = /^\/api\/v3\/topics(\/[^/]+)?\/?$/;
const RELEASED = Symbol('agentgate: published by an approval');

// what agentgate answered for a post being queued right now, for that agent's API answer
const answers = new Map();

function notConfigured() {
	return new Error('agentgate: this account is an agent, but the agentgate plugin is not configured, so its posts are refused; ask the forum administrator');
}

const plugin = module.exports;

/** static:app.preload — runs before NodeBB's routes are set up. */
plugin.preload = async ({ app }) => {
	const relative = nconf.get('relative_path') || '';
	rawbody.install(app, `${relative}${RELEASE_PATH}`);
	// the agent's API answer for a queued post also carries agentgate's review link
	app.use((req, res, next) => {
		if (req.method === 'POST' && WRITE_POST_PATH.test(req.path.slice(relative.length))) {
			const json = res.json.bind(res);
			res.json = (body) => {
				const response = body && body.response;
				if (response && response.queued && answers.has(response.id)) {
					response.agentgate = answers.get(response.id).info;
					answers.delete(response.id);
				}
				return json(body);
			};
		}
		next();
	});
};

/** static:app.load — checks the settings and starts the outbox worker. */
plugin.init = async () => {
	const settings = config.get();
	if (!settings.ok) {
		for (const problem of settings.problems) {
			winston.error(`[agentgate] config.json: ${problem}; agents' posts are refused until this is fixed`);
		}
	} else if (!(await groups.exists(settings.agentsGroup))) {
		winston.warn(`[agentgate] the group "${settings.agentsGroup}" (agentgate.agents_group) does not exist: no account is treated as an agent`);
	} else {
		winston.info(`[agentgate] holding posts of group "${settings.agentsGroup}" in agentgate at ${settings.url} (forum ${settings.forum})`);
	}
	if (settings.ok && nconf.get('runJobs')) {
		await intake.startWorker();
	}
};

/** static:api.routes — the release route, POST /api/v3/plugins/agentgate/release. */
plugin.addRoutes = async ({ router }) => {
	routeHelpers.setupApiRoute(router, 'post', RELEASE_ROUTE, [], release.handle);
};

/** filter:middleware.authenticate — the release route is signed, not signed in (no CSRF). */
plugin.skipAuthentication = async (data) => {
	data.skip.post = (data.skip.post || []).concat(RELEASE_PATH);
	return data;
};

/**
 * The invoker an agent's post names (agents.resolveInvoker), or null when `uid` is not an agent.
 * Throws, refusing the post, when agentgate is not configured or the post names no valid
 * invoker.
 */
async function agentPostInvoker(uid, data) {
	if (!(await agents.isAgent(uid))) {
		return null;
	}
	if (!config.get().ok) {
		throw notConfigured();
	}
	return agents.resolveInvoker(uid, data);
}

/** filter:post.shouldQueue — every agent post is queued, and must name its invoker. */
plugin.shouldQueue = async (data) => {
	if (await agentPostInvoker(data.uid, data.data)) {
		data.shouldQueue = true;
	}
	return data;
};

/**
 * filter:post-queue.save — before NodeBB writes an agent's queue item: send it to agentgate
 * (or keep it for retries). Throws when agentgate refuses it, so nothing is queued.
 */
plugin.holdQueuedPost = async (payload) => {
	const invoker = await agentPostInvoker(payload.uid, payload.data);
	if (!invoker) {
		return payload;
	}
	const agent = await user.getUserFields(payload.uid, ['uid', 'username']);
	delete payload.data.agentgate;
	const info = await intake.holdNew(payload.id, payload.type, payload.data, agent, invoker);
	const now = Date.now();
	for (const [id, entry] of answers) {
		if (now - entry.at > 60000) {
			answers.delete(id);
		}
	}
	answers.set(payload.id, { info, at: now });
	return payload;
};

/** filter:post-queue:submitFromQueue — only agentgate's approval publishes an agent's post. */
plugin.guardAccept = async (hookData) => {
	const item = hookData.data;
	const approved = release.releasing.get(item.id);
	if (approved) {
		// the approved revision, where it was approved to go, published now
		item.data.content = approved.body;
		if (item.type === 'topic') {
			item.data.title = approved.title;
			if (/^[0-9]+$/.test(String(approved.cid || ''))) {
				item.data.cid = Number(approved.cid);
			}
		} else if (/^[0-9]+$/.test(String(approved.tid || ''))) {
			item.data.tid = Number(approved.tid);
		}
		item.data.timestamp = Date.now();
		delete item.data.agentgate;
		item.data[RELEASED] = true;
		return hookData;
	}
	const held = await store.getHeld(item.id);
	if (held || (await agents.isAgent(item.uid))) {
		throw new Error('agentgate: this post was written by an agent and is held in agentgate; only the approval of the person who invoked the agent publishes it' +
			(held && held.review_url ? ` (${held.review_url})` : ''));
	}
	return hookData;
};

/** filter:topic.post, filter:topic.reply — no other way for an agent to publish. */
plugin.guardPublish = async (data) => {
	if (!data[RELEASED] && (await agents.isAgent(data.uid))) {
		throw new Error('agentgate: an agent account cannot publish directly; its posts are held in the post queue until approved in agentgate');
	}
	return data;
};

/** filter:post.edit — an agent cannot change what its invoker approved. */
plugin.guardEdit = async (data) => {
	if (await agents.isAgent(data.uid)) {
		throw new Error('agentgate: an agent account cannot edit posts; what it publishes is what its invoker approved');
	}
	return data;
};

/** action:post-queue:removeFromQueue — a queue item removed in NodeBB is not sent any more. */
plugin.forgetQueued = async ({ data }) => {
	if (data && data.id) {
		await store.removeOutbox(data.id);
		await store.removeHeld(data.id);
	}
};
