/**
 * Bearer-token auth for /admin routes, compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { unauthorized } from '../../errors.js';

/** Returns a preHandler that accepts only `Authorization: Bearer <token>`. */
export function adminAuth(token: string): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  // Comparing fixed-length digests keeps timingSafeEqual's equal-length requirement from leaking the length.
  const expected = createHash('sha256').update(token).digest();
  return async (req) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = createHash('sha256').update(match?.[1] ?? '').digest();
    if (!match || !timingSafeEqual(given, expected)) throw unauthorized();
  };
}
