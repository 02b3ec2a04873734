// The demo forum of scripts/run-demo: receives agentgate's deliveries at /agentgate/release,
// checks each Standard Webhooks signature as a real forum must, "publishes" approved posts and
// prints one line per event; for a published post also the post id it got and the text it
// received (title and the first lines of the body). Usage:
//   node scripts/demo-forum.mjs PORT RELEASE_SECRET_FILE
import fs from 'node:fs';
import { startFakeForum } from '../tests/lib/fake_forum.mjs';

const BODY_LINES = 6;
const LINE_CHARS = 160;

/**
 * Text from the network made safe for a terminal: control characters (C0 but tab, DEL, C1) and
 * the bidirectional overrides that reorder what follows them are dropped; a tab becomes a space.
 */
function terminalSafe(text) {
  return String(text ?? '')
    .replace(/\t/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
}

/** The first lines of a body, each made terminal-safe and cut to a width, with what was left out. */
function bodyExcerpt(body) {
  const lines = String(body ?? '').split(/\r\n|\r|\n/);
  const shown = lines.slice(0, BODY_LINES).map((line) => {
    const safe = terminalSafe(line);
    return safe.length > LINE_CHARS ? `${safe.slice(0, LINE_CHARS)}…` : safe;
  });
  if (lines.length > BODY_LINES) shown.push(`… (${lines.length - BODY_LINES} more lines)`);
  return shown.map((line) => `    | ${line}`).join('\n');
}

function describe({ type, body, duplicate, postId }) {
  const data = body.data ?? {};
  const agent = terminalSafe(data.agent?.name ?? data.agent?.id);
  let line = `[demo forum] ${terminalSafe(type)} draft=${terminalSafe(data.draft_id)} agent=${agent}`;
  if (duplicate) return `${line} (delivered again: already answered${postId ? `, as post ${postId}` : ''})`;
  if (data.reason) line += ` reason: ${terminalSafe(data.reason)}`;
  if (type !== 'draft.approved') return line;
  const post = data.post ?? {};
  line += ` -> published as post ${postId}`;
  const where = post.topic_id ? `reply in topic ${terminalSafe(post.topic_id)}` : `new topic in ${terminalSafe(post.category ?? '?')}`;
  line += `\n  ${where}, revision ${terminalSafe(data.revision)}, approved by ${terminalSafe(data.approved_by?.name ?? data.approved_by?.id)}`;
  if (post.title) line += `\n  title: ${terminalSafe(post.title)}`;
  return `${line}\n  body:\n${bodyExcerpt(post.body)}`;
}

const [port, secretFile] = process.argv.slice(2);
const forum = await startFakeForum({
  secret: fs.readFileSync(secretFile, 'utf8').trim(),
  host: '127.0.0.1',
  port: Number(port),
  onAnswered: (event) => console.log(describe(event)),
});
console.log(`[demo forum] listening on ${forum.url}`);
const stop = async () => {
  await forum.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
