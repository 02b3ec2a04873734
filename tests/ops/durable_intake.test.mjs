// Durable intake (sql/intake_hold.sql, server/db/drafts.c): a held post's transaction commits
// without waiting for the disk, and its 202 leaves only after a durable commit that follows it.
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

function setStandbyNames(cluster, value) {
  cluster.sql('postgres', value ? `ALTER SYSTEM SET synchronous_standby_names = '${value}'` : 'ALTER SYSTEM RESET synchronous_standby_names');
  cluster.sql('postgres', 'SELECT pg_reload_conf()');
}

/** Sessions waiting for the standby: our probe, or intakes' durable commits (server/db/drafts.c). The
 * sealer's and other background commits of agentgate wait too, and are not counted. */
const waiting = (cluster, what) => Number(cluster.sql('postgres', `SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND ${
  what === 'probe' ? "application_name = 'durable-probe'" : "query LIKE '%pg_logical_emit_message(true, ''agentgate'', ''intake'')%'"}`));

describe('durable intake', () => {
  it('answers no post before a durable commit that follows its own', async () => {
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

      setStandbyNames(cluster, 'absent_standby');
      // A durable commit of our own shows when the setting is in force: it waits too.
      probe = spawn('psql', ['-X', '-qtA', '-h', cluster.host, '-p', String(cluster.port), '-U', 'postgres', '-d', 'postgres',
        '-c', "SELECT pg_logical_emit_message(true, 'probe', 'x')"], { stdio: 'ignore', env: { ...process.env, PGAPPNAME: 'durable-probe' } });
      const probeDone = new Promise((resolve) => probe.on('close', resolve));
      await eventually(() => waiting(cluster, 'probe') === 1, { what: 'durable commits to wait for the absent standby' });

      let answered = 0;
      const posts = Array.from({ length: POSTS }, (_, i) =>
        postIntake(srv, samplePost({ agent: { id: `bot-${i}`, name: `bot ${i}` } })).then((r) => {
          answered++;
          return r;
        }));
      // Drafts are committed and their durable commits wait (posts that share a server thread
      // wait behind them): nothing more can happen before the flush.
      await eventually(() => Number(cluster.sql('durable', 'SELECT count(*) FROM drafts')) > 1 && waiting(cluster, 'intake') > 0,
        { what: 'drafts committed and their durable commits waiting' });
      const committed = Number(cluster.sql('durable', 'SELECT count(*) FROM drafts')) - 1;
      assert.equal(answered, 0, `no post is answered before a durable commit that follows it (${committed} drafts committed)`);

      setStandbyNames(cluster, null);
      const answers = await Promise.all(posts);
      assert.deepEqual(answers.map((r) => r.status), Array(POSTS).fill(202));
      await probeDone;
    } finally {
      if (probe && probe.exitCode === null) probe.kill();
      if (srv) await srv.stop().catch(() => {});
      cluster.stop('immediate');
    }
  });
});
