/**
 * The running-sums part of the ExposureStore conformance suite (applySums, readSums, deleteSums): plain
 * increments merge over every shard, the user-level fold agrees with user-level-fold.ts, the result does not
 * depend on the order of updates, concurrent updates lose nothing, and deleteSums forgets the per-user totals.
 */
import { expect, it } from 'vitest';
import type { ArmSums, ExposureStore, SumsUpdate } from '../../src/experiments/ports.js';
import { foldUserChange } from '../../src/experiments/user-level-fold.js';
import type { UserTotals } from '../../src/experiments/user-level-fold.js';
import { sumsShard } from '../../src/store/key-schema.js';

/** A deterministic PRNG (mulberry32): the sequences are random-looking but reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * An exposure's update or an event's. An exposure names the user's fields with zero deltas, names one, or
 * (what serving sends) names none: the fold carries every field it does not name by 0.
 */
function randomUpdate(random: () => number, users: number): SumsUpdate {
  const userId = `user-${Math.floor(random() * users)}`;
  const arm = random() < 0.5 ? 'A' : 'B';
  if (random() < 0.5) {
    const ndcg = random();
    const pick = random();
    const sums: Record<string, number> = pick < 0.33 ? { pos: 0, ndcg } : pick < 0.66 ? { ndcg } : {};
    return { userId, increments: { [arm]: { n: 1, ndcg } }, users: [{ arm, count: 1, sums }] };
  }
  const pos = 1 + Math.floor(random() * 3);
  return { userId, increments: { [arm]: { pos } }, users: [{ arm, count: 0, sums: { pos } }] };
}

/** The expected sums of a sequence of updates, folded with foldUserChange (the single definition). */
function model(updates: readonly SumsUpdate[]): ArmSums {
  const out: Record<string, Record<string, number>> = {};
  const totals = new Map<string, UserTotals>();
  const add = (arm: string, deltas: Readonly<Record<string, number>>) => {
    const row = (out[arm] ??= {});
    for (const [f, d] of Object.entries(deltas)) row[f] = (row[f] ?? 0) + d;
  };
  for (const u of updates) {
    for (const [arm, deltas] of Object.entries(u.increments)) add(arm, deltas);
    for (const change of u.users) {
      const key = `${change.arm}/${u.userId}`;
      const { after, increments } = foldUserChange(totals.get(key) ?? { count: 0, sums: {} }, change);
      totals.set(key, after);
      add(change.arm, increments);
    }
  }
  return out;
}

