// GET /metrics (CONTRACT §10): Prometheus text that a real exposition-format parser reads,
// counters that move with traffic, gauges read from PostgreSQL, served only to metrics_from,
// and the request id of every answer in its log line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { decide, eventually, newSecret, postIntake, samplePost, startServer } from '../lib/harness.mjs';
import { startFakeForum } from '../lib/fake_forum.mjs';

let srv, forum;
before(async () => {
  forum = await startFakeForum({ secret: newSecret() });
  const secret = newSecret();
  srv = await startServer({
    secret,
    forums: {
      eng: { adapter: 'generic', inbound_secret: secret, rate_limit: 'none', release_url: forum.url, release_secret: forum.secret },
    },
  });
});
after(async () => {
  await srv.stop();
  await forum.stop();
});

/** Scrapes /metrics and parses the whole text (the parser throws on any invalid line). */
async function scrape() {
  const res = await fetch(`${srv.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const families = Object.fromEntries(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
  families.text = text;
  return families;
}

/** One route's request-duration histogram. The parser folds a histogram's label sets into one,
 * so the route's own lines are parsed on their own. */
function routeHistogram(families, route) {
  const lines = families.text.split('\n').filter((l) => l.startsWith('# TYPE agentgate_http_request_duration_seconds ') || l.includes(`{route="${route}"`));
  const [histogram] = parsePrometheusTextFormat(lines.join('\n') + '\n');
  assert.equal(histogram.type, 'HISTOGRAM');
  return histogram.metrics[0];
}

/** The value of `name`'s sample whose labels include `labels`. */
function value(families, name, labels = {}) {
  const family = families[name];
  assert.ok(family, `no metric ${name}`);
  const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  assert.ok(sample, `no ${name} sample with ${JSON.stringify(labels)}`);
  return Number(sample.value ?? sample.count);
}

describe('/metrics', () => {
  it('names every metric of the contract with its type', async () => {
    const families = await scrape();
    const types = {
      agentgate_intake_total: 'COUNTER',
      agentgate_drafts: 'GAUGE',
      agentgate_deliveries_total: 'COUNTER',
      agentgate_delivery_backlog: 'GAUGE',
      agentgate_delivery_oldest_due_seconds: 'GAUGE',
      agentgate_http_request_duration_seconds: 'HISTOGRAM',
      agentgate_db_errors_total: 'COUNTER',
    };
    for (const [name, type] of Object.entries(types)) assert.equal(families[name]?.type, type, name);
  });

  it('counts intakes by outcome, drafts by state and deliveries as traffic flows', async () => {
    const before = await scrape();
    const held = await postIntake(srv, samplePost());
    assert.equal(held.status, 202);
    const replay = await postIntake(srv, samplePost(), { id: held.id });
    assert.equal(replay.status, 202);
    assert.equal((await postIntake(srv, samplePost(), { signature: 'v1,AAAA' })).status, 401);
    assert.equal((await postIntake(srv, '{"agent":')).status, 400);
    const approved = await decide(srv, held.json.draft_id);
    assert.equal(approved.status, 200, approved.text);
    // the delivery is recorded after the forum answered: wait for the counter, not a time
    const delivered = (families) => value(families, 'agentgate_deliveries_total', { forum: 'eng', outcome: 'delivered' });
    const afterTraffic = await eventually(async () => {
      const families = await scrape();
      return delivered(families) > delivered(before) ? families : null;
    }, { what: 'the delivery counted' });
    assert.ok(forum.unique('draft.approved').some((e) => e.body.data.draft_id === held.json.draft_id));
    const delta = (outcome) => value(afterTraffic, 'agentgate_intake_total', { forum: 'eng', outcome }) - value(before, 'agentgate_intake_total', { forum: 'eng', outcome });
    assert.equal(delta('held'), 1);
    assert.equal(delta('duplicate'), 1);
    assert.equal(delta('unauthorized'), 1);
    assert.equal(delta('invalid'), 1);
    assert.equal(value(afterTraffic, 'agentgate_drafts', { forum: 'eng', state: 'released' }) - value(before, 'agentgate_drafts', { forum: 'eng', state: 'released' }), 1);
    const route = 'POST /v1/forums/{}/posts';
    const histogram = routeHistogram(afterTraffic, route);
    // (this parser keeps _count only for unlabelled histograms: +Inf is the count by definition)
    assert.equal(Number(histogram.buckets['+Inf']) - Number(routeHistogram(before, route).buckets['+Inf']), 4);
    const count = new RegExp(`^agentgate_http_request_duration_seconds_count\\{route="${route.replace(/[{}/]/g, '\\$&')}"\\} (\\d+)$`, 'm').exec(afterTraffic.text);
    assert.equal(Number(count[1]), Number(histogram.buckets['+Inf']));
    const bounds = Object.keys(histogram.buckets).filter((b) => b !== '+Inf').map(Number).sort((a, b) => a - b);
    for (let i = 1; i < bounds.length; i++) {
      assert.ok(bounds[i] > bounds[i - 1]);
      assert.ok(Number(histogram.buckets[String(bounds[i])]) >= Number(histogram.buckets[String(bounds[i - 1])]), 'buckets are cumulative');
    }
    assert.ok(value(afterTraffic, 'agentgate_delivery_backlog') >= 0);
  });

  it('answers 404 to an address not in metrics_from', async () => {
    const other = await startServer({ server: { metrics_from: '127.0.0.9' } });
    try {
      const res = await fetch(`${other.url}/metrics`);
      assert.equal(res.status, 404);
      assert.doesNotMatch(await res.text(), /agentgate_/);
    } finally {
      await other.stop();
    }
  });

  it('sends X-Request-Id on every answer, the same id as the log line', async () => {
    for (const path of ['/healthz', '/nowhere', '/v1/forums/eng/posts']) {
      const res = await fetch(`${srv.url}${path}`);
      const id = res.headers.get('x-request-id');
      assert.match(id, /^[0-9a-f]{16}$/);
      await srv.waitForLog(new RegExp(`rid=${id} GET ${path.replace(/\//g, '\\/')} ${res.status} `));
    }
  });
});
