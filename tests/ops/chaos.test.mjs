// Chaos: steady intake and approval load (approvals through the signed decision API, CONTRACT
// §4.2) against one agentgate whose deliveries go to a fake forum that checks every signature.
//
// 1. SIGKILL: `serve` is killed CHAOS_KILLS times (default 3) and started again, and
//    PostgreSQL is crashed and restarted once (pg_ctl stop -m immediate, then start) while
//    `serve` runs. Afterwards, checked with SQL and against what the forum received: every
//    202 has its draft; every draft approved in the database reached the forum at least once,
//    under one webhook-id (several receipts of one webhook-id are retries, which the contract
//    allows after a crash; two webhook-ids for one draft would be a double publication); the
//    forum got no approval for a draft the database does not hold as approved; every approval
//    answered 200 is in the database; and `audit verify` passes.
// 2. SIGTERM: in the middle of the same load, `serve` gets SIGTERM. It exits 0, every 202 is
//    stored, every approval is delivered after a restart, and nothing is delivered twice (not
//    even as a retry: the delivery in progress was finished, not cut).
// Intake may answer only 202 or 503 (or nothing, while serve is down), decisions only 200, 409
// or 503: any other answer fails the test with its body, the log lines of its X-Request-Id and
// the servers' error lines.
// Prints the counts. CHAOS_STEP (default 40): 202s between two kills.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, newSecret, samplePost, startServer } from '../lib/harness.mjs';
import { startFakeForum } from '../lib/fake_forum.mjs';
import { approvalLoad, auditVerify, draftsFound, intakeLoad, managedServer, startCluster, statusCounts, unexpectedAnswers } from './ops_lib.mjs';

const KILLS = Number(process.env.CHAOS_KILLS || 3);
const STEP = Number(process.env.CHAOS_STEP || 40);
const FAST = { retry_schedule: '0s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s', timeout: '2s', connect_timeout: '1s' };
// A post no flag rule matches, so an approval needs no acknowledgement.
const post = () => samplePost({ post: { topic_id: '5531', body: 'Thanks for asking: the answer is in the runbook, section four.' } });

/**
 * Runs `body` against a fresh cluster, fake forum and agentgate with intake and approval load
 * running, then stops everything whatever happened: body({cluster, forum, server, intake,
 * approvals}).
 */
async function withLoad(name, body) {
  const cluster = startCluster();
  cluster.sql('postgres', `CREATE DATABASE ${name}`);
  const releaseSecret = newSecret();
  const forum = await startFakeForum({ secret: releaseSecret });
  const secret = newSecret();
  let server = null;
  let intake = null;
  let approvals = null;
  try {
    server = managedServer(await startServer({
      database: name,
      secret,
      server: { database: cluster.conninfo(name), threads: 4 },
      forums: { eng: { inbound_secret: secret, rate_limit: 'none', release_url: forum.url, release_secret: releaseSecret } },
      delivery: FAST,
    }));
    approvals = approvalLoad(server, { concurrency: 2 });
    intake = intakeLoad(server, { concurrency: 4, post, onHeld: (id) => approvals.add(id) });
    await body({ cluster, forum, server, intake, approvals });
  } finally {
    if (intake) await intake.stop();
    if (approvals) {
      approvals.running = false;
      approvals.queue.length = 0;
    }
    if (server) await server.stop().catch(() => {});
    await forum.stop();
    cluster.stop('immediate');
  }
}

/** What the forum received for approvals: draft id -> {ids: Set of webhook-ids, receipts}. */
function approvalsReceived(forum) {
  const byDraft = new Map();
  for (const r of forum.received.filter((x) => x.type === 'draft.approved')) {
    const entry = byDraft.get(r.body.data.draft_id) || { ids: new Set(), receipts: 0 };
    entry.ids.add(r.id);
    entry.receipts++;
    byDraft.set(r.body.data.draft_id, entry);
  }
  return byDraft;
}

/** Waits until no draft is approved-but-undelivered, then checks approvals against the forum. */
async function checkApprovals(cluster, database, forum, approvals) {
  await eventually(() => cluster.sql(database, "SELECT count(*) FROM drafts WHERE state = 'approved'") === '0', { what: 'every approved draft to be released' });
  const decided = cluster.sql(database, "SELECT id || ' ' || state FROM drafts WHERE state IN ('approved', 'released', 'release_failed')")
    .split('\n').filter(Boolean).map((l) => l.split(' '));
  const received = approvalsReceived(forum);
  const states = statusCounts(decided.map(([, state]) => ({ status: state })));
  assert.deepEqual(Object.keys(states), decided.length ? ['released'] : [], `approved drafts end released: ${JSON.stringify(states)}`);
  const approvedIds = new Set(decided.map(([id]) => id));
  const notReceived = [...approvedIds].filter((id) => !received.has(id));
  const twice = [...received.entries()].filter(([, e]) => e.ids.size > 1).map(([id]) => id);
  const unexpected = [...received.keys()].filter((id) => !approvedIds.has(id));
  const answeredButMissing = [...approvals.approved].filter((id) => !approvedIds.has(id));
  assert.deepEqual(notReceived, [], 'approved drafts the forum never received');
  assert.deepEqual(twice, [], 'drafts published under two webhook-ids');
  assert.deepEqual(unexpected, [], 'approvals the forum received for drafts not approved in the database');
  assert.deepEqual(answeredButMissing, [], 'approvals answered 200 but not in the database');
  const receipts = [...received.values()].reduce((n, e) => n + e.receipts, 0);
  return { approved: approvedIds.size, receipts, distinct: received.size, retries: receipts - received.size };
}

