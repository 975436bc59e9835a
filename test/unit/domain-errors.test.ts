/**
 * Domain errors: each kind becomes one HTTP status (with its stable code and, for unavailable and
 * rate_limited, a Retry-After) in the error handler and nowhere else; the job engines' retry and cancel
 * rules (src/jobs/job-semantics.ts) read the same kinds.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/agp/dataset.js';
import { LlmCallError } from '../../src/agp/ports.js';
import { TrainingError } from '../../src/agp/trainer.js';
import { TrainingParamsError } from '../../src/agp/training-params.js';
import {
  ConflictError,
  ERROR_KINDS,
  ErrorCodes,
  InvalidInputError,
  NotFoundError,
  PermanentError,
  RateLimitedError,
  UnauthorizedError,
  UnavailableError,
  isDomainError,
  notFound,
  validationError,
} from '../../src/errors.js';
import type { AnyDomainError, ErrorKind } from '../../src/errors.js';
import { STATUS_OF_KIND, httpErrorOf, registerErrorHandler } from '../../src/http/plugins/error-handler.js';
import {
  CancelRequested,
  LockLost,
  ShuttingDown,
  failureKindOf,
  isCancellable,
  isRetryable,
  JOB_RETRY_DEFAULTS,
  judgeFailedAttempt,
  retryDelayMs,
} from '../../src/jobs/job-semantics.js';
import { defaultTrainingJobOptions } from '../../src/jobs/bullmq-training-jobs.js';
import { JOB_STATES } from '../../src/jobs/training-jobs.js';

/** One error of every kind, with the response it must become. */
const CASES: Array<{ err: AnyDomainError; status: number; code: string; retryAfter?: string; message?: string }> = [
  { err: validationError('body.x: bad'), status: 400, code: 'VALIDATION_ERROR', message: 'body.x: bad' },
  { err: new InvalidInputError('duplicate id "a"', undefined, ErrorCodes.DUPLICATE_CANDIDATE), status: 400, code: 'DUPLICATE_CANDIDATE_ID' },
  { err: new UnauthorizedError(), status: 401, code: 'UNAUTHORIZED' },
  { err: notFound('prompt version d/v'), status: 404, code: 'NOT_FOUND', message: 'prompt version d/v not found' },
  { err: new ConflictError('taken'), status: 409, code: 'CONFLICT', message: 'taken' },
  { err: new RateLimitedError('slow down', 7), status: 429, code: 'RATE_LIMITED', retryAfter: '7' },
  { err: new UnavailableError('shutting down', 5), status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '5', message: 'shutting down' },
  { err: new UnavailableError('fractional', 0.2), status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '1' },
  // A 5xx never leaks its message.
  { err: new PermanentError('checkpoint of run x at /var/lib/secret'), status: 500, code: 'INTERNAL_ERROR', message: 'internal error' },
];

