/**
 * `npm run simulator -- --port N`: the OpenAI-compatible LLM simulator (the double the tests use) on its
 * own, so `agp eval` / `agp train` or the service can be pointed at it with LLM_BASE_URL. Its answers
 * model the taste world (test/support/taste-world.ts), in which training the profile prompt pays off.
 *
 * `npm run simulator -- --write-data DIR [--train-users N] [--val-users N] [--seed S]` writes
 * DIR/train.jsonl and DIR/validation.jsonl from that world and exits.
 *
 * `--junk P` answers a share P (0–1) of requests with prose that holds no ranking (the double's `junk` chaos,
 * drawn from an RNG seeded by --seed), so `agp eval --protocol served|paper` can be compared on failures.
 *
 * SIGTERM or SIGINT closes the server and exits 0.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { serializeUser } from '../src/agp/dataset.js';
import { startLlmDouble } from '../testkit/llm-double.js';
import { tasteWorldUsers } from '../testkit/taste-world.js';

const { values: v } = parseArgs({
  options: {
    port: { type: 'string', default: '8787' },
    'latency-ms': { type: 'string', default: '0' },
    'write-data': { type: 'string' },
    'train-users': { type: 'string', default: '40' },
    'val-users': { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    junk: { type: 'string', default: '0' },
  },
  strict: true,
});

const int = (s: string, flag: string): number => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${flag} must be a non-negative integer\n`);
    process.exit(2);
  }
  return n;
};

if (v['write-data'] !== undefined) {
  const dir = v['write-data'];
  const seed = int(v.seed, 'seed');
  const train = tasteWorldUsers(int(v['train-users'], 'train-users'), { seed });
  const validation = tasteWorldUsers(int(v['val-users'], 'val-users'), { seed, offset: 100_000 });
  await mkdir(dir, { recursive: true });
  const lines = (us: typeof train) => `${us.map(serializeUser).join('\n')}\n`;
  await writeFile(join(dir, 'train.jsonl'), lines(train));
  await writeFile(join(dir, 'validation.jsonl'), lines(validation));
  process.stdout.write(`wrote ${train.length} users to ${join(dir, 'train.jsonl')} and ${validation.length} to ${join(dir, 'validation.jsonl')}\n`);
} else {
  const junk = Number(v.junk);
  if (!(junk >= 0 && junk <= 1)) {
    process.stderr.write('--junk must be a probability between 0 and 1\n');
    process.exit(2);
  }
  const sim = await startLlmDouble({
    port: int(v.port, 'port'),
    latency: int(v['latency-ms'], 'latency-ms'),
    models: ['simulator'],
    ...(junk > 0 ? { chaos: { junk }, seed: int(v.seed, 'seed') } : {}),
  });
  process.stdout.write(`LLM simulator listening at ${sim.url}\n`);
  // The double records every call for tests to inspect; a long-running simulator must not keep them.
  setInterval(() => void (sim.calls.length = 0), 1000).unref();
  const stop = () => {
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
