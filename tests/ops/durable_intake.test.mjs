// Durable intake (server/db/durable.c): a held post is answered only after a durable commit that
// follows its own, and posts waiting at the same time share one such commit instead of one each.
//
// The durable commits are held back by making them wait for a synchronous standby that does not
// exist (synchronous_standby_names names one): the drafts commit (asynchronously, by design),
// but no answer may leave until the setting is cleared and the waiting commit completes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { eventually, newSecret, postIntake, samplePost, startServer } from '../lib/harness.mjs';
import { startCluster } from './ops_lib.mjs';

const POSTS = 8;

async function flushesTotal(srv) {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const match = /^agentgate_intake_flushes_total (\d+)$/m.exec(text);
  assert.ok(match, 'agentgate_intake_flushes_total is exported');
  return Number(match[1]);
}

function setStandbyNames(cluster, value) {
  cluster.sql('postgres', value ? `ALTER SYSTEM SET synchronous_standby_names = '${value}'` : 'ALTER SYSTEM RESET synchronous_standby_names');
  cluster.sql('postgres', 'SELECT pg_reload_conf()');
}

const syncRepWaiters = (cluster) => Number(cluster.sql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'"));

describe('durable intake', () => {
  it('answers no post before a durable commit, and posts waiting together share one', async () => {
    const cluster = startCluster(); // durable commits (synchronous_commit on)
    let srv = null;
    let probe = null;
    try {
      cluster.sql('postgres', 'CREATE DATABASE durable');
      const secret = newSecret();
      srv = await startServer({
        database: 'durable',
        secret,
        server: { database: cluster.conninfo('durable'), threads: POSTS },
        forums: { eng: { inbound_secret: secret, rate_limit: 'none' } },
      });
      assert.equal((await postIntake(srv, samplePost())).status, 202, 'held while commits are durable at once');
      const flushesBefore = await flushesTotal(srv);

      setStandbyNames(cluster, 'absent_standby');
      // A durable commit of our own shows when the setting is in force: it waits too.
      probe = spawn('psql', ['-X', '-qtA', '-h', cluster.host, '-p', String(cluster.port), '-U', 'postgres', '-d', 'postgres',
        '-c', "SELECT pg_logical_emit_message(true, 'probe', 'x')"], { stdio: 'ignore' });
      const probeDone = new Promise((resolve) => probe.on('close', resolve));
      await eventually(() => syncRepWaiters(cluster) === 1, { what: 'durable commits to wait for the absent standby' });

      let answered = 0;
      const posts = Array.from({ length: POSTS }, (_, i) =>
        postIntake(srv, samplePost({ agent: { id: `bot-${i}`, name: `bot ${i}` } })).then((r) => {
          answered++;
          return r;
        }));
      // Every post's draft is committed and a durable commit for them is waiting: that is all
      // that can happen before the flush.
      await eventually(() => cluster.sql('durable', 'SELECT count(*) FROM drafts') === String(POSTS + 1) && syncRepWaiters(cluster) >= 2,
        { what: `${POSTS} drafts committed and a durable commit waiting for them` });
      assert.equal(answered, 0, 'no post is answered before a durable commit that follows it');

      setStandbyNames(cluster, null);
      const answers = await Promise.all(posts);
      assert.deepEqual(answers.map((r) => r.status), Array(POSTS).fill(202));
      await probeDone;
      const flushes = (await flushesTotal(srv)) - flushesBefore;
      console.log(`durable intake: ${POSTS} posts held with ${flushes} durable commits`);
      assert.ok(flushes >= 1 && flushes < POSTS, `posts waiting together share durable commits (${flushes} for ${POSTS} posts)`);
    } finally {
      if (probe && probe.exitCode === null) probe.kill();
      if (srv) await srv.stop().catch(() => {});
      cluster.stop('immediate');
    }
  });
});
