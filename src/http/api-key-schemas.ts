/**
 * Wire schemas of /admin/v1/api-keys. A key's material appears in exactly one place: the `key` field of
 * the create and rotate answers, shown once. Every other view carries its prefix and last 4 characters only.
 */
import { z } from 'zod';
import { API_KEY_NAME } from '../api-keys/api-keys.js';

const LIMIT = z.number().int().min(0).max(1_000_000_000);

export const ApiKeyNameParamsSchema = z.object({ name: z.string().regex(API_KEY_NAME).describe('The key name.') });

export const ApiKeyCreateSchema = z
  .object({
    name: z.string().regex(API_KEY_NAME).describe('1–63 characters of a-z, 0-9, `_` and `-`: the label of the key in limits, usage and metrics.'),
    rateLimit: LIMIT.optional().describe('Requests per RATE_LIMIT_WINDOW_MS for this key; absent: RATE_LIMIT_MAX (0 and absent: unlimited).'),
    dailyLlmCallQuota: LIMIT.optional().describe(
      'LLM calls per UTC day; past it /v1/rerank answers the baseline order with `fallback.reason: quota_exceeded`. Absent: unlimited.',
    ),
  })
  .meta({ id: 'ApiKeyCreate' });

export const ApiKeyRotateSchema = z
  .object({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(0)
      .describe('How long the previous key keeps working (0, the default: revoked at once).'),
  })
  .meta({ id: 'ApiKeyRotate' });

export const ApiKeyUsageSchema = z
  .object({
    reranks: z.number().int(),
    llmCalls: z.number().int(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    llmCallsToday: z.number().int().describe('LLM calls of the current UTC day (what the daily quota counts).'),
  })
  .meta({ id: 'ApiKeyUsage' });

export const ApiKeySchema = z
  .object({
    name: z.string(),
    prefix: z.string().describe('The first 8 characters of the key (empty for API_KEYS_FILE keys).'),
    last4: z.string().describe('The last 4 characters of the key (empty for API_KEYS_FILE keys).'),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
    rateLimit: z.number().int().nullable(),
    dailyLlmCallQuota: z.number().int().nullable(),
    previousKeyExpiresAt: z.string().nullable().describe('After a rotation with a grace period: when the previous key stops working.'),
    usage: ApiKeyUsageSchema,
  })
  .meta({ id: 'ApiKey' });

export const ApiKeyListSchema = z.object({ apiKeys: z.array(ApiKeySchema) }).meta({ id: 'ApiKeyList' });

export const ApiKeySecretSchema = z
  .object({
    key: z.string().describe('The key itself: shown in this answer only, never again (only its sha256 is stored).'),
    apiKey: ApiKeySchema,
  })
  .meta({ id: 'ApiKeySecret' });
