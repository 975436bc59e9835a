/**
 * Contract cases of the experiments API (issue 10): POST /v1/events, DELETE /v1/users/{userId} and
 * /admin/v1/experiments…, against the real service of contract.test.ts.
 *
 * Not a test file of its own: the coverage test ("every operation in the spec was called") reads the
 * responses collected by the contract middleware of contract.test.ts, and vitest runs each test file in its
 * own process, so these cases register themselves into that file's run instead.
 */
import type { Client } from 'openapi-fetch';
import { describe, expect, it } from 'vitest';
import type { components, paths } from './api-types.js';
import { eventually } from '../../testkit/wait.js';

type Api = Client<paths>;
type RerankBody = components['schemas']['RerankRequestInput'];
type Rerank = components['schemas']['RerankResponse'];

/** What the cases need from the suite that runs them (clients exist only once its beforeAll ran). */
export interface ExperimentContractContext {
  api(): Api;
  admin(): Api;
  rerankBody(over?: Partial<RerankBody>): RerankBody;
}

/** Registers the experiments contract cases. */
export function describeExperimentContract(ctx: ExperimentContractContext): void {
  const domain = 'contract-exp';
  const userId = 'contract-exp-user';
  let abId = '';
  let served: Rerank | undefined;

  /** Reranks in the experiment's domain until the replica has picked the experiment up (EXPERIMENT_POLL_MS). */
  const serveUnder = (id: string, user: string) =>
    eventually(
      async () => (await ctx.api().POST('/v1/rerank', { body: ctx.rerankBody({ userId: user, domain, method: 'baseline' }) })).data,
      (r) => r?.experiment?.id === id,
      { what: `a rerank served under experiment ${id}`, timeoutMs: 10_000 },
    );

  describe('admin: experiments (A/B)', () => {
    it('401 without the bearer token', async () => {
      const { error, response } = await ctx.api().POST('/admin/v1/experiments', {
        body: { domain, mode: 'ab', arms: [{ name: 'a', method: 'baseline' }, { name: 'b', method: 'direct' }] },
      });
      expect(response.status).toBe(401);
      expect(error?.error.code).toBe('UNAUTHORIZED');
    });

    it('400 for interleaving with three arms, and for a pinned version that does not exist', async () => {
      const three = await ctx.admin().POST('/admin/v1/experiments', {
        body: { domain, mode: 'interleave', arms: ['a', 'b', 'c'].map((name) => ({ name, method: 'baseline' as const })) },
      });
      expect(three.response.status).toBe(400);
      expect(three.error?.error.code).toBe('VALIDATION_ERROR');
      const unknown = await ctx.admin().POST('/admin/v1/experiments', {
        body: { domain, mode: 'ab', arms: [{ name: 'a', method: 'baseline' }, { name: 'b', method: 'agp', promptVersion: 'no-such-version' }] },
      });
      expect(unknown.response.status).toBe(400);
      expect(unknown.error?.error.code).toBe('UNKNOWN_PROMPT_VERSION');
    });

    it('201 create, 409 for a second one in the domain, 200 list', async () => {
      // Every user in, all on the baseline arm (weight 0 elsewhere), so the arm served is known.
      const created = await ctx.admin().POST('/admin/v1/experiments', {
        body: { domain, mode: 'ab', arms: [{ name: 'control', method: 'baseline' }, { name: 'treatment', method: 'direct', weight: 0 }] },
      });
      expect(created.response.status).toBe(201);
      expect(created.data).toMatchObject({ domain, mode: 'ab', state: 'running', trafficShare: 1, stopReason: null, stoppedAt: null });
      abId = created.data?.id ?? '';
      expect(abId).not.toBe('');

      const again = await ctx.admin().POST('/admin/v1/experiments', {
        body: { domain, mode: 'ab', arms: [{ name: 'x', method: 'baseline' }, { name: 'y', method: 'direct' }] },
      });
      expect(again.response.status).toBe(409);
      expect(again.error?.error.code).toBe('EXPERIMENT_ALREADY_RUNNING');

      const list = await ctx.admin().GET('/admin/v1/experiments', { params: { query: { domain } } });
      expect(list.response.status).toBe(200);
      expect(list.data?.experiments.map((e) => [e.id, e.state])).toEqual([[abId, 'running']]);
    });

    it('a rerank in the domain is served under the experiment', async () => {
      served = await serveUnder(abId, userId);
      expect(served?.experiment).toEqual({ id: abId, arm: 'control' });
      expect(served?.method).toBe('baseline');
    });
  });

  describe('POST /v1/events', () => {
    it('202: accepted, then duplicates on a retry; unattributed and rejected events are counted, not errors', async () => {
      const requestId = served?.requestId ?? '';
      const itemId = served?.ranking[0]?.id ?? '';
      const events = [
        { requestId, itemId, type: 'click' as const, eventId: 'contract-ev-1' },
        { requestId: 'no-such-request', itemId, type: 'click' as const },
        { requestId, itemId: 'never-served', type: 'click' as const },
        { requestId, itemId, type: 'hover' },
      ];
      // The exposure is written off the request path: until it is, the click is unattributed.
      const first = await eventually(
        async () => (await ctx.api().POST('/v1/events', { body: { events } })).data,
        (d) => d?.accepted === 1,
        { what: 'the click to be attributed', timeoutMs: 10_000 },
      );
      expect(first).toMatchObject({ accepted: 1, duplicates: 0, unattributed: 1 });
      expect(first?.rejected.map((r) => [r.index, r.code])).toEqual([
        [2, 'ITEM_NOT_EXPOSED'],
        [3, 'INVALID_EVENT_TYPE'],
      ]);

      const retry = await ctx.api().POST('/v1/events', { body: { events: events.slice(0, 1) } });
      expect(retry.response.status).toBe(202);
      expect(retry.data).toMatchObject({ accepted: 0, duplicates: 1, unattributed: 0, rejected: [] });
    });

    it('400 for an empty batch and for more than 1,000 events', async () => {
      const empty = await ctx.api().POST('/v1/events', { body: { events: [] } });
      expect(empty.response.status).toBe(400);
      expect(empty.error?.error.code).toBe('VALIDATION_ERROR');
      const many = Array.from({ length: 1_001 }, (_, i) => ({ requestId: 'r', itemId: `i${i}`, type: 'click' }));
      const tooMany = await ctx.api().POST('/v1/events', { body: { events: many } });
      expect(tooMany.response.status).toBe(400);
    });
  });

  describe('admin: experiment results, stop and promote', () => {
    it('200 results: the click counts for the control arm', async () => {
      const results = await eventually(
        async () => (await ctx.admin().GET('/admin/v1/experiments/{id}', { params: { path: { id: abId } } })).data,
        (r) => (r?.arms[0]?.metrics.ctr.value ?? 0) > 0,
        { what: 'the click in the results', timeoutMs: 10_000 },
      );
      expect(results?.arms.map((a) => [a.name, a.users, a.exposures])).toEqual([
        ['control', 1, expect.any(Number)],
        ['treatment', 0, 0],
      ]);
      expect(results?.arms[0]?.exposures).toBeGreaterThanOrEqual(1);
      expect(results?.comparison).toMatchObject({ metric: 'ndcg@10', decision: 'inconclusive' });
      expect(results?.guardrailBreaches).toEqual([]);
    });

    it('404 for an unknown experiment', async () => {
      const { error, response } = await ctx.admin().GET('/admin/v1/experiments/{id}', { params: { path: { id: 'no-such-experiment' } } });
      expect(response.status).toBe(404);
      expect(error?.error.code).toBe('NOT_FOUND');
    });

    it('400 promoting an arm the experiment does not have', async () => {
      const { error, response } = await ctx.admin().POST('/admin/v1/experiments/{id}/promote', { params: { path: { id: abId } }, body: { arm: 'nobody' } });
      expect(response.status).toBe(400);
      expect(error?.error.message).toMatch(/no arm "nobody"/);
    });

    it('200 stop, then 409 for stop and promote of the stopped experiment', async () => {
      const params = { params: { path: { id: abId } } };
      const stopped = await ctx.admin().POST('/admin/v1/experiments/{id}/stop', params);
      expect(stopped.response.status).toBe(200);
      expect(stopped.data).toMatchObject({ id: abId, state: 'stopped', stopReason: { kind: 'manual' } });
      const again = await ctx.admin().POST('/admin/v1/experiments/{id}/stop', params);
      expect(again.response.status).toBe(409);
      expect(again.error?.error.code).toBe('EXPERIMENT_NOT_RUNNING');
      const promote = await ctx.admin().POST('/admin/v1/experiments/{id}/promote', { ...params, body: { arm: 'control' } });
      expect(promote.response.status).toBe(409);
      expect(promote.error?.error.code).toBe('EXPERIMENT_NOT_RUNNING');
    });

    it('200 promote of an interleaving arm: its pinned version becomes active and the experiment stops', async () => {
      const prompt = await ctx.admin().POST('/admin/v1/prompts', {
        body: { domain, version: 'exp-v1', text: 'Describe the viewer in a few sentences: genres, tone and eras.' },
      });
      expect(prompt.response.status).toBe(201);
      const created = await ctx.admin().POST('/admin/v1/experiments', {
        body: { domain, mode: 'interleave', arms: [{ name: 'base', method: 'baseline' }, { name: 'pinned', method: 'agp', promptVersion: 'exp-v1' }] },
      });
      expect(created.response.status).toBe(201);
      const id = created.data?.id ?? '';
      const interleaved = await serveUnder(id, 'contract-exp-il');
      expect(interleaved?.experiment).toEqual({ id, arm: null });
      for (const item of interleaved?.ranking ?? []) expect(['base', 'pinned']).toContain(item.arm);

      const promoted = await ctx.admin().POST('/admin/v1/experiments/{id}/promote', { params: { path: { id } }, body: { arm: 'pinned' } });
      expect(promoted.response.status).toBe(200);
      expect(promoted.data?.activated).toBe('exp-v1');
      expect(promoted.data?.experiment).toMatchObject({ id, state: 'stopped', stopReason: { kind: 'promoted', arm: 'pinned' } });
      const active = await ctx.admin().GET('/admin/v1/prompts/{domain}/{version}', { params: { path: { domain, version: 'exp-v1' } } });
      expect(active.data?.active).toBe(true);
    });
  });

  describe('admin: shadow experiments', () => {
    const shadowDomain = 'contract-shadow';
    let shadowId = '';

    it('400 for two arms in shadow mode, and for shadow settings out of range', async () => {
      const two = await ctx.admin().POST('/admin/v1/experiments', {
        body: { domain: shadowDomain, mode: 'shadow', arms: [{ name: 'a', method: 'direct' }, { name: 'b', method: 'agp' }] },
      });
      expect(two.response.status).toBe(400);
      expect(two.error?.error.code).toBe('VALIDATION_ERROR');
      const range = await ctx.admin().POST('/admin/v1/experiments', {
        body: { domain: shadowDomain, mode: 'shadow', arms: [{ name: 'a', method: 'direct' }], shadow: { maxConcurrency: 0 } },
      });
      expect(range.response.status).toBe(400);
    });

    it('201 create: never served (experiment null), scored off the path, 200 results with the shadow block', async () => {
      const created = await ctx.admin().POST('/admin/v1/experiments', {
        body: { domain: shadowDomain, mode: 'shadow', arms: [{ name: 'cand', method: 'direct' }], shadow: { maxConcurrency: 2, llmCallsPerHour: 500 } },
      });
      expect(created.response.status).toBe(201);
      expect(created.data).toMatchObject({ mode: 'shadow', guardrails: {}, shadow: { maxConcurrency: 2, llmCallsPerHour: 500 } });
      shadowId = created.data?.id ?? '';
      let n = 0;
      const results = await eventually(
        async () => {
          const rerank = await ctx.api().POST('/v1/rerank', { body: ctx.rerankBody({ userId: `contract-shadow-${n++}`, domain: shadowDomain, method: 'baseline' }) });
          expect(rerank.data?.experiment).toBeNull();
          return (await ctx.admin().GET('/admin/v1/experiments/{id}', { params: { path: { id: shadowId } } })).data;
        },
        (r) => (r?.shadow?.scored ?? 0) >= 1,
        { what: 'a shadow score', timeoutMs: 15_000 },
      );
      expect(results).toMatchObject({ mode: 'shadow', arms: [], comparison: null, shadow: { arm: { name: 'cand', method: 'direct' }, counterfactual: { biased: true } } });
      const stopped = await ctx.admin().POST('/admin/v1/experiments/{id}/stop', { params: { path: { id: shadowId } } });
      expect(stopped.data).toMatchObject({ id: shadowId, state: 'stopped', mode: 'shadow' });
    });
  });

  describe('DELETE /v1/users/{userId}', () => {
    it('200: erases the profiles and exposures of a user, then finds none', async () => {
      const params = { params: { path: { userId } } };
      const first = await ctx.api().DELETE('/v1/users/{userId}', params);
      expect(first.response.status).toBe(200);
      expect(first.data?.userId).toBe(userId);
      expect(first.data?.exposures).toBeGreaterThanOrEqual(1);
      const again = await ctx.api().DELETE('/v1/users/{userId}', params);
      expect(again.data).toEqual({ userId, profiles: 0, exposures: 0 });
      // The erased exposure no longer attributes events.
      const late = await ctx.api().POST('/v1/events', { body: { events: [{ requestId: served?.requestId ?? '', itemId: served?.ranking[0]?.id ?? '', type: 'purchase' }] } });
      expect(late.data).toMatchObject({ accepted: 0, unattributed: 1 });
    });

    it('400 for a 257-character userId', async () => {
      const { error, response } = await ctx.api().DELETE('/v1/users/{userId}', { params: { path: { userId: 'u'.repeat(257) } } });
      expect(response.status).toBe(400);
      expect(error?.error.code).toBe('VALIDATION_ERROR');
    });
  });

  describe('admin: datasets from live traffic', () => {
    it('201 with the rows built from the window (the experiments above clicked), 400 for a narrower positiveTypes', async () => {
      const built = await ctx.admin().POST('/admin/v1/datasets', { body: { domain } });
      expect(built.response.status).toBe(201);
      expect(built.data?.path).toMatch(/\.jsonl$/);
      expect(built.data?.rows).toBeGreaterThanOrEqual(0);
      const narrow = await ctx.admin().POST('/admin/v1/datasets', { body: { domain, positiveTypes: ['click'] } });
      expect(narrow.response.status).toBe(400);
      expect(narrow.error?.error.code).toBeDefined();
    });
  });
}
