// Failover: PostgreSQL primary + synchronous streaming standby (pg_basebackup -R), agentgate
// configured with both hosts and target_session_attrs=read-write. Under steady intake load the
// primary crashes (pg_ctl stop -m immediate) and the standby is promoted. agentgate must answer
// 503 while there is no writable primary (never a 202 it cannot keep), find the new primary by
// itself, and afterwards every 202 has its draft there and the audit chain verifies.
//
// Prints the outage seen by clients: from the first 503 to the first 202 after it.
// FAILOVER_HELD_BEFORE / FAILOVER_HELD_AFTER (default 100 / 100): 202s to see before the crash
// and after the recovery.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, newSecret, startServer } from '../lib/harness.mjs';
import { auditVerify, draftsFound, intakeLoad, startCluster, startStandby, statusCounts } from './ops_lib.mjs';

const HELD_BEFORE = Number(process.env.FAILOVER_HELD_BEFORE || 100);
const HELD_AFTER = Number(process.env.FAILOVER_HELD_AFTER || 100);

describe('failover to a promoted standby', () => {
  it('answers 503 during the switch, never a false 202, and recovers by itself', async () => {
    const primary = startCluster();
    let standby = null;
    let srv = null;
    let load = null;
    try {
      primary.sql('postgres', 'CREATE DATABASE failover');
      standby = await startStandby(primary, { synchronous: true });
      const database = `host=${primary.host},${standby.host} port=${primary.port},${standby.port} dbname=failover user=postgres target_session_attrs=read-write`;
      const secret = newSecret();
      srv = await startServer({
        database: 'failover',
        secret,
        server: { database, threads: 4 },
        forums: { eng: { inbound_secret: secret, rate_limit: 'none' } },
      });
      assert.equal(primary.sql('failover', 'SELECT count(*) FROM drafts'), '0', 'migrated on the primary');

      load = intakeLoad(srv, { concurrency: 6 });
      await eventually(() => load.count(202) >= HELD_BEFORE, { what: `${HELD_BEFORE} posts held on the primary` });

      primary.stop('immediate'); // a crash: nothing is flushed or handed over any more
      await eventually(() => load.count(503) > 0, { what: 'a 503 while no primary is writable' });
      standby.promote();
      const firstOutage = load.results.find((r) => r.status === 503);
      const recovered = await eventually(() => load.results.find((r) => r.status === 202 && r.at >= firstOutage.done), { what: 'a 202 from the promoted standby' });
      const heldAtRecovery = load.count(202);
      await eventually(() => load.count(202) >= heldAtRecovery + HELD_AFTER, { what: `${HELD_AFTER} posts held after the failover` });
      await load.stop();

      const counts = statusCounts(load.results);
      const held = load.results.filter((r) => r.status === 202);
      const found = draftsFound(standby, 'failover', held);
      const outage = recovered.done - firstOutage.done;
      console.log(`failover: ${load.results.length} requests: ${JSON.stringify(counts)}; outage seen by clients ` +
        `(first 503 to first 202 after it): ${outage} ms; ${found} of ${held.length} 202s have their draft on the new primary`);

      for (const status of Object.keys(counts)) {
        assert.ok(['202', '503'].includes(status), `only 202 and 503 answers, got ${JSON.stringify(counts)}`);
      }
      assert.equal(found, held.length, 'every 202 has its draft on the new primary');
      assert.equal(standby.sql('failover', 'SELECT pg_is_in_recovery()'), 'f');
      const verify = await auditVerify(srv.configFile);
      assert.equal(verify.status, 0, verify.stderr + verify.stdout);
    } finally {
      if (load) await load.stop();
      if (srv) await srv.stop();
      if (standby) standby.stop();
      primary.stop('immediate');
    }
  });
});
