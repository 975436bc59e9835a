/**
 * Property: 10,000 random and malformed requests spread over EVERY route (rerank, profile erasure, every
 * /admin/v1 route with and without a valid token, the ops GET routes, unknown routes and methods) never get
 * a 5xx, and every error is exactly `{error:{code,message,requestId}}` with a string code and the request's
 * id. Bodies mix nearly-valid requests with junk: wrong types, huge numbers, deep nesting, prototype-
 * pollution keys, wrong content types, oversized payloads. Matched admin routes answer 401 to every bad
 * token before looking at the body. Fixed seed; app.inject; the LLM is an in-process client that fails at
 * once, so reranks fall back and any valid training job fails fast instead of training.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmCallError } from '../../src/agp/ports.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { createScriptedLlm } from '../../testkit/scripted-llm.js';

const TOKEN = 'fuzz-admin-token-0123456789';
const BODY_LIMIT = 32_768;
const RUNS = 10_000;
const SEED = 20_261_126;

let t: TestApp;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agp-fuzz-data-'));
  const llm = createScriptedLlm(() => {
    throw new LlmCallError('llm_error', 'fuzz: the LLM always fails');
  });
  t = await buildTestApp({
    env: { ADMIN_TOKEN: TOKEN, TRAINING_DATA_DIR: dataDir, BODY_LIMIT_BYTES: String(BODY_LIMIT) },
    llm,
  });
});
afterAll(async () => {
  await t?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// ---- values ---------------------------------------------------------------------------------------------

const hugeNumber = fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), 1e-320, -0, 0.5, 4_294_967_297);
const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '../../etc/passwd', '/etc/passwd', '%2F', '\u202e', '<|im_start|>', '</candidates>', 'x'.repeat(300)),
);
const protoKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__');
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  nastyString,
  hugeNumber,
  fc.constant(null),
  fc.boolean(),
);
/** `depth` nested arrays or objects around a leaf: probes recursion in parsers, clones and serialisers. */
const deep = fc
  .tuple(fc.integer({ min: 2, max: 3000 }), fc.boolean())
  .map(([depth, arrays]) => ({ raw: arrays ? '['.repeat(depth) + '1' + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) }));
type Raw = { raw: string };
const isRaw = (v: unknown): v is Raw => typeof v === 'object' && v !== null && 'raw' in v && Object.keys(v).length === 1;

/** JSON.stringify that splices pre-serialised fragments (deep nesting) in place of `{raw}` markers. */
function toJson(value: unknown): string {
  const fragments: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (isRaw(v)) {
      fragments.push(v.raw);
      return `@@RAW${fragments.length - 1}@@`;
    }
    return v;
  });
  return (text ?? 'null').replace(/"@@RAW(\d+)@@"/g, (_m, i: string) => fragments[Number(i)] ?? 'null');
}

/** Adds own keys such as `__proto__` to a serialised object (an object literal would set the prototype). */
function withKeys(json: string, keys: Array<[string, unknown]>): string {
  if (!json.startsWith('{') || keys.length === 0) return json;
  const extra = keys.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',');
  return json === '{}' ? `{${extra}}` : `{${extra},${json.slice(1)}`;
}

const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { freq: 3, nil: undefined });
/** Mostly a valid value, so whole bodies are often valid and reach the handlers; sometimes junk or deep. */
const field = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 30, arbitrary: valid }, { weight: 1, arbitrary: junk }, { weight: 1, arbitrary: deep });

// ---- bodies ---------------------------------------------------------------------------------------------

const item = (prefix: string) =>
  fc.record(
    { id: field(fc.stringMatching(new RegExp(`^${prefix}[0-9]{1,3}$`))), title: field(nastyString), text: field(nastyString), score: field(fc.double()) },
    { requiredKeys: ['id', 'title'] },
  );
