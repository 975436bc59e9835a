/**
 * Liveness and readiness. Readiness fails (503) only when prompts are not loaded. A configured Redis that is
 * unreachable is reported as `degraded` with 200: the service still answers every rerank (profiles are
 * regenerated, never errors), and failing readiness on every replica at once would turn a cache outage
 * into a total outage. An unconfigured LLM is reported the same way. So are prompts `lost` (active
 * versions vanished from storage, e.g. Redis restarted empty): every replica serves the built-in prompt
 * alike, so the pods stay in rotation, but the operator must see it (and agp_prompt_registry_lost_domains).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { PromptRegistry } from '../../agp/ports.js';
import { z } from 'zod';
import { ErrorResponseSchema, HealthResponseSchema, PUBLIC, ReadyResponseSchema } from '../schemas.js';

/** What readiness needs to know. */
export interface HealthOptions {
  /** `lostDomains`: active versions that vanished from storage (see src/store/prompt-loss-tracker.ts). */
  registry: PromptRegistry & { readonly lostDomains?: readonly string[] };
  llmConfigured: boolean;
  /** Undefined when no Redis is configured. */
  pingRedis?: (() => Promise<boolean>) | undefined;
}

/** Registers /healthz and /readyz (the API). */
export function registerHealthRoutes(app: FastifyInstance, opts: HealthOptions): void {
  registerLivenessRoute(app);
  registerReadinessRoute(app, opts);
}

/** GET /healthz: `{"status":"ok"}` while the event loop answers; it checks no dependency (API and worker). */
export function registerLivenessRoute(app: FastifyInstance): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/healthz',
    {
      schema: { summary: 'Liveness', tags: ['ops'], operationId: 'getLiveness', security: PUBLIC, response: { 200: HealthResponseSchema } },
      logLevel: 'warn',
      // Exempt from load shedding: a busy pod is alive, and failing liveness would make Kubernetes restart
      // it exactly when it is needed. Readiness does shed, which takes the pod out of rotation instead.
      config: { pressureHandler: () => undefined },
    },
    async () => ({ status: 'ok' as const }),
  );
}

function registerReadinessRoute(app: FastifyInstance, opts: HealthOptions): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness',
        tags: ['ops'],
        operationId: 'getReadiness',
        security: PUBLIC,
        // 503 is either this check (prompts not loaded) or the load-shedding error body.
        response: { 200: ReadyResponseSchema, 503: z.union([ReadyResponseSchema, ErrorResponseSchema]) },
      },
      logLevel: 'warn',
    },
    async (_req, reply) => {
      const redis = opts.pingRedis ? ((await opts.pingRedis()) ? 'ok' : 'down') : 'not_configured';
      const lost = (opts.registry.lostDomains?.length ?? 0) > 0;
      const prompts = !opts.registry.ready ? 'not_loaded' : lost ? 'lost' : 'loaded';
      const ready = prompts !== 'not_loaded';
      reply.code(ready ? 200 : 503);
      return {
        status: !ready ? ('not_ready' as const) : redis === 'down' || lost ? ('degraded' as const) : ('ready' as const),
        checks: { redis, prompts, llm: opts.llmConfigured ? 'configured' : 'unconfigured' } as const,
        // The effective version per domain, including the built-in prompt when nothing was activated.
        activePrompts: { default: opts.registry.resolve('default').version, ...opts.registry.activeVersions() },
      };
    },
  );
}
