// The demo forum of scripts/run-demo: receives agentgate's deliveries at /agentgate/release,
// checks each Standard Webhooks signature as a real forum must, "publishes" approved posts and
// prints one line per event. Usage: node scripts/demo-forum.mjs PORT RELEASE_SECRET_FILE
import fs from 'node:fs';
import { startFakeForum } from '../tests/lib/fake_forum.mjs';

const [port, secretFile] = process.argv.slice(2);
const forum = await startFakeForum({ secret: fs.readFileSync(secretFile, 'utf8').trim(), port: Number(port) });
const push = forum.received.push.bind(forum.received);
forum.received.push = (event) => {
  const data = event.body.data;
  const post = forum.events.get(event.id)?.__postId;
  console.log(`[demo forum] ${event.type} draft=${data.draft_id} agent=${data.agent.name}${post ? ` published as post ${post}` : ''}${data.reason ? ` reason: ${data.reason}` : ''}`);
  return push(event);
};
console.log(`[demo forum] listening on ${forum.url}`);
const stop = async () => {
  await forum.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