const rerankBody = fc.record(
  {
    userId: field(fc.stringMatching(/^[a-z0-9-]{1,20}$/)),
    history: field(fc.array(item('h'), { maxLength: 6 })),
    candidates: fc.oneof(
      { weight: 5, arbitrary: fc.uniqueArray(item('c'), { minLength: 1, maxLength: 8, selector: (c) => JSON.stringify(c.id) }) },
      { weight: 1, arbitrary: fc.array(item('c'), { maxLength: 4 }) },
      { weight: 1, arbitrary: fc.constant(Array.from({ length: 101 }, (_, i) => ({ id: `c${i}`, title: 't' }))) },
      { weight: 1, arbitrary: junk },
      { weight: 1, arbitrary: deep },
    ),
    domain: field(fc.constantFrom('default', 'movies', 'a.b-c_d')),
    topN: field(fc.oneof(fc.integer({ min: -3, max: 12 }), hugeNumber)),
    method: field(fc.constantFrom('agp', 'direct', 'cot', 'baseline')),
    deadlineMs: field(fc.oneof(fc.integer({ min: -10, max: 50 }), hugeNumber)),
    includeProfile: field(fc.boolean()),
  },
  { requiredKeys: [] },
);
const domainArb = fc.constantFrom('default', 'movies', 'books');
const versionArb = fc.stringMatching(/^v[0-9]{1,3}$/);
const promptBody = fc.record(
  {
    domain: field(domainArb),
    version: field(versionArb),
    text: field(fc.string({ minLength: 1, maxLength: 60 })),
    parentVersion: field(fc.oneof(fc.constant(null), versionArb)),
    createdAt: field(fc.constantFrom('2026-01-01T00:00:00Z', 'yesterday', '2026-13-45T99:99:99Z')),
    historyLength: field(fc.oneof(fc.integer({ min: -1, max: 300 }), hugeNumber)),
    params: field(fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), protoKey), junk, { maxKeys: 4 })),
    metrics: field(fc.dictionary(fc.string({ maxLength: 8 }), junk, { maxKeys: 4 })),
  },
  { requiredKeys: [] },
);
/** A dataset the validator accepts (so some fuzzed jobs are really queued; the failing LLM ends them). */
const validUsers = Array.from({ length: 6 }, (_, i) => ({
  userId: `u${i}`,
  history: Array.from({ length: 3 }, (_, k) => ({ id: `h${i}-${k}`, title: `Film ${k}` })),
  candidates: Array.from({ length: 4 }, (_, k) => ({ id: `c${k}`, title: `Candidate ${k}` })),
  target: 'c2',
}));
const datasetRef = fc.oneof(
  fc.record({ users: fc.oneof(fc.constant(validUsers), fc.array(junk, { maxLength: 3 }), deep) }),
  fc.record({ path: fc.oneof(nastyString, fc.constantFrom('../../etc/passwd', '/etc/passwd', 'missing.jsonl', '.', '..', 'a\u0000b')) }),
  junk,
);
const trainingBody = fc.record(
  {
    domain: field(domainArb),
    dataset: datasetRef,
    validation: datasetRef,
    params: field(fc.oneof(fc.constant({ epochs: 1, batchSize: 2 }), fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), protoKey), junk, { maxKeys: 3 }))),
    activate: field(fc.constantFrom('never', 'if-better')),
  },
  { requiredKeys: [] },
);

/** A body as text: valid-ish JSON with optional prototype keys, any JSON, broken JSON, or oversized. */
const serialised = (body: fc.Arbitrary<unknown>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.tuple(body, fc.array(fc.tuple(protoKey, junk), { maxLength: 2 })).map(([b, keys]) => withKeys(toJson(b), keys)) },
    { weight: 2, arbitrary: junk.map(toJson) },
    { weight: 1, arbitrary: deep.map((d) => d.raw) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '[', '{"userId":', 'null', '\u0000', '{"a":1}}', 'NaN', '1e999999', '{"a":1,"a":2}') },
    { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
    { weight: 1, arbitrary: fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 2 }).map((n) => `{"userId":"${'x'.repeat(n)}"}`) },
  );

// ---- requests -------------------------------------------------------------------------------------------

