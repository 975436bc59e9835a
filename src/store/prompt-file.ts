/**
 * Prompt files: the JSON the CLI exports and PROMPT_FILE seeds the registry from.
 * Accepted shapes: one PromptVersion object, an array of them, or `{ "prompts": [...] }` (the export format).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DEFAULT_HISTORY_LENGTH } from '../agp/types.js';
import type { PromptVersion } from '../agp/ports.js';

const nonBlank = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .refine((s) => s.trim().length > 0, { message: `${what} must not be empty` });

const isoDate = z
  .string({ error: 'createdAt must be an ISO-8601 string' })
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'createdAt must be an ISO-8601 date' })
  .transform((s) => new Date(s).toISOString());

/** One PromptVersion as written in a file; optional fields get their defaults. Unknown fields are dropped. */
export const promptVersionSchema = z.object({
  domain: nonBlank('domain'),
  version: nonBlank('version'),
  text: nonBlank('text'),
  parentVersion: z.string().min(1, 'parentVersion must not be empty').nullable().default(null),
  createdAt: isoDate.optional(),
  historyLength: z
    .number({ error: 'historyLength must be a number' })
    .int('historyLength must be an integer')
    .min(1, 'historyLength must be at least 1')
    .max(200, 'historyLength must be at most 200')
    .default(DEFAULT_HISTORY_LENGTH),
  params: z.record(z.string(), z.unknown()).optional(),
  metrics: z
    .object({
      trainNdcgPerEpoch: z.array(z.number()).optional(),
      valNdcgPerEpoch: z.array(z.number()).optional(),
      baselineNdcg: z.number().optional(),
      bestValNdcg: z.number().optional(),
      testNdcg: z.number().optional(),
      llmCalls: z.number().optional(),
      tokens: z.number().optional(),
    })
    .catchall(z.unknown())
    .optional(),
});

/** Raised for an unreadable or invalid prompt file; the message names the file and the problem. */
export class PromptFileError extends Error {
  override readonly name = 'PromptFileError';
}

/** Validates already-parsed JSON (any accepted shape). `source` names it in error messages. */
export function parsePromptFile(json: unknown, source: string, now: () => Date = () => new Date()): PromptVersion[] {
  let items: unknown[];
  let label: (i: number) => string;
  if (Array.isArray(json)) {
    items = json;
    label = (i) => `[${i}]`;
  } else if (typeof json === 'object' && json !== null && 'prompts' in json) {
    const prompts: unknown = json.prompts;
    if (!Array.isArray(prompts)) throw new PromptFileError(`${source}: "prompts" must be an array`);
    items = prompts;
    label = (i) => `prompts[${i}]`;
  } else if (typeof json === 'object' && json !== null) {
    items = [json];
    label = () => '';
  } else {
    throw new PromptFileError(`${source}: expected a prompt version object, an array of them, or {"prompts": [...]}`);
  }

  const createdAt = now().toISOString();
  const out: PromptVersion[] = [];
  const seen = new Map<string, PromptVersion>();
  items.forEach((item, i) => {
    const r = promptVersionSchema.safeParse(item);
    if (!r.success) {
      const issue = r.error.issues[0];
      const at = [label(i), ...(issue?.path ?? []).map(String)].filter(Boolean).join('.');
      throw new PromptFileError(`${source}: ${at ? `${at}: ` : ''}${issue?.message ?? 'invalid prompt version'}`);
    }
    const { params, metrics, ...rest } = r.data;
    const v: PromptVersion = {
      ...rest,
      createdAt: rest.createdAt ?? createdAt,
      ...(params ? { params } : {}),
      ...(metrics ? { metrics } : {}),
    };
    const key = JSON.stringify([v.domain, v.version]);
    const dup = seen.get(key);
    if (dup && (dup.text !== v.text || dup.historyLength !== v.historyLength)) {
      throw new PromptFileError(`${source}: ${label(i) || 'prompt'}: ${v.domain}/${v.version} appears twice with different content`);
    }
    if (!dup) {
      seen.set(key, v);
      out.push(v);
    }
  });
  return out;
}

/**
 * Reads and validates a prompt file.
 * @throws PromptFileError naming the file and what is wrong with it.
 */
export async function loadPromptFile(path: string): Promise<PromptVersion[]> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw new PromptFileError(`${path}: cannot read prompt file: ${err instanceof Error ? err.message : String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new PromptFileError(`${path}: invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parsePromptFile(json, path);
}

/** The export format: `{ "prompts": [...] }`, pretty-printed, known fields only (no `active` flag). */
export function serializePrompts(versions: readonly PromptVersion[]): string {
  const prompts = versions.map((v) => ({
    domain: v.domain,
    version: v.version,
    text: v.text,
    parentVersion: v.parentVersion,
    createdAt: v.createdAt,
    historyLength: v.historyLength,
    ...(v.params ? { params: v.params } : {}),
    ...(v.metrics ? { metrics: v.metrics } : {}),
  }));
  return `${JSON.stringify({ prompts }, null, 2)}\n`;
}

/** The newest version of each domain (latest createdAt; on a tie, the later one in the list): what PROMPT_FILE activates. */
export function newestPerDomain(versions: readonly PromptVersion[]): PromptVersion[] {
  const best = new Map<string, PromptVersion>();
  for (const v of versions) {
    const cur = best.get(v.domain);
    if (!cur || Date.parse(v.createdAt) >= Date.parse(cur.createdAt)) best.set(v.domain, v);
  }
  return [...best.values()];
}
