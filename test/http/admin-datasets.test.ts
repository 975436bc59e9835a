/**
 * POST /admin/v1/datasets end to end on the embedded stores: reranks feed the item catalogue, clicks make
 * rows, the file lands under TRAINING_DATA_DIR and the canonical reader (what `agp train` reads) accepts it;
 * an erased user is absent from datasets built afterwards; bad input is a 400, no token a 401.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDataset } from '../../src/agp/dataset.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { eventually } from '../../testkit/wait.js';

const TOKEN = 'admin-datasets-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let t: TestApp;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agp-datasets-'));
  t = await buildTestApp({ jobs: false, env: { ADMIN_TOKEN: TOKEN, TRAINING_DATA_DIR: dir } });
});
afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

const candidates = Array.from({ length: 6 }, (_, i) => ({ id: `item-${i}`, title: `Item ${i}`, text: `about item ${i}` }));
const history = [{ id: 'h-1', title: 'Seen one' }, { id: 'h-2', title: 'Seen two' }];

async function servedAndClicked(userId: string, itemId: string): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: { userId, history, candidates, method: 'baseline' } });
  expect(res.statusCode).toBe(200);
  const { requestId } = res.json() as { requestId: string };
  await eventually(() => t.container.experiments.exposures.get(requestId), (x) => x !== null, { what: 'exposure recorded' });
  const ev = await t.app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ requestId, itemId, type: 'click' }] } });
  expect(ev.json()).toMatchObject({ accepted: 1 });
  return requestId;
}

const build = (payload: object, headers: Record<string, string> = auth) => t.app.inject({ method: 'POST', url: '/admin/v1/datasets', headers, payload });

describe('POST /admin/v1/datasets', () => {
  it('builds a canonical dataset from live traffic; an erased user is not in a later build', async () => {
    await servedAndClicked('ds-alice', 'item-2');
    await servedAndClicked('ds-bob', 'item-4');
    await servedAndClicked('ds-bob', 'item-1');
    // An exposure without a click is counted, not written.
    const res0 = await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: { userId: 'ds-carol', history, candidates, method: 'baseline' } });
    await eventually(() => t.container.experiments.exposures.get((res0.json() as { requestId: string }).requestId), (x) => x !== null, { what: 'exposure' });
    await t.container.experiments.catalogueRecorder.flush();

    const res = await build({ domain: 'default' });
    expect(res.statusCode).toBe(201);
    const body = res.json() as { path: string; rows: number; users: number; skipped: Record<string, number> };
    expect(body).toMatchObject({ rows: 3, users: 2, skipped: { noPositive: 1, noHistory: 0, titleExpired: 0, maxUsers: 0 } });
    expect(body.path.startsWith('datasets/')).toBe(true);
    const text = await readFile(join(dir, body.path), 'utf8');
    const users = parseDataset(text, body.path);
    expect(users).toHaveLength(3);
    const alice = users.find((u) => u.userId.startsWith('ds-alice#'));
    expect(alice?.targets).toEqual(['item-2']);
    expect(alice?.candidates[2]).toEqual({ id: 'item-2', title: 'Item 2', text: 'about item 2' });
    expect(alice?.history.map((h) => h.title)).toEqual(['Seen one', 'Seen two']);
    expect((await readdir(join(dir, 'datasets'))).some((f) => f.endsWith('.partial'))).toBe(false);

    const erased = await t.app.inject({ method: 'DELETE', url: '/v1/users/ds-bob' });
    expect(erased.statusCode).toBe(200);
    const after = await build({ domain: 'default', maxUsers: 10 });
    expect(after.json()).toMatchObject({ rows: 1, users: 1 });
    const later = await readFile(join(dir, (after.json() as { path: string }).path), 'utf8');
    expect(later).not.toContain('ds-bob');
    expect(later).toContain('ds-alice');
  });

  it('refuses bad input with 400 and no token with 401', async () => {
    expect((await build({ domain: 'default', positiveTypes: ['click'] })).statusCode).toBe(400);
    expect((await build({ domain: 'default', since: 2_000, until: 1_000 })).statusCode).toBe(400);
    expect((await build({ domain: '../etc' })).statusCode).toBe(400);
    expect((await build({ domain: 'default', since: 'yesterday' })).statusCode).toBe(400);
    expect((await build({ domain: 'default' }, {})).statusCode).toBe(401);
  });
});
