/**
 * OpenTelemetry traces end to end: the real app (Redis stores, the OpenAI client against the LLM double) with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointed at an OTLP/HTTP receiver this test starts. The receiver decodes the
 * exporter's JSON payloads; the checks are on the span tree of one trace each: a profile cache miss, a hit,
 * a fallback, and an events batch, with the caller's traceparent kept and sent on to the LLM endpoint.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '../../testkit/redis-server.js';
import { tracing } from '../../src/agp/tracing.js';
import { dragonUsers, trainingScript } from '../support/training-script.js';
import { eventually } from '../../testkit/wait.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
  status?: { code?: number; message?: string };
  events?: Array<{ name: string }>;
}
/** A received span with its attributes flattened. */
interface Span extends OtlpSpan {
  attrs: Record<string, string | number | boolean | undefined>;
  service: string | undefined;
}

const SERVER = 2;
const CLIENT = 3;
const STATUS_ERROR = 2;

const valueOf = (v: OtlpValue) => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue));

/** An OTLP/HTTP JSON receiver (POST /v1/traces). */
async function startReceiver(): Promise<{ url: string; spans: Span[]; requests: number; close(): Promise<void>; server: Server }> {
  const spans: Span[] = [];
  const state = { requests: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: Array<{ resource?: { attributes?: Array<{ key: string; value: OtlpValue }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      for (const rs of body.resourceSpans) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            spans.push({ ...s, service, attrs: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, valueOf(a.value)])) });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    get requests() {
      return state.requests;
    },
    server,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const items = (n: number, p: string) => Array.from({ length: n }, (_, i) => ({ id: `${p}${i + 1}`, title: `Title ${p}${i + 1}` }));

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let double: LlmDouble;
let redis: RedisServerHandle;
let t: TestApp;
const ADMIN = 'admin-token-0123456789abcdef';

beforeAll(async () => {
  [receiver, double, redis] = await Promise.all([startReceiver(), startLlmDouble(), startRedisServer()]);
  t = await buildTestApp({
    env: {
      ADMIN_TOKEN: ADMIN,
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-test',
      LLM_MODEL: 'double-model',
      BREAKER_FAILURE_THRESHOLD: '1000',
      LLM_MAX_RETRIES: '0',
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix('tracing'),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'agp-rerank-test',
      OTEL_BSP_SCHEDULE_DELAY: '20',
    },
  });
});
afterAll(async () => {
  await t?.close();
  await Promise.all([receiver?.close(), double?.close(), redis?.stop()]);
});

/** Calls with the caller's traceparent; returns the caller's trace and span ids. */
async function rerankTraced(userId: string, candidates = items(5, 'c')) {
  const traceId = hex(16);
  const callerSpan = hex(8);
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/rerank',
    headers: { traceparent: `00-${traceId}-${callerSpan}-01` },
    payload: { userId, history: items(4, 'h'), candidates },
  });
  expect(res.statusCode).toBe(200);
  return { traceId, callerSpan, json: res.json<{ fallback: { reason: string } | null; profile: { cached: boolean } | null; requestId: string }>() };
}

