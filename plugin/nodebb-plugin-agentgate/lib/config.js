'use strict';

// The plugin's settings, read from NodeBB's config.json under "agentgate". A missing or bad
// setting does not stop NodeBB: the plugin then refuses every agent post (fail closed) and
// answers every release with 503, and the log names the problem once at start-up.

const nconf = require.main.require('nconf');

const DEFAULTS = {
	agents_group: 'agents',
	retry_max_seconds: 300,
	timeout_seconds: 10,
};

function isSecret(value) {
	if (typeof value !== 'string' || !value.startsWith('whsec_')) {
		return false;
	}
	const b64 = value.slice('whsec_'.length);
	return /^[A-Za-z0-9+/]+={0,2}$/.test(b64) && Buffer.from(b64, 'base64').length >= 16;
}

function positiveInteger(value, fallback, max) {
	if (value === undefined || value === null || value === '') {
		return fallback;
	}
	const n = Number(value);
	return Number.isInteger(n) && n > 0 && n <= max ? n : NaN;
}

/** Reads and checks the settings; returns {ok, problems, ...settings}. */
function read() {
	const raw = nconf.get('agentgate') || {};
	const problems = [];
	let url = typeof raw.url === 'string' ? raw.url.trim().replace(/\/+$/, '') : '';
	try {
		const parsed = new URL(url);
		if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
			problems.push('agentgate.url must be an http or https URL');
		}
	} catch {
		problems.push('agentgate.url is missing or not a URL (e.g. "https://agentgate.example")');
		url = '';
	}
	const forum = typeof raw.forum === 'string' ? raw.forum : '';
	if (!/^[A-Za-z0-9_.-]{1,64}$/.test(forum)) {
		problems.push('agentgate.forum must name the forum as in agentgate\'s config ([forum NAME])');
	}
	if (!isSecret(raw.inbound_secret)) {
		problems.push('agentgate.inbound_secret must be a whsec_ secret (agentgate secret new)');
	}
	if (!isSecret(raw.release_secret)) {
		problems.push('agentgate.release_secret must be a whsec_ secret (agentgate secret new)');
	}
	const group = raw.agents_group === undefined ? DEFAULTS.agents_group : raw.agents_group;
	if (typeof group !== 'string' || !group.trim()) {
		problems.push('agentgate.agents_group must name a NodeBB group');
	}
	const retryMax = positiveInteger(raw.retry_max_seconds, DEFAULTS.retry_max_seconds, 86400);
	if (Number.isNaN(retryMax)) {
		problems.push('agentgate.retry_max_seconds must be a whole number of seconds, 1 to 86400');
	}
	const timeout = positiveInteger(raw.timeout_seconds, DEFAULTS.timeout_seconds, 120);
	if (Number.isNaN(timeout)) {
		problems.push('agentgate.timeout_seconds must be a whole number of seconds, 1 to 120');
	}
	return {
		ok: problems.length === 0,
		problems,
		url,
		forum,
		inboundSecret: raw.inbound_secret,
		releaseSecret: raw.release_secret,
		agentsGroup: typeof group === 'string' ? group.trim() : DEFAULTS.agents_group,
		retryMaxMs: (retryMax || DEFAULTS.retry_max_seconds) * 1000,
		timeoutMs: (timeout || DEFAULTS.timeout_seconds) * 1000,
	};
}

let current = null;

module.exports = {
	/** The settings as read at start-up (config.json is only read when NodeBB starts). */
	get() {
		if (!current) {
			current = read();
		}
		return current;
	},
	read,
};
