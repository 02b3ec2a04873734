// A forum's own flag rules (CONTRACT §8, [forum] flag_rules = PATH): they add to the built-in
// rules for that forum only, reach the 202 answer with their message, and a broken rule file
// stops start-up naming its file and line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { newSecret, postIntake, runCli, samplePost, startServer, tmpdir, writeConfig, conninfo, createDatabase } from '../lib/harness.mjs';

const RULES = `# this forum's own rule: internal project code names must not leak
[secret.project_codename]
severity = critical
message = Names a confidential project: its code name must not appear on the forum.
pattern = (?i)\\bproject[ -](?<value>nightjar|kestrel)\\b
match = The fix ships with Project Nightjar next week.
no_match = The nightjar is a bird.
`;

describe('flag_rules', () => {
  it('adds a forum\'s rules to that forum only, with their message', async () => {
    const dir = tmpdir('rules-');
    fs.writeFileSync(path.join(dir, 'eng.rules'), RULES);
    const secret = newSecret();
    const srv = await startServer({
      secret,
      forums: {
        eng: { inbound_secret: secret, rate_limit: 'none', flag_rules: path.join(dir, 'eng.rules') },
        other: { inbound_secret: secret, rate_limit: 'none' },
      },
    });
    try {
      const body = 'Ask the Project Kestrel team, they hit the same bug.';
      const held = await postIntake(srv, samplePost({ post: { topic_id: '1', body } }));
      assert.equal(held.status, 202, held.text);
      const flag = held.json.flags.find((f) => f.code === 'secret.project_codename');
      assert.ok(flag, JSON.stringify(held.json.flags));
      assert.equal(flag.severity, 'critical');
      assert.match(flag.message, /confidential project/);
      assert.equal(body.slice(flag.start, flag.end).toLowerCase().includes('kestrel'), true);
      const elsewhere = await postIntake(srv, samplePost({ post: { topic_id: '1', body } }), { forum: 'other' });
      assert.equal(elsewhere.status, 202, elsewhere.text);
      assert.ok(!elsewhere.json.flags.some((f) => f.code === 'secret.project_codename'));
      // the built-in rules still apply in the forum with its own
      const token = await postIntake(srv, samplePost({ post: { topic_id: '1', body: 'use ghp_' + 'R8x2Lq9ZkT4mW7nB3vC6yH1pD5sF0gJ2aE8u' } }));
      assert.ok(token.json.flags.some((f) => f.code.startsWith('secret.')), JSON.stringify(token.json.flags));
    } finally {
      await srv.stop();
    }
  });

  it('lets a forum choose the families of the wording check, or turn it off', async () => {
    const dir = tmpdir('rules-');
    fs.writeFileSync(path.join(dir, 'quiet.rules'), '# no statistical warnings here\n[wording]\nfamilies = none\n');
    fs.writeFileSync(path.join(dir, 'some.rules'), '[wording]\nfamilies = access, pii\n');
    const secret = newSecret();
    const srv = await startServer({
      secret,
      forums: {
        quiet: { inbound_secret: secret, rate_limit: 'none', flag_rules: path.join(dir, 'quiet.rules') },
        some: { inbound_secret: secret, rate_limit: 'none', flag_rules: path.join(dir, 'some.rules') },
        plain: { inbound_secret: secret, rate_limit: 'none' },
      },
    });
    try {
      // no rule matches it; its words read like a post with personal data in bulk
      const body = 'The customer list with names, home addresses, dates of birth and mobile phone numbers is attached below for the whole team to work through.';
      const codes = async (forum) => {
        const res = await postIntake(srv, samplePost({ post: { topic_id: '1', body } }), { forum });
        assert.equal(res.status, 202, res.text);
        return res.json.flags.map((f) => `${f.code} ${f.severity}`);
      };
      assert.deepEqual(await codes('plain'), ['pii.reads_like warning']);
      assert.deepEqual(await codes('some'), ['pii.reads_like warning']);
      assert.deepEqual(await codes('quiet'), []);
    } finally {
      await srv.stop();
    }
  });

  it('refuses to start with a rule file that does not hold, naming its file and line', async () => {
    const dir = tmpdir('rules-');
    const broken = RULES.replace('no_match = The nightjar is a bird.', 'no_match = Project Nightjar is late.');
    fs.writeFileSync(path.join(dir, 'bad.rules'), broken);
    const file = writeConfig(dir, {
      server: { listen: '127.0.0.1:0', database: conninfo(await createDatabase()), auth: 'dev' },
      forums: { eng: { inbound_secret: newSecret(), flag_rules: 'bad.rules' } },
    });
    const r = await runCli(['--config', file, 'serve']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /flag_rules: \[forum eng\]: .*bad\.rules:\d+:/);
    const missing = writeConfig(tmpdir('rules-'), {
      server: { listen: '127.0.0.1:0', database: conninfo(await createDatabase()), auth: 'dev' },
      forums: { eng: { inbound_secret: newSecret(), flag_rules: 'nowhere.rules' } },
    });
    const m = await runCli(['--config', missing, 'migrate']);
    assert.equal(m.status, 2);
    assert.match(m.stderr, /flag_rules: \[forum eng\]: .*nowhere\.rules/);
  });
});
