/**
 * The OpenAI-compatible LLM simulator (testkit/llm-double.ts) in its own child process, so its CPU is
 * never attributed to the process under test. Controlled over IPC: `set-latency` and `stats` (cumulative
 * call counts by role). The double records every call with its messages; this wrapper folds them into
 * counters and empties the array every 50 ms so memory stays flat under load.
 */
import { startLlmDouble } from '../../testkit/llm-double.js';
import type { ParentToChild, SimStats } from '../lib/ipc.js';
import { childLifecycle, toParent } from '../lib/ipc.js';

const sim = await startLlmDouble({ latency: 0, models: ['bench-model'] });
const stats: SimStats = { calls: 0, byRole: {} };

const fold = () => {
  for (const call of sim.calls) {
    stats.calls++;
    stats.byRole[call.role] = (stats.byRole[call.role] ?? 0) + 1;
  }
  sim.calls.length = 0;
};
const timer = setInterval(fold, 50);

process.on('message', (msg: ParentToChild) => {
  if (msg.type === 'set-latency') {
    sim.setLatency(msg.latency);
    toParent({ type: 'ack', id: msg.id });
  } else if (msg.type === 'stats') {
    fold();
    toParent({ type: 'stats', id: msg.id, stats: { calls: stats.calls, byRole: { ...stats.byRole } } });
  }
});

childLifecycle(async () => {
  clearInterval(timer);
  await sim.close();
});
toParent({ type: 'ready', url: sim.url });
