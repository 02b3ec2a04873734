// second_approver_for (CONTRACT §7): a flagged draft approved by its invoker also needs a
// moderator's co-approval, never the invoker's own, before it is released.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QUICK_RETRIES, decide, eventually, newSecret, postIntake, psql, samplePost, startServer } from '../lib/harness.mjs';
import { startFakeForum } from '../lib/fake_forum.mjs';
import { devSignIn } from '../lib/web.mjs';

async function setup(rule) {
  const releaseSecret = newSecret();
  const forum = await startFakeForum({ secret: releaseSecret });
  const inbound = newSecret();
  const srv = await startServer({
    forums: { eng: { inbound_secret: inbound, rate_limit: 'none', release_url: forum.url, release_secret: releaseSecret, second_approver_for: rule } },
    delivery: QUICK_RETRIES,
  });
  srv.secret = inbound;
  return { srv, forum };
}

const state = (srv, id) => psql(srv.database, `SELECT state || ' ' || coapproval_pending FROM drafts WHERE id = '${id}'`);
const until = (srv, id, expected, what) => eventually(async () => (await state(srv, id)) === expected, { what });

/** Events queued or delivered for the draft, in one statement: none while a co-approval is due. */
const events = (srv, id) =>
  psql(srv.database, `SELECT (SELECT count(*) FROM outbox WHERE draft_id = '${id}') + (SELECT count(*) FROM deliveries WHERE draft_id = '${id}')`);

describe('second approver', () => {
  it('holds a critical-flagged approval until a moderator other than the invoker co-approves', async () => {
    const { srv, forum } = await setup('critical');
    try {
      const flagged = await postIntake(srv, samplePost({ post: { topic_id: '1', body: 'use AKIAZ7QW3ERTY6UIOP4X' } }));
      const plain = await postIntake(srv, samplePost({ post: { topic_id: '1', body: 'mail maria.lopez@gmail.com' } }));
      const flags = async (id) => JSON.parse(await psql(srv.database, `SELECT flags FROM drafts WHERE id = '${id}'`));
      assert.equal((await decide(srv, flagged.json.draft_id, { flags: (await flags(flagged.json.draft_id)).map((f) => f.code) })).status, 200);
      assert.equal((await decide(srv, plain.json.draft_id, { flags: (await flags(plain.json.draft_id)).map((f) => f.code) })).status, 200);
      await until(srv, plain.json.draft_id, 'released false', 'warning-only draft released');
      // approved but held for a co-approval: no event for the forum exists, so none can go out
      assert.equal(await state(srv, flagged.json.draft_id), 'approved true');
      assert.equal(await events(srv, flagged.json.draft_id), '0');
      assert.equal(forum.arrivals.filter((e) => e.draftId === flagged.json.draft_id).length, 0);

      const invokerModerator = await devSignIn(srv, { user_id: '1001', username: 'alice', groups: 'moderators' });
      const moderator = await devSignIn(srv, { user_id: '4004', username: 'mona', groups: 'moderators' });
      const engineer = await devSignIn(srv, { user_id: '3003', username: 'carol' });
      const ack = (await flags(flagged.json.draft_id)).map((_, i) => String(i));
      const path = `/drafts/${flagged.json.draft_id}/coapprove`;
      assert.equal((await invokerModerator.post(path, { ack })).status, 403, 'never the invoker');
      assert.equal((await engineer.post(path, { ack })).status, 404, 'engineers do not see it');
      const noAck = await moderator.post(path, {});
      assert.equal(noAck.status, 303, noAck.text.slice(0, 300));
      assert.match(noAck.headers.get('location'), /error=flags_not_acknowledged/);
      assert.equal((await moderator.get(noAck.headers.get('location'))).status, 400);
      assert.match((await moderator.get(`/drafts/${flagged.json.draft_id}`)).text, /Co-approve/);
      assert.equal((await moderator.post(path, { ack })).status, 303);
      await until(srv, flagged.json.draft_id, 'released false', 'released after co-approval');
      const event = forum.unique('draft.approved').find((e) => e.body.data.draft_id === flagged.json.draft_id);
      assert.deepEqual(event.body.data.co_approved_by, { id: '4004', name: 'mona' });
      const again = await moderator.post(path, { ack });
      assert.match(again.headers.get('location'), /error=nothing_to_coapprove/, 'only once');
      assert.equal((await moderator.get(again.headers.get('location'))).status, 409);
    } finally {
      await srv.stop();
      await forum.stop();
    }
  });

  it('with any-flag, a warning-only draft needs a co-approval too; with none, nothing does', async () => {
    for (const [rule, expected] of [['any-flag', 'approved true'], ['none', 'released false']]) {
      const { srv, forum } = await setup(rule);
      try {
        const res = await postIntake(srv, samplePost({ post: { topic_id: '1', body: 'mail maria.lopez@gmail.com' } }));
        const codes = JSON.parse(await psql(srv.database, `SELECT flags FROM drafts WHERE id = '${res.json.draft_id}'`)).map((f) => f.code);
        assert.equal((await decide(srv, res.json.draft_id, { flags: codes })).status, 200);
        if (expected.startsWith('released')) await until(srv, res.json.draft_id, expected, rule);
        else {
          assert.equal(await state(srv, res.json.draft_id), expected, rule);
          assert.equal(await events(srv, res.json.draft_id), '0', `${rule}: nothing queued for the forum`);
        }
      } finally {
        await srv.stop();
        await forum.stop();
      }
    }
  });
});