/** The spans of one trace, once the server span (exported last, it ends last) has arrived. */
async function traceOf(traceId: string, rootName = 'POST /v1/rerank'): Promise<Span[]> {
  const until = Date.now() + 10_000;
  for (;;) {
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    if (spans.some((s) => s.name === rootName)) {
      // Children end before their parent; a short settle covers spans of the same batch boundary.
      await new Promise((r) => setTimeout(r, 60));
      return receiver.spans.filter((s) => s.traceId === traceId);
    }
    if (Date.now() > until) throw new Error(`no ${rootName} span for trace ${traceId}; got ${receiver.spans.length} spans`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const one = (spans: Span[], pred: (s: Span) => boolean, what: string): Span => {
  const found = spans.filter(pred);
  expect(found, what).toHaveLength(1);
  return found[0] as Span;
};
const named = (spans: Span[], name: string) => one(spans, (s) => s.name === name, name);

/** The server span: child of the caller's span, in the caller's trace, and every other span under it. */
function checkTree(spans: Span[], traceId: string, callerSpan: string): Span {
  const server = named(spans, 'POST /v1/rerank');
  expect(server.kind).toBe(SERVER);
  expect(server.traceId).toBe(traceId);
  expect(server.parentSpanId).toBe(callerSpan);
  expect(server.service).toBe('agp-rerank-test');
  expect(server.attrs['http.response.status_code']).toBe(200);
  const ids = new Set(spans.map((s) => s.spanId));
  for (const s of spans) if (s !== server) expect(ids.has(s.parentSpanId ?? ''), `${s.name} has its parent in the trace`).toBe(true);
  return server;
}

describe('OpenTelemetry traces (OTLP/HTTP JSON)', () => {
  it('installs the OTel tracer from OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    expect(t.container.config.tracing).toMatchObject({ enabled: true, endpoint: `${receiver.url}/v1/traces`, serviceName: 'agp-rerank-test' });
    expect(tracing().enabled).toBe(true);
  });

  it('a profile cache miss: server → profile.lookup → (redis lookup, llm.profile); server → llm.rerank; traceparent sent on', async () => {
    double.reset();
    const { traceId, callerSpan, json } = await rerankTraced('u-miss');
    expect(json.profile?.cached).toBe(false);
    const spans = await traceOf(traceId);
    const server = checkTree(spans, traceId, callerSpan);
    expect(server.attrs['agp.rerank.outcome']).toBe('ok');

    const lookup = named(spans, 'profile.lookup');
    expect(lookup.parentSpanId).toBe(server.spanId);
    expect(lookup.attrs['agp.profile.cache']).toBe('miss');
    const redisLookup = named(spans, 'redis.profile_store.lookup');
    expect(redisLookup.parentSpanId).toBe(lookup.spanId);
    expect(redisLookup.kind).toBe(CLIENT);
    expect(redisLookup.attrs['db.system']).toBe('redis');

    const profileCall = named(spans, 'llm.profile');
    expect(profileCall.parentSpanId).toBe(lookup.spanId);
    expect(profileCall.kind).toBe(CLIENT);
    expect(profileCall.attrs).toMatchObject({ 'agp.llm.role': 'profile', 'gen_ai.request.model': 'double-model', 'agp.llm.outcome': 'ok' });
    expect(profileCall.attrs['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(profileCall.attrs['gen_ai.usage.output_tokens']).toBeGreaterThan(0);

    const rerankCall = named(spans, 'llm.rerank');
    expect(rerankCall.parentSpanId).toBe(server.spanId);
    expect(rerankCall.attrs['agp.llm.outcome']).toBe('ok');

    // No prompt, profile or item text, and no user id, in any attribute.
    const everything = JSON.stringify(spans.map((s) => s.attrs));
    expect(everything).not.toMatch(/Title h1|Title c1|u-miss/);

    // The LLM endpoint got each call's own span as parent, in the caller's trace.
    const sent = double.calls.map((c) => c.headers.traceparent);
    expect(sent).toEqual([`00-${traceId}-${profileCall.spanId}-01`, `00-${traceId}-${rerankCall.spanId}-01`]);
  });

  it('a profile cache hit: no LLM profile span, one LLM rerank span', async () => {
    const { traceId, callerSpan, json } = await rerankTraced('u-miss', items(6, 'd'));
    expect(json.profile?.cached).toBe(true);
    const spans = await traceOf(traceId);
    const server = checkTree(spans, traceId, callerSpan);
    const lookup = named(spans, 'profile.lookup');
    expect(lookup.parentSpanId).toBe(server.spanId);
    expect(lookup.attrs['agp.profile.cache']).toBe('hit');
    expect(spans.filter((s) => s.name === 'llm.profile')).toHaveLength(0);
    expect(named(spans, 'llm.rerank').parentSpanId).toBe(server.spanId);
  });

  it('a fallback: the failed LLM call is an error span, the server span has the fallback reason', async () => {
    double.failNext(1, 'error400');
    const { traceId, callerSpan, json } = await rerankTraced('u-miss', items(7, 'e'));
    expect(json.fallback?.reason).toBe('llm_error');
    const spans = await traceOf(traceId);
    const server = checkTree(spans, traceId, callerSpan);
    expect(server.attrs['agp.fallback.reason']).toBe('llm_error');
    expect(server.attrs['agp.rerank.outcome']).toBe('fallback');
    const failed = named(spans, 'llm.rerank');
    expect(failed.parentSpanId).toBe(server.spanId);
    expect(failed.status?.code).toBe(STATUS_ERROR);
    expect(failed.attrs['agp.llm.outcome']).toBe('llm_error');
    expect(failed.attrs['error.type']).toBe('llm_error');
    expect(failed.events?.map((e) => e.name)).toContain('exception');
  });

  it('event ingestion: server → events.ingest → exposure store calls', async () => {
    const { json } = await rerankTraced('u-events');
    const traceId = hex(16);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { traceparent: `00-${traceId}-${hex(8)}-01` },
      payload: { events: [{ requestId: json.requestId, itemId: 'c1', type: 'click' }] },
    });
    expect(res.statusCode).toBe(202);
    const spans = await traceOf(traceId, 'POST /v1/events');
    const server = named(spans, 'POST /v1/events');
    const ingest = named(spans, 'events.ingest');
    expect(ingest.parentSpanId).toBe(server.spanId);
    expect(ingest.attrs['agp.events']).toBe(1);
    const storeCalls = spans.filter((s) => s.name.startsWith('redis.exposure_store.'));
    expect(storeCalls.length).toBeGreaterThan(0);
    for (const s of storeCalls) expect(s.parentSpanId).toBe(ingest.spanId);
  });

  it('without a traceparent the server span is a root span', async () => {
    const before = receiver.spans.length;
    const res = await t.app.inject({ method: 'POST', url: '/v1/rerank', payload: { userId: 'u-root', history: [], candidates: items(3, 'r') } });
    expect(res.statusCode).toBe(200);
    const until = Date.now() + 10_000;
    let server: Span | undefined;
    while (!server && Date.now() < until) {
      server = receiver.spans.slice(before).find((s) => s.name === 'POST /v1/rerank');
      if (!server) await new Promise((r) => setTimeout(r, 10));
    }
    expect(server).toBeDefined();
    expect(server?.parentSpanId ?? '').toBe('');
  });

  it('a training job: a root training.job span with its phases, and the LLM calls under them', async () => {
    double.reset();
    double.script(trainingScript);
    const auth = { authorization: `Bearer ${ADMIN}` };
    const submit = await t.app.inject({
      method: 'POST',
      url: '/admin/v1/training-jobs',
      headers: auth,
      payload: { domain: 'traced', dataset: { users: dragonUsers(6) }, params: { epochs: 1, batchSize: 3, verifySteps: 0, patience: 0, concurrency: 2 } },
    });
    expect(submit.statusCode).toBe(202);
    const { jobId } = submit.json<{ jobId: string }>();
    const job = await eventually(
      () => receiver.spans.find((s) => s.name === 'training.job' && s.attrs['agp.job_id'] === jobId),
      (s) => s !== undefined,
      { timeoutMs: 20_000 },
    );
    expect(job?.parentSpanId ?? '').toBe('');
    expect(job?.attrs['agp.training.outcome']).toBe('completed');
    const spans = await traceOf(job?.traceId ?? '', 'training.job');
    const byName = (n: string) => spans.filter((s) => s.name === n);
    for (const phase of ['training.load_data', 'training.initial_validation', 'training.validation', 'training.save_version']) {
      expect(byName(phase), phase).toHaveLength(1);
      expect(byName(phase)[0]?.parentSpanId).toBe(job?.spanId);
    }
    const batches = byName('training.batch');
    expect(batches).toHaveLength(2); // 6 users, 1 epoch: a validation split, the rest in batches of 3
    for (const b of batches) expect(b.attrs['agp.training.epoch']).toBe(1);
    const batchIds = new Set(batches.map((b) => b.spanId));
    const edits = spans.filter((s) => s.name === 'llm.edit');
    expect(edits.length).toBeGreaterThan(0);
    for (const e of edits) expect(batchIds.has(e.parentSpanId ?? '')).toBe(true);
    const ids = new Set(spans.map((s) => s.spanId));
    for (const s of spans) if (s !== job) expect(ids.has(s.parentSpanId ?? ''), `${s.name} has its parent in the trace`).toBe(true);
  });
});
