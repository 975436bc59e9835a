/**
 * createOpenAiLlmClient through the real openai SDK and the undici transport, against the LLM double.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatMessage, LlmRequest, Logger } from '../../src/agp/ports.js';
import { LlmCallError } from '../../src/agp/ports.js';
import { createOpenAiLlmClient, retryAfterMs } from '../../src/llm/openai-llm-client.js';
import type { OpenAiLlmClient, OpenAiLlmClientOptions } from '../../src/llm/openai-llm-client.js';
import { createUndiciFetch } from '../../src/llm/undici-fetch.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { Metrics } from '../../src/observability/metrics.js';
import { startLlmDouble } from '../../testkit/llm-double.js';
import type { LlmDouble } from '../../testkit/llm-double.js';

const API_KEY = 'sk-test-secret-key';
const MODELS = { profile: 'double-model', rerank: 'double-model', summarise: 'double-model', edit: 'double-model', reason: 'double-model' };

const RERANK: ChatMessage[] = [
  { role: 'system', content: 'You rank items for a user.' },
  {
    role: 'user',
    content: [
      '<profile>Loves space opera and robots.</profile>',
      '<candidates>',
      '[1] Pasta at home — cooking basics',
      '[2] Robots of the galaxy — space robots',
      '[3] Space opera saga — epic space',
      '</candidates>',
      'Answer as <ranking>…</ranking>.',
    ].join('\n'),
  },
];

let double: LlmDouble;
let clients: OpenAiLlmClient[] = [];

beforeAll(async () => {
  double = await startLlmDouble();
});
afterAll(async () => {
  await double.close();
});
beforeEach(() => {
  double.reset();
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

function client(overrides: Partial<OpenAiLlmClientOptions> = {}): OpenAiLlmClient {
  const c = createOpenAiLlmClient({
    baseUrl: double.url,
    apiKey: API_KEY,
    models: MODELS,
    temperature: 0,
    maxConcurrency: 8,
    queueTimeoutMs: 50,
    maxRetries: 2,
    structuredOutput: false,
    breaker: { failureThreshold: 5, resetMs: 10_000 },
    ...overrides,
  });
  clients.push(c);
  return c;
}

function req(over: Partial<LlmRequest> = {}): LlmRequest {
  return { role: 'rerank', messages: RERANK, deadline: Date.now() + 2_000, ...over };
}

async function failure(p: Promise<unknown>): Promise<LlmCallError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(LlmCallError);
    return err as LlmCallError;
  }
  throw new Error('expected the call to fail');
}

async function count(m: Metrics, name: 'llmCalls' | 'llmTokens', labels: Record<string, string>): Promise<number> {
  const { values } = await m[name].get();
  const match = (l: Record<string, string | number | undefined>) => Object.entries(labels).every(([k, val]) => l[k] === val);
  return values.find((v) => match(v.labels))?.value ?? 0;
}

describe('OpenAI LLM client', () => {
  it('answers through the SDK with tokens, attempts and model, and counts metrics', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const c = client({ metrics });
    expect(c.configured).toBe(true);
    const res = await c.complete(req({ maxTokens: 77, temperature: 0.3 }));
    expect(res.text).toBe('<ranking>2, 3, 1</ranking>');
    expect(res.attempts).toBe(1);
    expect(res.model).toBe('double-model');
    const promptChars = RERANK.reduce((n, m) => n + m.content.length, 0);
    expect(res.promptTokens).toBe(Math.ceil(promptChars / 4));
    expect(res.completionTokens).toBe(Math.ceil(res.text.length / 4));
    expect(res.latencyMs).toBeGreaterThanOrEqual(0);

    expect(double.calls).toHaveLength(1);
    const call = double.calls[0];
    expect(call?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(call?.role).toBe('rerank');
    expect(call?.max_tokens).toBe(77);
    expect(call?.temperature).toBe(0.3);
    expect(call?.response_format).toBeUndefined();

    expect(await count(metrics, 'llmCalls', { role: 'rerank', outcome: 'ok', model: 'double-model' })).toBe(1);
    expect(await count(metrics, 'llmTokens', { role: 'rerank', kind: 'prompt' })).toBe(res.promptTokens);
    expect(await count(metrics, 'llmTokens', { role: 'rerank', kind: 'completion' })).toBe(res.completionTokens);
    const duration = await metrics.registry.getSingleMetricAsString('agp_llm_request_duration_seconds');
    expect(duration).toContain('agp_llm_request_duration_seconds_count{role="rerank",outcome="ok",model="double-model"} 1');
    expect(c.gate.inflight).toBe(0);
  });

  it('uses the per-role model, then the default model, and req.model over both', async () => {
    const c = client({ models: { ...MODELS, rerank: 'rerank-model', profile: undefined }, defaultModel: 'fallback-model' });
    await c.complete(req());
    await c.complete(req({ role: 'profile' }));
    await c.complete(req({ model: 'override-model' }));
    expect(double.calls.map((x) => x.model)).toEqual(['rerank-model', 'fallback-model', 'override-model']);
  });

  it('retries a 500 and succeeds on the second attempt', async () => {
    double.failNext(1, 'error500');
    const res = await client().complete(req());
    expect(res.attempts).toBe(2);
    expect(double.calls.map((x) => x.mode)).toEqual(['error500', 'ok']);
  });

  it('retries a dropped connection', async () => {
    double.failNext(1, 'drop');
    const res = await client().complete(req());
    expect(res.attempts).toBe(2);
    expect(double.calls).toHaveLength(2);
  });

  it('gives up after maxRetries with llm_error and reports the calls spent', async () => {
    double.setMode('error500');
    const metrics = createMetrics({ defaultMetrics: false });
    const err = await failure(client({ maxRetries: 2, metrics }).complete(req()));
    expect(err.reason).toBe('llm_error');
    expect(err.usage?.llmCalls).toBe(3);
    expect(double.calls).toHaveLength(3);
    expect(await count(metrics, 'llmCalls', { role: 'rerank', outcome: 'llm_error' })).toBe(1);
  });

  it('does not retry other 4xx', async () => {
    double.setMode('error400');
    const err = await failure(client().complete(req()));
    expect(err.reason).toBe('llm_error');
    expect(double.calls).toHaveLength(1);
  });

  it('honours Retry-After (seconds) when the deadline allows', async () => {
    double.failNext(1, 'error429');
    const t0 = Date.now();
    const res = await client().complete(req({ deadline: t0 + 3_000 }));
    const elapsed = Date.now() - t0;
    expect(res.attempts).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(995);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('honours retry-after-ms', async () => {
    double.setRetryAfter({ retryAfter: null, retryAfterMs: 150 });
    double.failNext(1, 'error429');
    const t0 = Date.now();
    const res = await client().complete(req());
    expect(res.attempts).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(148);
  });

  it('does not sleep past the deadline for a Retry-After it cannot honour', async () => {
    double.setMode('error429');
    const t0 = Date.now();
    const err = await failure(client().complete(req({ deadline: t0 + 300 })));
    expect(Date.now() - t0).toBeLessThan(100);
    expect(err.reason).toBe('llm_error');
    expect(err.usage?.llmCalls).toBe(1);
    expect(double.calls).toHaveLength(1);
  });

  it('times out a hanging endpoint at the deadline', async () => {
    double.setMode('hang');
    const metrics = createMetrics({ defaultMetrics: false });
    const t0 = Date.now();
    const err = await failure(client({ metrics }).complete(req({ deadline: t0 + 200 })));
    const elapsed = Date.now() - t0;
    expect(err.reason).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(250);
    expect(double.calls).toHaveLength(1);
    expect(await count(metrics, 'llmCalls', { role: 'rerank', outcome: 'timeout' })).toBe(1);
  });

  it('fails fast on caller abort, as a timeout that does not trip the breaker', async () => {
    double.setMode('hang');
    const c = client({ breaker: { failureThreshold: 1, resetMs: 10_000 } });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const t0 = Date.now();
    const err = await failure(c.complete(req({ deadline: t0 + 5_000, signal: ctl.signal })));
    expect(err.reason).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(150);
    expect(c.breaker.state).toBe('closed');
    // an already-aborted signal never reaches the network
    await failure(c.complete(req({ signal: AbortSignal.abort() })));
    expect(double.calls).toHaveLength(1);
  });

  it("counts a caller's abort as outcome cancelled (before the call, in flight, while queued), a caller's timer as timeout", async () => {
    double.setMode('hang');
    const metrics = createMetrics({ defaultMetrics: false });
    const c = client({ metrics, maxConcurrency: 1, queueTimeoutMs: 5_000 });
    const outcomes = async () => ({
      cancelled: await count(metrics, 'llmCalls', { role: 'rerank', outcome: 'cancelled' }),
      timeout: await count(metrics, 'llmCalls', { role: 'rerank', outcome: 'timeout' }),
    });
    const deadline = () => Date.now() + 5_000;

    await failure(c.complete(req({ deadline: deadline(), signal: AbortSignal.abort() })));
    expect(await outcomes()).toEqual({ cancelled: 1, timeout: 0 });

    // In flight (holding the only slot), and a second call queued behind it: both cancelled.
    const inFlight = new AbortController();
    const queued = new AbortController();
    const first = failure(c.complete(req({ deadline: deadline(), signal: inFlight.signal })));
    await vi.waitFor(() => expect(double.calls).toHaveLength(1));
    const second = failure(c.complete(req({ deadline: deadline(), signal: queued.signal })));
    await vi.waitFor(() => expect(c.gate.waiting).toBe(1));
    queued.abort();
    expect((await second).reason).toBe('timeout'); // the public fallback reason is unchanged
    inFlight.abort(new Error('training job cancelled'));
    expect((await first).reason).toBe('timeout');
    expect(await outcomes()).toEqual({ cancelled: 3, timeout: 0 });

    // A caller whose own signal is a timer (AbortSignal.timeout) ran out of time: that is a timeout.
    await failure(c.complete(req({ deadline: deadline(), signal: AbortSignal.timeout(50) })));
    expect(await outcomes()).toEqual({ cancelled: 3, timeout: 1 });
  });

  it('fails with timeout without a request when the deadline has passed', async () => {
    const err = await failure(client().complete(req({ deadline: Date.now() - 1 })));
    expect(err.reason).toBe('timeout');
    expect(double.calls).toHaveLength(0);
  });

  it('opens the breaker after N failures, fails fast without the network, and a half-open probe closes it', async () => {
    const clock = { offset: 0, now: () => Date.now() + clock.offset };
    const metrics = createMetrics({ defaultMetrics: false });
    const c = client({ clock, metrics, maxRetries: 0, breaker: { failureThreshold: 3, resetMs: 1_000 } });
    const at = () => req({ deadline: clock.now() + 2_000 });
    double.setMode('error500');
    for (let i = 0; i < 3; i++) expect((await failure(c.complete(at()))).reason).toBe('llm_error');
    expect(c.breaker.state).toBe('open');
    expect((await metrics.breakerState.get()).values[0]?.value).toBe(1);

    const t0 = Date.now();
    const err = await failure(c.complete(at()));
    expect(err.reason).toBe('circuit_open');
    expect(Date.now() - t0).toBeLessThan(50);
    expect(double.calls).toHaveLength(3);
    expect(await count(metrics, 'llmCalls', { role: 'rerank', outcome: 'circuit_open' })).toBe(1);

    double.setMode('ok');
    clock.offset += 1_000;
    expect(c.breaker.state).toBe('half_open');
    expect((await c.complete(at())).text).toContain('<ranking>');
    expect(c.breaker.state).toBe('closed');
    expect((await metrics.breakerState.get()).values[0]?.value).toBe(0);
    expect(double.calls).toHaveLength(4);
  });

  it('settles a half-open probe even when the answer makes our own accounting throw', async () => {
    const clock = { offset: 0, now: () => Date.now() + clock.offset };
    const metrics = createMetrics({ defaultMetrics: false });
    const c = client({ clock, metrics, maxRetries: 0, breaker: { failureThreshold: 1, resetMs: 1_000 } });
    const at = () => req({ deadline: clock.now() + 2_000 });
    double.failNext(1, 'error500');
    expect((await failure(c.complete(at()))).reason).toBe('llm_error');
    expect(c.breaker.state).toBe('open');

    // A bug in the accounting of the 200 (prom-client throws on a negative inc, as it did for usage -5).
    metrics.llmTokens.inc = () => {
      throw new Error('It is not possible to decrease a counter');
    };
    clock.offset += 1_000;
    expect(c.breaker.state).toBe('half_open');
    expect((await failure(c.complete(at()))).reason).toBe('llm_error');
    expect(c.breaker.state).not.toBe('half_open'); // settled: not waiting forever for a probe that ended
    expect(await count(metrics, 'llmCalls', { role: 'rerank', outcome: 'llm_error' })).toBe(2);
  });

  it('sheds a second concurrent call with overloaded once the queue wait is spent', async () => {
    double.setLatency(300);
    const metrics = createMetrics({ defaultMetrics: false });
    const c = client({ maxConcurrency: 1, queueTimeoutMs: 20, metrics, breaker: { failureThreshold: 1, resetMs: 10_000 } });
    const first = c.complete(req());
    const t0 = Date.now();
    const err = await failure(c.complete(req()));
    expect(err.reason).toBe('overloaded');
    expect(Date.now() - t0).toBeLessThan(100);
    expect(c.gate.inflight).toBe(1);
    expect((await first).attempts).toBe(1);
    expect(double.calls).toHaveLength(1);
    expect(c.breaker.state).toBe('closed');
    expect(await count(metrics, 'llmCalls', { role: 'rerank', outcome: 'overloaded' })).toBe(1);
  });

  it('lets a queued call through when a slot frees within the queue timeout', async () => {
    double.setLatency(40);
    const c = client({ maxConcurrency: 1, queueTimeoutMs: 1_000 });
    const [a, b] = await Promise.all([c.complete(req()), c.complete(req())]);
    expect(a.attempts + b.attempts).toBe(2);
    expect(Math.max(a.latencyMs, b.latencyMs)).toBeGreaterThanOrEqual(75);
  });

  it('is unconfigured without an endpoint or a model, and never calls', async () => {
    const noEndpoint = client({ baseUrl: undefined, apiKey: undefined });
    const noModel = client({ models: { profile: undefined, rerank: undefined, summarise: undefined, edit: undefined, reason: undefined } });
    for (const c of [noEndpoint, noModel]) {
      expect(c.configured).toBe(false);
      expect((await failure(c.complete(req()))).reason).toBe('llm_unconfigured');
    }
    expect(double.calls).toHaveLength(0);
  });

  it('sends a strict json_schema response_format only when structured output is enabled', async () => {
    const schema = { type: 'object', properties: { ranking: { type: 'array', items: { type: 'integer' } } }, required: ['ranking'] };
    const responseFormat = { name: 'ranking', schema };
    const res = await client({ structuredOutput: true }).complete(req({ responseFormat }));
    expect(double.calls[0]?.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'ranking', schema, strict: true } });
    expect(JSON.parse(res.text)).toEqual({ ranking: [2, 3, 1] });

    await client({ structuredOutput: false }).complete(req({ responseFormat }));
    expect(double.calls[1]?.response_format).toBeUndefined();
  });

  it('treats empty content as llm_error and still reports the tokens spent', async () => {
    double.script(() => '');
    const err = await failure(client().complete(req()));
    expect(err.reason).toBe('llm_error');
    expect(err.usage?.llmCalls).toBe(1);
    expect(err.usage?.promptTokens).toBeGreaterThan(0);
  });

  it('never logs the API key or message contents', async () => {
    const lines: string[] = [];
    const sink = (obj: object, msg?: string) => lines.push(JSON.stringify(obj) + (msg ?? ''));
    const logger: Logger = { debug: sink, info: sink, warn: sink, error: sink };
    const c = client({ logger, maxRetries: 1, breaker: { failureThreshold: 1, resetMs: 10_000 } });
    await c.complete(req());
    double.setMode('error500');
    await failure(c.complete(req()));
    await failure(c.complete(req()));
    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(all).toContain('"role":"rerank"');
    expect(all).not.toContain(API_KEY);
    expect(all).not.toContain('space opera');
    expect(all).not.toContain('ranking>');
  });
});

describe('LLM double', () => {
  it('scripts replies, falls through on undefined, and answers profile requests deterministically', async () => {
    const c = client();
    double.script((r) => (r.role === 'summarise' ? 'SCRIPTED' : undefined));
    const summary = await c.complete(req({ role: 'summarise', messages: [{ role: 'user', content: 'Feedback for a batch. Reply with the instruction only.' }] }));
    expect(summary.text).toBe('SCRIPTED');
    const history = '<history>\n[1] Space robots — a\n[2] Robots at sea — b\n[3] Space cats — c\n</history>';
    const profile = await c.complete(req({ role: 'profile', messages: [{ role: 'user', content: history }] }));
    expect(profile.text).toBe('Enjoys: space, robots, sea, cats.');
    expect(double.calls.map((x) => x.role)).toEqual(['summarise', 'profile']);
  });

  it('serves partial, repairable and junk rankings', async () => {
    const c = client();
    const many = RERANK.map((m) =>
      m.role === 'user' ? { ...m, content: m.content.replace('</candidates>', '[4] Robot chefs — cooking robots\n</candidates>') } : m,
    );
    double.failNext(1, 'partial');
    double.failNext(1, 'repairable');
    double.failNext(1, 'junk');
    const partial = await c.complete(req({ messages: many }));
    const repairable = await c.complete(req({ messages: many }));
    const junk = await c.complete(req({ messages: many }));
    expect(partial.text).toBe('<ranking>2</ranking>');
    expect(repairable.text).toBe('<ranking>2, 3, 4, 2</ranking>');
    expect(junk.text).not.toMatch(/\d/);
  });

  it('follows a seeded chaos schedule reproducibly', async () => {
    const chaos = { error500: 0.3, junk: 0.3 };
    const a = await startLlmDouble({ chaos, seed: 7 });
    const b = await startLlmDouble({ chaos, seed: 7 });
    try {
      const modes = async (d: LlmDouble) => {
        const c = client({ baseUrl: d.url, maxRetries: 0 });
        for (let i = 0; i < 12; i++) await c.complete(req()).catch(() => undefined);
        return d.calls.map((x) => x.mode);
      };
      const ma = await modes(a);
      expect(ma).toEqual(await modes(b));
      expect(new Set(ma).size).toBeGreaterThan(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('answers GET /v1/models through the undici transport, which keeps fetch semantics', async () => {
    const t = createUndiciFetch();
    try {
      const models = await t.fetch(`${double.url}/models`);
      expect(models.status).toBe(200);
      expect(models.headers.get('content-type')).toBe('application/json');
      expect(((await models.json()) as { data: Array<{ id: string }> }).data[0]?.id).toBe('double-model');
      expect((await t.fetch(`${double.url}/nope`, { method: 'GET' })).status).toBe(404);
      await expect(t.fetch(`${double.url}/models`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      await expect(t.fetch('http://127.0.0.1:1/v1/models')).rejects.toThrow('fetch failed');
    } finally {
      await t.close();
    }
  });
});

describe('retryAfterMs', () => {
  it('parses retry-after-ms, seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '1.5' }), now)).toBe(1_500);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:02 GMT' }), now)).toBe(2_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});
