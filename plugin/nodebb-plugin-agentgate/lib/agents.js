'use strict';

// Who is an agent (a member of the configured group) and who invoked it (named in the agent's
// API call as "agentgate": {"invoker_uid": N, "context": {...}}).

const groups = require.main.require('./src/groups');
const user = require.main.require('./src/user');

const config = require('./config');

async function isAgent(uid) {
	const n = parseInt(uid, 10);
	if (!Number.isInteger(n) || n <= 0 || String(n) !== String(uid).trim()) {
		return false;
	}
	return await groups.isMember(n, config.get().agentsGroup);
}

const USAGE = 'name the person who invoked the agent in the body field ' +
	'"agentgate": {"invoker_uid": <their NodeBB uid>, "context": {...}}';

/**
 * Checks the "agentgate" field of an agent's post; returns {uid, username, context} of the
 * invoker or throws an Error whose message the agent's API call answers with (HTTP 400).
 */
async function resolveInvoker(agentUid, data) {
	const field = data && data.agentgate;
	if (!field || typeof field !== 'object' || Array.isArray(field)) {
		throw new Error(`agentgate: this account is an agent, its posts are held for approval; ${USAGE}`);
	}
	const raw = field.invoker_uid;
	const text = typeof raw === 'number' || typeof raw === 'string' ? String(raw).trim() : '';
	if (!/^[1-9][0-9]{0,15}$/.test(text)) {
		throw new Error(`agentgate: "agentgate.invoker_uid" must be a NodeBB user id (a positive whole number); ${USAGE}`);
	}
	const invokerUid = Number(text);
	if (invokerUid === Number(agentUid)) {
		throw new Error('agentgate: the invoker cannot be the agent itself; name the person who asked the agent to post');
	}
	const invoker = await user.getUserFields(invokerUid, ['uid', 'username']);
	if (!invoker || !invoker.uid || !(await user.exists(invokerUid))) {
		throw new Error(`agentgate: no NodeBB user has uid ${invokerUid} (agentgate.invoker_uid)`);
	}
	if (await isAgent(invokerUid)) {
		throw new Error(`agentgate: the invoker (uid ${invokerUid}) is an agent account; name the person who asked the agent to post`);
	}
	const { context } = field;
	if (context !== undefined && (context === null || typeof context !== 'object' || Array.isArray(context))) {
		throw new Error('agentgate: "agentgate.context" must be an object such as {"question_url": "...", "agent_run_url": "...", "prompt_excerpt": "..."}');
	}
	return { uid: invokerUid, username: String(invoker.username), context };
}

module.exports = { isAgent, resolveInvoker };