/** Same arms and fields, every value within 1e-9 (relative to its size, at least absolute 1e-9). */
function expectClose(actual: ArmSums, expected: ArmSums): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [arm, fields] of Object.entries(expected)) {
    const got = actual[arm] ?? {};
    expect(Object.keys(got).sort(), arm).toEqual(Object.keys(fields).sort());
    for (const [f, v] of Object.entries(fields)) {
      const diff = Math.abs((got[f] ?? NaN) - v);
      expect(diff, `${arm}.${f}: ${got[f]} vs ${v}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v)));
    }
  }
}

/** Registers the sums tests inside the caller's describe. */
export function sumsConformance(create: () => Promise<{ store: ExposureStore }>): void {
  it('applySums: plain increments from users on every shard merge into one sum per arm and field; experiments are separate', async () => {
    const { store } = await create();
    const users = Array.from({ length: 64 }, (_, i) => `inc-user-${i}`);
    expect(new Set(users.map(sumsShard)).size).toBe(16);
    await Promise.all(users.map((userId, i) => store.applySums('exp-1', { userId, increments: { A: { n: 1, v: i / 4 }, B: { n: 2 } }, users: [] })));
    await store.applySums('exp-2', { userId: 'other', increments: { A: { n: 7 } }, users: [] });
    expect(await store.readSums('exp-1')).toEqual({ A: { n: 64, v: (63 * 64) / 2 / 4 }, B: { n: 128 } });
    expect(await store.readSums('exp-2')).toEqual({ A: { n: 7 } });
    expect(await store.readSums('exp-none')).toEqual({});
  });

  it('applySums: the user-level fold over 50 users and 2 arms (interleaved exposures and events) matches foldUserChange', async () => {
    const { store } = await create();
    const random = rng(42);
    const updates = Array.from({ length: 600 }, () => randomUpdate(random, 50));
    for (const u of updates) await store.applySums('exp-fold', u);
    const expected = model(updates);
    // The fold really ran: users counted once each, Σ n² and the squares/cross terms are present.
    expect(expected.A?.users).toBeGreaterThan(10);
    expect(expected.A?.['u.nsq']).toBeGreaterThan(expected.A?.n ?? Infinity);
    expect(expected.B?.['u.pos.x']).toBeGreaterThan(0);
    expectClose(await store.readSums('exp-fold'), expected);
  });

  it('applySums: the same updates in two different orders give the same sums', async () => {
    const { store } = await create();
    const random = rng(7);
    const updates = Array.from({ length: 300 }, () => randomUpdate(random, 20));
    for (const u of updates) await store.applySums('exp-order-1', u);
    for (const u of shuffled(updates, random)) await store.applySums('exp-order-2', u);
    const [one, two] = [await store.readSums('exp-order-1'), await store.readSums('exp-order-2')];
    expectClose(two, one);
    expectClose(one, model(updates));
  });

  it('applySums: 200 concurrent updates (many on the same user) lose nothing', async () => {
    const { store } = await create();
    const random = rng(99);
    const updates = Array.from({ length: 200 }, () => randomUpdate(random, 8));
    await Promise.all(updates.map((u) => store.applySums('exp-conc', u)));
    expectClose(await store.readSums('exp-conc'), model(updates));
  });

  it('deleteSums forgets the sums and every user’s totals of that experiment only', async () => {
    const { store } = await create();
    const exposed = (userId: string): SumsUpdate => ({ userId, increments: { A: { n: 1 } }, users: [{ arm: 'A', count: 1, sums: { pos: 0 } }] });
    const users = Array.from({ length: 40 }, (_, i) => `del-user-${i}`);
    for (const userId of users) await store.applySums('exp-del', exposed(userId));
    await store.applySums('exp-del', exposed('del-user-0'));
    await store.applySums('exp-keep', exposed('del-user-0'));
    expect((await store.readSums('exp-del')).A).toEqual({ n: 41, users: 40, 'u.nsq': 39 + 4 });
    await store.deleteSums('exp-del');
    expect(await store.readSums('exp-del')).toEqual({});
    // The user's totals went too: the next exposure counts as their first (users 1, n² = 1, not 4 − 1 = 3).
    await store.applySums('exp-del', exposed('del-user-0'));
    expect(await store.readSums('exp-del')).toEqual({ A: { n: 1, users: 1, 'u.nsq': 1 } });
    expect(await store.readSums('exp-keep')).toEqual({ A: { n: 1, users: 1, 'u.nsq': 1 } });
  });

  it('forgetUserTotals (erasure) removes one user’s totals in one experiment; the aggregates stay', async () => {
    const { store } = await create();
    const exposed = (userId: string): SumsUpdate => ({ userId, increments: { A: { n: 1 } }, users: [{ arm: 'A', count: 1, sums: { pos: 0 } }] });
    await store.applySums('exp-f', exposed('forget-me'));
    await store.applySums('exp-f', exposed('forget-me'));
    await store.applySums('exp-f', exposed('keep-me'));
    await store.applySums('exp-g', exposed('forget-me'));
    expect((await store.readSums('exp-f')).A).toEqual({ n: 3, users: 2, 'u.nsq': 5 });
    await store.forgetUserTotals('exp-f', ['A', 'B'], 'forget-me');
    expect((await store.readSums('exp-f')).A).toEqual({ n: 3, users: 2, 'u.nsq': 5 });
    // Forgotten: the next exposure of that id starts from zero (users + 1, n² + 1); keep-me continues (n² + 3).
    await store.applySums('exp-f', exposed('forget-me'));
    await store.applySums('exp-f', exposed('keep-me'));
    expect((await store.readSums('exp-f')).A).toEqual({ n: 5, users: 3, 'u.nsq': 9 });
    // The other experiment still knows the user.
    await store.applySums('exp-g', exposed('forget-me'));
    expect((await store.readSums('exp-g')).A).toEqual({ n: 2, users: 1, 'u.nsq': 4 });
  });
}
