/**
 * `agp dataset build` against a private redis-server: exposures and catalogue entries written by the Redis
 * adapters (as the API would), the command streams them into --out, and `agp eval`'s reader accepts the file.
 * Also: the Redis time index's bytes, and a window outside the data yields an empty file, not an error.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseDataset } from '../../src/agp/dataset.js';
import { main } from '../../src/cli/agp.js';
import { dedupeKey } from '../../src/experiments/event-validation.js';
import { createRedis, whenReady, type RedisClient } from '../../src/store/redis-connection.js';
import { createRedisExposureStore } from '../../src/store/redis-exposure-store.js';
import { createRedisItemCatalogue } from '../../src/store/redis-item-catalogue.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { exposure } from '../conformance/exposure-store-conformance.js';

let server: RedisServerHandle;
let redis: RedisClient;
let dir: string;
beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedis(server.url, { role: 'cache' });
  await whenReady(redis, 5_000);
  dir = await mkdtemp(join(tmpdir(), 'agp-dataset-cli-'));
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('agp dataset build', () => {
  it('writes the window’s rows to --out; the file loads as a canonical dataset', async () => {
    const prefix = uniquePrefix();
    const exposures = createRedisExposureStore({ redis, keyPrefix: prefix });
    const catalogue = createRedisItemCatalogue({ redis, keyPrefix: prefix });
    const now = Date.now();
    const recs = Array.from({ length: 30 }, (_, i) => exposure({ requestId: `cli-${i}`, userId: `u${i % 7}`, at: now - 1_000 * i }));
    await exposures.put(recs, 600);
    for (const r of recs.slice(0, 20)) await exposures.applyEvents(r.requestId, [{ dedupeKey: dedupeKey({ itemId: 'item-1', type: 'click' }), itemId: 'item-1', positive: true }]);
    const ids = [...(recs[0]?.baseline ?? []), ...(recs[0]?.history ?? [])];
    await catalogue.put(ids.map((id) => ({ domain: 'movies', id, title: `T ${id}` })), 600);

    const out = join(dir, 'live.jsonl');
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const env = { REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix, TRAINING_DATA_DIR: dir, LOG_LEVEL: 'silent' };
    let code: number;
    let printed: string;
    try {
      code = await main(['dataset', 'build', '--domain', 'movies', '--since', new Date(now - 3_600_000).toISOString(), '--until', String(now + 1), '--out', out], env);
      printed = stdout.mock.calls.map((c) => String(c[0])).join('');
    } finally {
      stdout.mockRestore();
    }
    expect(code).toBe(0);
    expect(JSON.parse(printed)).toMatchObject({ rows: 20, users: 7, exposures: 30, skipped: { noPositive: 10 } });
    const users = parseDataset(await readFile(out, 'utf8'), out);
    expect(users).toHaveLength(20);
    expect(users.every((u) => u.targets[0] === 'item-1' && u.candidates.length === 20)).toBe(true);

    // A usage error is exit code 2.
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['dataset', 'build', '--domain', 'movies', '--since', 'soon'], env)).toBe(2);
    } finally {
      stderr.mockRestore();
    }
  });
});