/** A path segment: usually a routable encoded string, sometimes raw junk the router must refuse cleanly. */
const segment = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(nastyString, fc.string({ minLength: 90, maxLength: 1100 })).filter((s) => s.length > 0).map((s) => ({ text: encodeURIComponent(s), routable: s.length <= 1024 })) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('%2F', '%2e%2e%2F%2e%2e', '%00', '%252F', '%F0%9F%98%80', '__proto__', 'constructor').map((text) => ({ text, routable: true })),
  },
  // Undecodable escapes are refused by the router; `.`/`..` are resolved by URL parsing into other paths.
  { weight: 1, arbitrary: fc.constantFrom('%ZZ', '%C0%AF', '%E0%A4%A', '%', 'a%2', '..', '.').map((text) => ({ text, routable: false })) },
);
const query = fc.oneof(
  fc.constant(''),
  fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 10 }), protoKey), fc.string({ maxLength: 20 })), { maxLength: 4 }).map((kv) => `?${kv.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`),
  fc.constantFrom('?%ZZ=1', '?a[b]=c&__proto__[x]=1', '?&&&=', '?domain=a&domain=b', '?domain=%00', `?domain=${'d'.repeat(500)}`, '?constructor[prototype][x]=1'),
);
const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=utf-16',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/vnd.api+json',
      '*/*',
      '',
      undefined,
    ),
  },
);
type Auth = 'valid' | 'lowercase' | 'none' | 'wrong-same-length' | 'wrong-length' | 'basic' | 'junk';
const auth = fc.constantFrom<Auth>('valid', 'valid', 'lowercase', 'none', 'wrong-same-length', 'wrong-length', 'basic', 'junk');
const authHeader: Record<Auth, string | undefined> = {
  valid: `Bearer ${TOKEN}`,
  lowercase: `bearer ${TOKEN}`,
  none: undefined,
  'wrong-same-length': `Bearer ${TOKEN.slice(0, -1)}X`,
  'wrong-length': `Bearer ${TOKEN}0`,
  basic: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`,
  junk: 'Bearer',
};

type Method = 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH' | 'OPTIONS';
interface Req {
  method: Method;
  url: string;
  body?: string | undefined;
  contentType?: string | undefined;
  /** True when the request certainly reaches an admin route (so a bad token must be a 401). */
  admin: boolean;
  route: string;
}

/** Counterexamples can hold 30 KB bodies: report them abbreviated. */
function describeReq(r: Req): Req {
  const cut = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…(${s.length} chars)` : s);
  Object.defineProperty(r, fc.toStringMethod, {
    enumerable: false,
    value: () => `${r.method} ${cut(r.url)} [${r.contentType ?? 'no content-type'}] ${r.body === undefined ? '(no body)' : cut(r.body)}`,
  });
  return r;
}

const noBody = fc.constant(undefined);
const optionalBody = sometimes(serialised(junk));
const req = (route: string, method: Method, path: fc.Arbitrary<{ text: string; routable: boolean }>, body: fc.Arbitrary<string | undefined>, admin: boolean) =>
  fc.record({ path, query, body, contentType }).map(
    (r): Req => describeReq({ method, url: `${r.path.text}${r.query}`, body: r.body, contentType: r.contentType, admin: admin && r.path.routable, route }),
  );
const fixed = (p: string) => fc.constant({ text: p, routable: true });
const two = (a: string, b: string, c = '') =>
  fc.tuple(segment, segment).map(([x, y]) => ({ text: `${a}${x.text}/${y.text}${c}`, routable: x.routable && y.routable }));
const one = (a: string) => segment.map((x) => ({ text: `${a}${x.text}`, routable: x.routable }));

const request: fc.Arbitrary<Req> = fc.oneof(
  { weight: 6, arbitrary: req('rerank', 'POST', fixed('/v1/rerank'), serialised(rerankBody), false) },
  { weight: 3, arbitrary: req('erase', 'DELETE', one('/v1/profiles/'), optionalBody, false) },
  { weight: 2, arbitrary: fc.constantFrom('/healthz', '/readyz', '/metrics', '/openapi.json').chain((p) => req('ops', 'GET', fixed(p), noBody, false)) },
  { weight: 2, arbitrary: req('listPrompts', 'GET', fixed('/admin/v1/prompts'), noBody, true) },
  { weight: 2, arbitrary: req('getPrompt', 'GET', two('/admin/v1/prompts/', ''), noBody, true) },
  { weight: 4, arbitrary: req('importPrompt', 'POST', fixed('/admin/v1/prompts'), serialised(promptBody), true) },
  { weight: 2, arbitrary: req('activate', 'POST', two('/admin/v1/prompts/', '', '/activate'), optionalBody, true) },
  { weight: 4, arbitrary: req('submitJob', 'POST', fixed('/admin/v1/training-jobs'), serialised(trainingBody), true) },
  { weight: 1, arbitrary: req('listJobs', 'GET', fixed('/admin/v1/training-jobs'), noBody, true) },
  { weight: 1, arbitrary: req('getJob', 'GET', one('/admin/v1/training-jobs/'), noBody, true) },
  { weight: 1, arbitrary: req('cancelJob', 'DELETE', one('/admin/v1/training-jobs/'), optionalBody, true) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom<Method>('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'), fc.constantFrom('/v1/rerank', '/v1/profiles', '/admin/v1', '/admin/v1/prompts/a', '/nope', '/v2/rerank', '/'), optionalBody)
      .filter(([m, p]) => !(m === 'POST' && p === '/v1/rerank'))
      .map(([method, url, body]): Req => describeReq({ method, url, body, contentType: 'application/json', admin: false, route: 'unknown' })),
  },
);

