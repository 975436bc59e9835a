/**
 * The `agp worker` HTTP server (src/http/worker-app.ts) is built on the API's base (src/http/base-app.ts):
 * the same request ids, error envelope and framework-error handling. Driven with inject, no Redis.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildWorkerApp } from '../../src/http/worker-app.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { FastifyInstance } from 'fastify';

interface Envelope {
  error: { code: string; message: string; requestId: string };
}

/** Silent, even where a route raises its own log level (the scrape route logs at warn). */
const quiet = () => pino({ level: 'silent' }, { write: () => undefined });

const timeouts = loadConfig({}).http.timeouts;
let app: FastifyInstance;
beforeAll(async () => {
  app = await buildWorkerApp({ metrics: createMetrics({ defaultMetrics: false }), logger: quiet(), timeouts });
});
afterAll(async () => app?.close());

describe('worker HTTP on the shared Fastify base', () => {
  it('answers an unknown route with the error envelope and an x-request-id header', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/rerank?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json<Envelope>();
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toEqual({ code: 'NOT_FOUND', message: 'route GET /v1/rerank not found', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(res.headers['x-request-id']).toBe(body.error.requestId);
  });

  it("echoes the caller's x-request-id", async () => {
    const res = await app.inject({ method: 'DELETE', url: '/healthz', headers: { 'x-request-id': 'probe-42' } });
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-request-id']).toBe('probe-42');
    expect(res.json<Envelope>().error.requestId).toBe('probe-42');
  });

  it('answers an undecodable path with the 400 envelope, as the API does', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics/%ZZ' });
    expect(res.statusCode).toBe(400);
    const body = res.json<Envelope>();
    expect(body.error.code).toBe('VALIDATION_ERROR');
    expect(res.headers['x-request-id']).toBe(body.error.requestId);
  });

  it('serves liveness and Prometheus text, each with a request id', async () => {
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    expect(health.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
    expect(metrics.body).toContain('# TYPE agp_training_jobs_total counter');
    expect(metrics.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('hides a failing collector behind the 500 envelope', async () => {
    const registry = new Registry();
    const broken = await buildWorkerApp({
      metrics: { registry: Object.assign(registry, { metrics: () => Promise.reject(new Error('collector exploded: secret detail')) }) },
      logger: quiet(),
      timeouts,
    });
    try {
      const res = await broken.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(500);
      expect(res.json<Envelope>().error).toMatchObject({ code: 'INTERNAL_ERROR', message: 'internal error' });
      expect(res.body).not.toContain('secret');
    } finally {
      await broken.close();
    }
  });
});
