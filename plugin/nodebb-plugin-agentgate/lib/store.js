'use strict';

// The plugin's records in NodeBB's own database (so they survive a NodeBB restart):
//   agentgate:outbox            sorted set: queue id -> when to try sending it next (ms)
//   agentgate:outbox:<qid>      the signed-intake request still to send (webhook id, body)
//   agentgate:held:<qid>        a post agentgate holds: draft id, review link, who is who
//   agentgate:published:<qid>   what an approval published (post id and URL)
//   agentgate:delivery:<id>     the answer given to a release delivery, by webhook-id
//   agentgate:deliveries, agentgate:published   sorted sets (time) for purging old records

const db = require.main.require('./src/database');

const OUTBOX = 'agentgate:outbox';
const DELIVERIES = 'agentgate:deliveries';
const PUBLISHED = 'agentgate:published';
const KEEP_MS = 30 * 24 * 3600 * 1000; // agentgate retries a delivery for 24 h by default

module.exports = {
	OUTBOX,

	async addOutbox(queueId, record, dueAt) {
		await db.setObject(`${OUTBOX}:${queueId}`, record);
		await db.sortedSetAdd(OUTBOX, dueAt, queueId);
	},
	getOutbox: queueId => db.getObject(`${OUTBOX}:${queueId}`),
	async setOutboxDue(queueId, dueAt, fields) {
		if (fields) {
			await db.setObject(`${OUTBOX}:${queueId}`, fields);
		}
		await db.sortedSetAdd(OUTBOX, dueAt, queueId);
	},
	async removeOutbox(queueId) {
		await db.sortedSetRemove(OUTBOX, queueId);
		await db.delete(`${OUTBOX}:${queueId}`);
	},
	dueOutbox: (now, count) => db.getSortedSetRangeByScore(OUTBOX, 0, count, '-inf', now),
	async nextDue() {
		const [first] = await db.getSortedSetRangeWithScores(OUTBOX, 0, 0);
		return first ? Number(first.score) : null;
	},
	allOutbox: () => db.getSortedSetRange(OUTBOX, 0, -1),

	setHeld: (queueId, record) => db.setObject(`agentgate:held:${queueId}`, record),
	getHeld: queueId => db.getObject(`agentgate:held:${queueId}`),
	removeHeld: queueId => db.delete(`agentgate:held:${queueId}`),

	async setPublished(queueId, answer) {
		await db.setObject(`${PUBLISHED}:${queueId}`, answer);
		await db.sortedSetAdd(PUBLISHED, Date.now(), queueId);
	},
	getPublished: queueId => db.getObject(`${PUBLISHED}:${queueId}`),

	async setDelivery(webhookId, status, body) {
		await db.setObject(`agentgate:delivery:${webhookId}`, { status, body: JSON.stringify(body), at: Date.now() });
		await db.sortedSetAdd(DELIVERIES, Date.now(), webhookId);
	},
	async getDelivery(webhookId) {
		const record = await db.getObject(`agentgate:delivery:${webhookId}`);
		return record ? { status: Number(record.status), body: JSON.parse(record.body) } : null;
	},

	/** Drops delivery answers and publication records older than 30 days. */
	async purge(now = Date.now()) {
		for (const [set, prefix] of [[DELIVERIES, 'agentgate:delivery'], [PUBLISHED, PUBLISHED]]) {
			// eslint-disable-next-line no-await-in-loop
			const old = await db.getSortedSetRangeByScore(set, 0, 500, '-inf', now - KEEP_MS);
			if (old.length) {
				// eslint-disable-next-line no-await-in-loop
				await db.deleteAll(old.map(id => `${prefix}:${id}`));
				// eslint-disable-next-line no-await-in-loop
				await db.sortedSetRemove(set, old);
			}
		}
	},
};