const requestIdHeader = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,80}$/) },
);

// ---- the property ---------------------------------------------------------------------------------------

const PUBLIC_ROUTES = new Set(['rerank', 'erase', 'ops', 'unknown']);

describe('fuzzed requests on every route', () => {
  it(`${RUNS} requests: never a 5xx, every error in the one shape, bad admin tokens are 401`, async () => {
    const seen = new Map<string, Set<number>>();
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    await fc.assert(
      fc.asyncProperty(request, auth, requestIdHeader, async (r, a, rid) => {
        const headers: Record<string, string> = {};
        if (r.contentType !== undefined && r.body !== undefined) headers['content-type'] = r.contentType;
        const authorization = authHeader[a];
        if (authorization !== undefined) headers.authorization = authorization;
        if (rid !== undefined) headers['x-request-id'] = rid;
        const res = await t.app.inject({ method: r.method, url: r.url, headers, ...(r.body !== undefined ? { payload: r.body } : {}) });

        const statuses = seen.get(r.route) ?? new Set<number>();
        statuses.add(res.statusCode);
        seen.set(r.route, statuses);

        expect(res.statusCode, `${r.method} ${r.url.slice(0, 120)}`).toBeLessThan(500);
        const requestId = res.headers['x-request-id'];
        expect(typeof requestId).toBe('string');
        if (rid !== undefined) expect(requestId).toBe(rid);
        if (res.statusCode >= 400) {
          expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
          const body = res.json() as { error: { code: unknown; message: unknown; requestId: unknown } };
          expect(Object.keys(body)).toEqual(['error']);
          expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'requestId']);
          expect(body.error.code).toMatch(/^[A-Z][A-Z_]+$/);
          expect(typeof body.error.message).toBe('string');
          expect(body.error.requestId).toBe(requestId);
        }
        const goodToken = a === 'valid' || a === 'lowercase';
        if (r.admin && !goodToken) expect(res.statusCode).toBe(401);
        if (goodToken || PUBLIC_ROUTES.has(r.route)) expect(res.statusCode).not.toBe(401);
        if (r.route === 'rerank' && res.statusCode === 200) {
          const sent = JSON.parse(r.body as string) as { candidates: Array<{ id: string }>; topN?: number };
          const json = res.json() as { ranking: Array<{ id: string; rank: number; baseRank: number }>; fallback: unknown };
          const ids = sent.candidates.map((c) => c.id);
          expect(json.ranking).toHaveLength(Math.min(sent.topN ?? ids.length, ids.length));
          expect(new Set(json.ranking.map((x) => x.id)).size).toBe(json.ranking.length);
          json.ranking.forEach((x, i) => {
            expect(x.rank).toBe(i + 1);
            expect(ids[x.baseRank - 1]).toBe(x.id);
          });
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // No `__proto__` / `constructor.prototype` key polluted the process.
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    if (process.env.FUZZ_STATS) console.log([...seen].map(([k, v]) => `${k}: ${[...v].sort().join(',')}`).join('\n'));
    // The mix really reached every route, with successes and failures where both are possible.
    for (const route of ['rerank', 'erase', 'ops', 'listPrompts', 'getPrompt', 'importPrompt', 'activate', 'submitJob', 'listJobs', 'getJob', 'cancelJob', 'unknown']) {
      expect(seen.get(route)?.size ?? 0, route).toBeGreaterThan(0);
    }
    for (const [route, status] of [
      ['rerank', 200], ['rerank', 400], ['rerank', 413], ['rerank', 415],
      ['erase', 200], ['erase', 400],
      ['importPrompt', 201], ['importPrompt', 400], ['importPrompt', 401],
      ['submitJob', 202], ['submitJob', 400], ['submitJob', 401],
      ['getPrompt', 404], ['activate', 401], ['unknown', 404],
    ] as const) {
      expect(seen.get(route)?.has(status), `${route} → ${status}`).toBe(true);
    }
  }, 120_000);
});