describe('chaos', () => {
  it(`keeps every promise through ${KILLS} SIGKILLs of serve and a PostgreSQL crash`, async () => {
    await withLoad('chaos', async ({ cluster, forum, server, intake, approvals }) => {
      let pgRestarts = 0;
      for (let k = 1; k <= KILLS; k++) {
        await eventually(() => intake.count(202) >= k * STEP, { what: `${k * STEP} posts held` });
        if (k === Math.ceil(KILLS / 2)) {
          cluster.stop('immediate');
          cluster.start();
          pgRestarts++;
          await eventually(() => intake.count(202) >= k * STEP + STEP / 2, { what: 'posts held after PostgreSQL restarted' });
        }
        await server.kill();
        await server.start();
      }
      await eventually(() => intake.count(202) >= (KILLS + 1) * STEP, { what: 'posts held after the last kill' });
      await intake.stop();
      await approvals.stop();

      const held = intake.results.filter((r) => r.status === 202);
      const found = draftsFound(cluster, 'chaos', held);
      const result = await checkApprovals(cluster, 'chaos', forum, approvals);
      const decisions = statusCounts(approvals.attempts);
      console.log(`chaos: ${KILLS} SIGKILLs, ${pgRestarts} PostgreSQL crash+restart; intake ${intake.results.length} requests ` +
        `${JSON.stringify(statusCounts(intake.results))} (0 = no answer); ${found} of ${held.length} 202s stored; ` +
        `decisions ${JSON.stringify(decisions)}; ${result.approved} drafts approved, forum received ${result.receipts} ` +
        `approvals under ${result.distinct} webhook-ids (${result.retries} retries of one webhook-id)`);
      assert.equal(found, held.length, 'every 202 has its draft');
      assert.equal(unexpectedAnswers(intake.results, ['0', '202', '503'], server), '', 'intake answered only 202 or 503');
      assert.equal(unexpectedAnswers(approvals.attempts, ['0', '200', '409', '503'], server), '', 'decisions answered only 200, 409 or 503');
      assert.ok(result.approved > 0);
      assert.equal(forum.rejected.length, 0, 'every delivery was signed correctly');
      const verify = await auditVerify(server.configFile);
      assert.equal(verify.status, 0, verify.stderr + verify.stdout);
    });
  });

  it('SIGTERM during load: every 202 stored, every approval delivered after a restart, nothing delivered twice', async () => {
    await withLoad('sigterm', async ({ cluster, forum, server, intake, approvals }) => {
      await eventually(() => intake.count(202) >= STEP && approvals.approved.size >= STEP / 4, { what: 'steady intake and approvals' });
      const stopped = await server.terminate();
      const inFlightAnswers = statusCounts(intake.results.filter((r) => r.done >= Date.now() - stopped.ms));
      assert.equal(stopped.code, 0, `serve exited with ${stopped.code ?? stopped.signal}:\n${stopped.logs.slice(-2000)}`);
      await server.start();
      const heldAtRestart = intake.count(202);
      await eventually(() => intake.count(202) >= heldAtRestart + STEP / 2, { what: 'posts held after the restart' });
      await intake.stop();
      await approvals.stop();

      const held = intake.results.filter((r) => r.status === 202);
      const found = draftsFound(cluster, 'sigterm', held);
      const result = await checkApprovals(cluster, 'sigterm', forum, approvals);
      console.log(`sigterm: serve exited ${stopped.code} ${stopped.ms} ms after SIGTERM (answers while stopping: ${JSON.stringify(inFlightAnswers)}); ` +
        `intake ${JSON.stringify(statusCounts(intake.results))}; ${found} of ${held.length} 202s stored; decisions ` +
        `${JSON.stringify(statusCounts(approvals.attempts))}; ${result.approved} approved, forum received ${result.receipts} under ${result.distinct} webhook-ids`);
      assert.equal(found, held.length, 'every 202 has its draft');
      assert.equal(result.retries, 0, 'nothing delivered twice');
      assert.equal(unexpectedAnswers(intake.results, ['0', '202', '503'], server), '', 'intake answered only 202 or 503');
      const verify = await auditVerify(server.configFile);
      assert.equal(verify.status, 0, verify.stderr + verify.stdout);
    });
  });
});
