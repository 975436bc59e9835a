/**
 * POST /v1/events and DELETE /v1/users/{userId} on the embedded (in-memory) stores: every kind of bad input
 * gets its documented answer, and nothing is counted twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { eventually } from '../../testkit/wait.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ jobs: false });
});
afterAll(() => t?.close());

const candidates = Array.from({ length: 6 }, (_, i) => ({ id: `item-${i}`, title: `Item ${i}` }));

async function rerank(userId: string, topN?: number): Promise<{ requestId: string; ids: string[] }> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: { userId, history: [], candidates, method: 'baseline', ...(topN ? { topN } : {}) } });
  expect(res.statusCode).toBe(200);
  const json = res.json();
  expect(json.experiment).toBeNull();
  await eventually(() => t.container.experiments.exposures.get(json.requestId), (x) => x !== null, { what: 'exposure recorded' });
  return { requestId: json.requestId, ids: json.ranking.map((r: { id: string }) => r.id) };
}

const events = (payload: unknown) => t.app.inject({ method: 'POST', url: '/v1/events', payload: payload as object });

describe('POST /v1/events', () => {
  it('counts each event once: within a batch, across a retried batch, and by eventId', async () => {
    const { requestId } = await rerank('ev-user-1');
    const batch = [
      { requestId, itemId: 'item-0', type: 'click' },
      { requestId, itemId: 'item-0', type: 'click' }, // same (requestId, itemId, type)
      { requestId, itemId: 'item-1', type: 'purchase', eventId: 'e-1' },
      { requestId, itemId: 'item-1', type: 'purchase', eventId: 'e-1' }, // same eventId
      { requestId, itemId: 'item-2', type: 'impression' },
    ];
    const first = await events({ events: batch });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ accepted: 3, duplicates: 2, unattributed: 0, rejected: [] });
    expect((await events({ events: batch })).json()).toEqual({ accepted: 0, duplicates: 5, unattributed: 0, rejected: [] });
    const positives = await t.container.experiments.exposures.positives(requestId);
    expect(Object.fromEntries(positives ?? [])).toEqual({ 'item-0': 1, 'item-1': 1 });
  });

  it('unknown request ids are unattributed; items that were not served are rejected ITEM_NOT_EXPOSED', async () => {
    const { requestId } = await rerank('ev-user-2', 2);
    const res = await events({
      events: [
        { requestId: 'no-such-request', itemId: 'item-0', type: 'click' },
        { requestId, itemId: 'item-5', type: 'click' }, // a candidate, but not in the top 2 served
        { requestId, itemId: 'never-a-candidate', type: 'click' },
      ],
    });
    expect(res.statusCode).toBe(202);
    const json = res.json();
    expect(json).toMatchObject({ accepted: 0, duplicates: 0, unattributed: 1 });
    expect(json.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
      [1, 'ITEM_NOT_EXPOSED'],
      [2, 'ITEM_NOT_EXPOSED'],
    ]);
  });

  it('wrong types, bad ids and a huge or non-numeric ts are rejected one by one; the rest still count', async () => {
    const { requestId, ids } = await rerank('ev-user-3');
    const res = await events({
      events: [
        { requestId, itemId: ids[0], type: 'like' },
        { requestId, itemId: ids[0], type: 'click', ts: 1e20 },
        { requestId, itemId: ids[0], type: 'click', ts: 'yesterday' },
        { requestId: 42, itemId: ids[0], type: 'click' },
        'not an event',
        { requestId, itemId: ids[1], type: 'click' },
      ],
    });
    expect(res.statusCode).toBe(202);
    const json = res.json();
    expect(json.accepted).toBe(1);
    expect(json.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
      [0, 'INVALID_EVENT_TYPE'],
      [1, 'INVALID_TS'],
      [2, 'INVALID_TS'],
      [3, 'INVALID_EVENT'],
      [4, 'INVALID_EVENT'],
    ]);
  });

  it('refuses a malformed body or more than 1,000 events as a whole, in the error envelope', async () => {
    const { requestId } = await rerank('ev-user-4');
    const one = { requestId, itemId: 'item-0', type: 'click' };
    for (const payload of [{ events: Array.from({ length: 1_001 }, () => one) }, { events: [] }, { events: 'x' }, {}, [one]]) {
      const res = await events(payload);
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.error).toMatchObject({ code: 'VALIDATION_ERROR', requestId: expect.any(String) });
      expect(body.error.message).toMatch(/events|expected object/);
    }
    // Nothing of the refused batches was counted.
    expect(await t.container.experiments.exposures.positives(requestId)).toEqual(new Map());
  });
});

describe('DELETE /v1/users/{userId}', () => {
  it('erases profiles and exposures; later events for the user’s requests are unattributed', async () => {
    const { requestId, ids } = await rerank('ev-erased');
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/users/ev-erased' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: 'ev-erased', profiles: 0, exposures: 1 });
    expect((await events({ events: [{ requestId, itemId: ids[0], type: 'click' }] })).json()).toEqual({ accepted: 0, duplicates: 0, unattributed: 1, rejected: [] });
    // Idempotent: a second erasure finds nothing.
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/users/ev-erased' })).json()).toMatchObject({ exposures: 0 });
  });
});
