/**
 * The key service without HTTP: verification goes through crypto.timingSafeEqual on 32-byte digests for
 * EVERY valid digest (no early exit on a match, no string comparison), rotation grace expires with the
 * clock, the file store (hashes only) applies an edited file on the next poll, and bad files are refused
 * without echoing a hash.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Crypto from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

const spy = vi.hoisted(() => ({ calls: [] as Array<[number, number]> }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof Crypto>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      spy.calls.push([a.byteLength, b.byteLength]);
      return actual.timingSafeEqual(a, b);
    },
  };
});

const { createApiKeyService, constantTimeLookup } = await import('../../src/api-keys/api-key-service.js');
const { generateApiKey, hashApiKey, utcDay } = await import('../../src/api-keys/api-keys.js');
const { createMemoryApiKeyStore } = await import('../../src/store/memory-api-key-store.js');
const { createFileApiKeyStore, parseApiKeysFile } = await import('../../src/store/file-api-key-store.js');
const { silentLogger } = await import('../../src/agp/ports.js');

let now = Date.parse('2026-03-01T12:00:00Z');
const clock = { now: () => now };
const dir = await mkdtemp(join(tmpdir(), 'agp-keys-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
beforeEach(() => {
  spy.calls.length = 0;
});

describe('constant-time verification', () => {
  it('compares the presented digest with every valid digest through timingSafeEqual, 32 bytes each, even after a match', async () => {
    const svc = createApiKeyService({ store: createMemoryApiKeyStore(), clock, logger: silentLogger, pollMs: 60_000 });
    await svc.start();
    const keys = [];
    for (const name of ['k1', 'k2', 'k3']) keys.push((await svc.create(name, {})).key);
    spy.calls.length = 0;
    // The FIRST record matches: a short-circuiting lookup would stop after one comparison.
    const first = [...(await svc.list())].sort((a, b) => a.name.localeCompare(b.name))[0]?.name;
    const keyOfFirst = keys[['k1', 'k2', 'k3'].indexOf(first as string)] as string;
    expect(svc.verify(keyOfFirst)?.name).toBe(first);
    expect(spy.calls).toEqual([
      [32, 32],
      [32, 32],
      [32, 32],
    ]);
    spy.calls.length = 0;
    expect(svc.verify('agp_wrong')).toBeUndefined();
    expect(spy.calls).toHaveLength(3);
    spy.calls.length = 0;
    // A key of any length is hashed first, so the comparison is always between equal-length digests.
    expect(svc.verify('x'.repeat(10_000))).toBeUndefined();
    expect(spy.calls.every(([a, b]) => a === 32 && b === 32)).toBe(true);
    await svc.close();
  });

  it('constantTimeLookup keeps the first match and still compares the rest', () => {
    const d = (s: string) => Buffer.from(hashApiKey(s), 'hex');
    const entries = [
      { name: 'a', digests: [d('ka')] },
      { name: 'b', digests: [d('kb'), d('kb-old')] },
    ];
    expect(constantTimeLookup(d('kb-old'), entries)).toBe('b');
    expect(spy.calls).toHaveLength(3);
    expect(constantTimeLookup(d('zz'), entries)).toBeUndefined();
  });
});

describe('rotation grace and quota', () => {
  it('the previous key works during the grace period only', async () => {
    const svc = createApiKeyService({ store: createMemoryApiKeyStore(), clock, logger: silentLogger, pollMs: 60_000 });
    await svc.start();
    const { key: old } = await svc.create('g', { dailyLlmCallQuota: 1 });
    const { key: fresh } = await svc.rotate('g', 30);
    expect(svc.verify(old)?.name).toBe('g');
    expect(svc.verify(fresh)?.name).toBe('g');
    now += 31_000;
    expect(svc.verify(old)).toBeUndefined();
    expect(svc.verify(fresh)?.name).toBe('g');
    const key = svc.verify(fresh);
    expect(await svc.quotaExceeded(key!)).toBe(false);
    svc.record('g', { reranks: 1, llmCalls: 1, promptTokens: 10, completionTokens: 2 });
    await new Promise((r) => setImmediate(r));
    expect(await svc.quotaExceeded(key!)).toBe(true);
    // A new UTC day starts a new count.
    now += 86_400_000;
    expect(await svc.quotaExceeded(key!)).toBe(false);
    await svc.close();
  });

  it('the quota fails open, within 100 ms, when the count cannot be read', async () => {
    for (const llmCallsOn of [() => new Promise<number>(() => {}), () => Promise.reject(new Error('down'))]) {
      const store = { ...createMemoryApiKeyStore(), llmCallsOn };
      const svc = createApiKeyService({ store, clock, logger: silentLogger, pollMs: 60_000 });
      await svc.start();
      const { key } = await svc.create('q', { dailyLlmCallQuota: 0 });
      const started = Date.now();
      expect(await svc.quotaExceeded(svc.verify(key)!)).toBe(false);
      expect(Date.now() - started).toBeLessThan(1_000);
      await svc.close();
    }
  });

  it('utcDay is the UTC calendar day', () => {
    expect(utcDay(Date.parse('2026-03-01T23:59:59.999Z'))).toBe('2026-03-01');
    expect(utcDay(Date.parse('2026-03-02T00:00:00Z'))).toBe('2026-03-02');
  });
});

describe('file store (API_KEYS_FILE)', () => {
  it('serves the keys whose sha256 is listed, applies an edited file on the next poll, and is read-only', async () => {
    const a = generateApiKey();
    const b = generateApiKey();
    const path = join(dir, 'keys.json');
    await writeFile(path, JSON.stringify([{ name: 'team-a', hash: a.hash, rateLimit: 5, dailyLlmCallQuota: 100 }]));
    const svc = createApiKeyService({ store: createFileApiKeyStore(path), clock, logger: silentLogger, pollMs: 50 });
    await svc.start();
    expect(svc.managed).toBe(false);
    expect(svc.verify(a.key)).toEqual({ name: 'team-a', rateLimit: 5, dailyLlmCallQuota: 100 });
    expect(svc.verify(b.key)).toBeUndefined();
    await expect(svc.create('x', {})).rejects.toMatchObject({ code: 'CONFLICT' });
    await writeFile(path, JSON.stringify([{ name: 'team-b', hash: b.hash.toUpperCase() }]));
    await vi.waitFor(() => expect(svc.verify(b.key)?.name).toBe('team-b'), { timeout: 2_000, interval: 20 });
    expect(svc.verify(a.key)).toBeUndefined();
    // A broken edit keeps the last good keys instead of locking everyone out.
    await writeFile(path, '[{"name":');
    await new Promise((r) => setTimeout(r, 150));
    expect(svc.verify(b.key)?.name).toBe('team-b');
    await svc.close();
  });

  it('refuses bad entries with the entry index and never echoes a hash', () => {
    const h = hashApiKey('k');
    expect(() => parseApiKeysFile('{}')).toThrow(/JSON array/);
    expect(() => parseApiKeysFile(JSON.stringify([{ name: 'ok', hash: 'abc' }]))).toThrow(/API_KEYS_FILE\[0\]: hash/);
    expect(() => parseApiKeysFile(JSON.stringify([{ name: 'Bad Name', hash: h }]))).toThrow(/API_KEYS_FILE\[0\]: name/);
    expect(() => parseApiKeysFile(JSON.stringify([{ name: 'a', hash: h }, { name: 'a', hash: h }]))).toThrow(/\[1\]: duplicate/);
    expect(() => parseApiKeysFile(JSON.stringify([{ name: 'a', hash: h, rateLimit: -1 }]))).toThrow(/rateLimit/);
    try {
      parseApiKeysFile(JSON.stringify([{ name: 'Bad', hash: h }]));
    } catch (err) {
      expect(String(err)).not.toContain(h);
    }
  });
});
