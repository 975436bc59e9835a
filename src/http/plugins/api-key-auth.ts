/**
 * API keys for /v1 (on when API_KEYS or API_KEYS_FILE is set): every /v1 request needs
 * `Authorization: Bearer <key>` and gets 401 otherwise; the verified key (its name and limits) rides on the
 * request for the rate limiter, the quota and usage accounting. /healthz, /readyz, /metrics, /docs and
 * /admin (ADMIN_TOKEN) are not /v1 and stay as they were. Runs as the first onRequest hook, before the
 * rate limiter, so an unauthenticated request never consumes a key's budget.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKeyService, VerifiedKey } from '../../api-keys/api-key-service.js';
import { UnauthorizedError } from '../../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified API key of a /v1 request when keys are on; null otherwise. */
    apiKey: VerifiedKey | null;
  }
}

const V1 = /^\/v1(?:[/?]|$)/;
const BEARER = /^Bearer +([^\s]+) *$/i;

/** The key a request presents (Authorization: Bearer), or undefined. */
export function presentedKey(req: Pick<FastifyRequest, 'headers'>): string | undefined {
  return BEARER.exec(req.headers.authorization ?? '')?.[1];
}

/** Registers the /v1 key check. Call before the rate limiter and the routes. */
export function registerApiKeyAuth(app: FastifyInstance, keys: ApiKeyService): void {
  app.decorateRequest('apiKey', null);
  app.addHook('onRequest', (req, reply, done) => {
    if (!V1.test(req.url)) return done();
    const presented = presentedKey(req);
    const key = presented === undefined ? undefined : keys.verify(presented);
    if (!key) {
      reply.header('www-authenticate', 'Bearer');
      return done(new UnauthorizedError('a valid API key is required: Authorization: Bearer <key>'));
    }
    req.apiKey = key;
    done();
  });
}

/** A route's @fastify/rate-limit settings. */
export interface RouteRateLimit {
  max: number | ((req: FastifyRequest, key: string) => number);
  timeWindow: number;
  allowList?: ((req: FastifyRequest, key: string) => boolean) | undefined;
}

/**
 * The /v1 routes' rate limit: RATE_LIMIT_MAX per caller; with keys on, each key's own `rateLimit` (falling
 * back to RATE_LIMIT_MAX, and unlimited when both are unset). Undefined when there is nothing to limit.
 */
export function routeRateLimit(rateLimitMax: number, timeWindow: number, keysOn: boolean): RouteRateLimit | undefined {
  if (!keysOn) return rateLimitMax > 0 ? { max: rateLimitMax, timeWindow } : undefined;
  const limitOf = (req: FastifyRequest): number => req.apiKey?.rateLimit ?? rateLimitMax;
  return { max: (req) => Math.max(1, limitOf(req)), timeWindow, allowList: (req) => limitOf(req) === 0 };
}

/** The rate limiter's bucket: the verified key's name with keys on (a header any caller can set is never trusted), else x-client-id or the address. */
export function rateLimitBucket(keysOn: boolean): (req: FastifyRequest) => string {
  if (keysOn) return (req) => (req.apiKey ? `key:${req.apiKey.name}` : `ip:${req.ip}`);
  return (req) => (req.headers['x-client-id'] as string | undefined) ?? req.ip;
}