describe('kind → HTTP status (the error handler)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify({ logger: false });
    registerErrorHandler(app);
    app.get('/throw/:i', (req) => {
      throw CASES[Number((req.params as { i: string }).i)]?.err;
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it('covers every kind, and no error carries a status of its own', () => {
    expect(new Set(CASES.map((c) => c.err.kind))).toEqual(new Set(ERROR_KINDS));
    expect(Object.keys(STATUS_OF_KIND).sort()).toEqual([...ERROR_KINDS].sort());
    for (const { err } of CASES) {
      expect(err).not.toHaveProperty('statusCode');
      expect(err).not.toHaveProperty('status');
      expect(isDomainError(err)).toBe(true);
    }
    expect(isDomainError(new Error('plain'))).toBe(false);
  });

  it.each(CASES.map((c, i) => [c.err.kind, c.code, i, c] as const))('%s (%s) → its status, code and Retry-After', async (_k, _c, i, c) => {
    const res = await app.inject({ method: 'GET', url: `/throw/${i}`, headers: { 'x-request-id': 'rid-1' } });
    expect(res.statusCode).toBe(c.status);
    const body = res.json() as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe(c.code);
    expect(typeof body.error.requestId).toBe('string');
    if (c.message !== undefined) expect(body.error.message).toBe(c.message);
    expect(res.headers['retry-after']).toBe(c.retryAfter);
    expect(httpErrorOf(c.err).status).toBe(c.status);
  });
});

describe('failure kind and retry classification (both job engines)', () => {
  const kinds: Array<[string, unknown, ErrorKind, boolean]> = [
    ['invalid input', validationError('bad dataset'), 'invalid_input', false],
    ['not found', new NotFoundError('x not found'), 'not_found', false],
    ['conflict', new ConflictError('exists'), 'conflict', false],
    ['unauthorized', new UnauthorizedError(), 'unauthorized', false],
    ['permanent', new PermanentError('no'), 'permanent', false],
    ['unavailable', new UnavailableError('LLM down', 60), 'unavailable', true],
    ['rate limited', new RateLimitedError('quota', 3), 'rate_limited', true],
    ['a DatasetError', new DatasetError('d.jsonl', [{ line: 1, message: 'bad' }]), 'invalid_input', false],
    ['a TrainingParamsError', new TrainingParamsError('epochs must be ≥ 1'), 'invalid_input', false],
    ['a TrainingError (foreign checkpoint)', new TrainingError('checkpoint belongs to another run'), 'permanent', false],
    ['an LLM call error', new LlmCallError('llm_error', '500'), 'unavailable', true],
    ['an unknown error (a crash, a Redis blip)', new Error('ECONNRESET'), 'unavailable', true],
  ];

  it.each(kinds)('%s → %s, retryable: %s', (_name, err, kind, retryable) => {
    expect(failureKindOf(err)).toBe(kind);
    expect(isRetryable(err)).toBe(retryable);
  });

  const live = () => new AbortController().signal;

  it('retries a retryable failure while attempts are left, then fails it', () => {
    const err = new UnavailableError('LLM down');
    expect(judgeFailedAttempt(err, live(), 1, 3)).toEqual({ action: 'retry', message: 'LLM down' });
    expect(judgeFailedAttempt(err, live(), 2, 3)).toMatchObject({ action: 'retry' });
    expect(judgeFailedAttempt(err, live(), 3, 3)).toEqual({ action: 'fail', message: 'LLM down', kind: 'unavailable' });
  });

  it('never retries a permanent failure, even on the first of many attempts', () => {
    expect(judgeFailedAttempt(validationError('gone'), live(), 1, 10)).toEqual({ action: 'fail', message: 'gone', kind: 'invalid_input' });
    expect(judgeFailedAttempt(new TrainingError('foreign'), live(), 1, 10)).toMatchObject({ action: 'fail', kind: 'permanent' });
  });

  it('an aborted run stopped, whatever it threw; the abort reason says why', () => {
    const stopWith = (reason: Error) => {
      const c = new AbortController();
      c.abort(reason);
      return judgeFailedAttempt(new UnavailableError('aborted call'), c.signal, 1, 3);
    };
    expect(stopWith(new CancelRequested('user'))).toEqual({ action: 'stopped', reason: 'cancelled' });
    expect(stopWith(new ShuttingDown('bye'))).toEqual({ action: 'stopped', reason: 'shutdown' });
    expect(stopWith(new LockLost('lost'))).toEqual({ action: 'stopped', reason: 'lock_lost' });
  });

  it('backs off exponentially from the same base in both engines (BullMQ `exponential`: base·2^(n−1))', () => {
    expect([1, 2, 3].map((n) => retryDelayMs(n, 100))).toEqual([100, 200, 400]);
    expect(retryDelayMs(1)).toBe(JOB_RETRY_DEFAULTS.backoffMs);
    expect(defaultTrainingJobOptions()).toMatchObject({
      attempts: JOB_RETRY_DEFAULTS.attempts,
      backoff: { type: 'exponential', delay: JOB_RETRY_DEFAULTS.backoffMs },
    });
  });

  it('a job can be cancelled until it is final', () => {
    expect(JOB_STATES.filter(isCancellable)).toEqual(['queued', 'running']);
  });
});
