// The benchmark's forum, in a process of its own so that its receipt times are not delayed by
// the load driver's event loop. Reports each received draft.approved to the parent over IPC.
import { startFakeForum } from '../lib/fake_forum.mjs';

const forum = await startFakeForum({ secret: process.env.RELEASE_SECRET });
const push = forum.received.push.bind(forum.received);
forum.received.push = (event) => {
  // the receipt time in milliseconds since 1970 with sub-millisecond digits (Date.now() has none)
  const at = performance.timeOrigin + performance.now();
  process.send({ kind: 'received', type: event.type, id: event.id, draft: event.body.data.draft_id, at });
  return push(event);
};
process.send({ kind: 'ready', url: forum.url });
process.on('message', async (message) => {
  if (message === 'stop') {
    process.send({ kind: 'rejected', count: forum.rejected.length });
    await forum.stop();
    process.exit(0);
  }
});
