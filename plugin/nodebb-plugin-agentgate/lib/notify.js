'use strict';

// NodeBB notifications sent by the plugin: the invoker learns that a post waits for their
// approval (with the review link), the agent's account learns why its post was not published.

const validator = require.main.require('validator');
const winston = require.main.require('winston');
const notifications = require.main.require('./src/notifications');
const translator = require.main.require('./src/translator');

/** Text from users or agentgate, made inert for NodeBB's notification rendering. */
function inert(text) {
	return translator.escape(validator.escape(String(text ?? '')));
}

async function send(uid, { nid, bodyShort, bodyLong = '', path, from }) {
	try {
		const notification = await notifications.create({
			type: 'agentgate',
			nid,
			bodyShort,
			bodyLong,
			path,
			from,
			importance: 6,
		});
		if (notification) {
			await notifications.push(notification, [uid]);
		}
	} catch (err) {
		// a failed notification must not undo the hold or the release it reports
		winston.error(`[agentgate] could not notify uid ${uid}: ${err.message}`);
	}
}

/** Tells the invoker that the agent's post waits for them in agentgate. */
function held(record) {
	const where = record.new_topic === '1' ?
		`a new topic “${inert(record.where)}”` :
		`a reply in “${inert(record.where)}”`;
	return send(Number(record.invoker_uid), {
		nid: `agentgate:held:${record.queue_id}`,
		bodyShort: `<strong>${inert(record.agent_name)}</strong> wrote ${where} for you; it is held in agentgate until you approve it`,
		bodyLong: 'Open the link to read, edit, approve or reject it.',
		path: record.review_url,
		from: Number(record.agent_uid),
	});
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "1 Dec 2026 12:18 UTC", or null for a value that is not a time. */
function readableTime(iso) {
	const d = new Date(iso);
	if (typeof iso !== 'string' || Number.isNaN(d.getTime())) {
		return null;
	}
	const pad = n => String(n).padStart(2, '0');
	return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** Tells the invoker that a held post will soon expire unreviewed. */
function expiring(record, expiresAt) {
	const when = readableTime(expiresAt);
	return send(Number(record.invoker_uid), {
		nid: `agentgate:expiring:${record.queue_id}`,
		bodyShort: `The post <strong>${inert(record.agent_name)}</strong> wrote for you (“${inert(record.where)}”) expires ${when ? `on ${when}` : 'soon'} unless you approve it in agentgate`,
		path: record.review_url,
		from: Number(record.agent_uid),
	});
}

function excerpt(text, length = 80) {
	const flat = String(text ?? '').replace(/\s+/g, ' ').trim();
	return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

/**
 * Tells the agent's account why its held post was not published: which post (its topic and the
 * start of its text), what happened, by whom and why.
 */
function notPublished(agentUid, queueId, { newTopic, where, content, outcome, by, reason, path }) {
	const what = newTopic ? `new topic “${inert(where)}”` : `reply in “${inert(where)}”`;
	let text = `agentgate: your ${what} (“${inert(excerpt(content))}”) was ${inert(outcome)}`;
	if (by) {
		text += ` by ${inert(by)}`;
	}
	text += ' and not published';
	if (reason) {
		text += `. Reason: ${inert(reason)}`;
	}
	return send(Number(agentUid), {
		nid: `agentgate:outcome:${queueId}`,
		bodyShort: text,
		path: path || '/',
	});
}

module.exports = { held, expiring, notPublished, inert };
