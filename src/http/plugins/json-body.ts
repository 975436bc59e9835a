/**
 * The JSON body parser: Fastify's own (same prototype-poisoning protection, same error codes) plus a cap on
 * nesting depth. JSON.parse copes with 100,000 levels, but the code behind routes that accept free-form
 * values (prompt `params`/`metrics`, training `users`) clones and stringifies them recursively, and a few
 * thousand levels overflow the stack there: a 500 from one small request. Deeper bodies are a 400.
 *
 * An empty body is accepted on routes that declare no body schema (DELETE /v1/profiles/{id}, activate,
 * cancel): many client wrappers send `content-type: application/json` on every call, body or not. Routes
 * that take a body still answer an empty one with Fastify's 400 INVALID_JSON.
 */
import type { FastifyInstance } from 'fastify';
import { validationError } from '../../errors.js';

/** Deepest accepted nesting of objects and arrays in a JSON body (real bodies use fewer than 10). */
export const MAX_JSON_DEPTH = 64;

/** True when `root` nests objects/arrays deeper than `max` levels. Iterative, so it cannot overflow. */
export function nestingExceeds(root: unknown, max: number): boolean {
  const stack: unknown[] = [root];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const value = stack.pop();
    const depth = depths.pop() as number;
    if (value === null || typeof value !== 'object') continue;
    if (depth > max) return true;
    const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) {
      if (child !== null && typeof child === 'object') {
        stack.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** Replaces the application/json parser with Fastify's default plus the depth cap. */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' && req.routeOptions.schema?.body === undefined) return done(null, undefined);
    parse(req, body as string, (err: Error | null, value?: unknown) => {
      if (err) return done(err, undefined);
      if (nestingExceeds(value, MAX_JSON_DEPTH)) {
        return done(validationError(`body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      }
      done(null, value);
    });
  });
}
