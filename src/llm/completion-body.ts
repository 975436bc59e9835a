/**
 * Reading an untrusted completion body: the answer text, the model, and the token counts made safe to add up.
 *
 * The body is whatever the endpoint sent with a 200: `null`, an object without `choices`, anything.
 * `usage` is whatever the endpoint sent: it can be missing, `null`, a string, negative, fractional, or 1e308.
 * Unchecked, a negative value made prom-client's Counter.inc throw before the breaker permit was settled
 * (the breaker then stayed half-open forever), and 1e308 summed to Infinity, which the response serialiser
 * refused with a 500. Every value is therefore reduced to a finite non-negative integer no larger than
 * MAX_REPORTED_TOKENS; anything that needed fixing is reported as an anomaly so it can be counted.
 */

/**
 * Ceiling for one count. Far above any real context window (the largest are ~10^6 tokens), far below
 * Number.MAX_SAFE_INTEGER, so sums over many calls stay exact integers.
 */
export const MAX_REPORTED_TOKENS = 100_000_000;

/** Which count of a completion's usage. */
export type TokenKind = 'prompt' | 'completion';

/** Validated token counts of one completion, and the counts that had to be corrected. */
export interface ReportedUsage {
  promptTokens: number;
  completionTokens: number;
  anomalies: TokenKind[];
}

/** The count to use, and whether the reported value had to be corrected to get it. */
function count(value: unknown): [number, boolean] {
  if (value === undefined) return [0, false]; // an endpoint may omit usage: not an anomaly
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) return [0, true];
  if (value > MAX_REPORTED_TOKENS) return [MAX_REPORTED_TOKENS, true];
  return Number.isInteger(value) ? [value, false] : [Math.floor(value), true];
}

/**
 * Reads `usage.prompt_tokens` / `usage.completion_tokens` from an untrusted completion body
 * (which may itself be null or not an object).
 */
export function readReportedUsage(body: unknown): ReportedUsage {
  const usage = typeof body === 'object' && body !== null ? (body as { usage?: unknown }).usage : undefined;
  const anomalies: TokenKind[] = [];
  if (usage === undefined || usage === null) return { promptTokens: 0, completionTokens: 0, anomalies };
  if (typeof usage !== 'object') return { promptTokens: 0, completionTokens: 0, anomalies: ['prompt', 'completion'] };
  const u = usage as { prompt_tokens?: unknown; completion_tokens?: unknown };
  const [promptTokens, badPrompt] = count(u.prompt_tokens);
  const [completionTokens, badCompletion] = count(u.completion_tokens);
  if (badPrompt) anomalies.push('prompt');
  if (badCompletion) anomalies.push('completion');
  return { promptTokens, completionTokens, anomalies };
}

/** The first choice's message content, or undefined when the body has none (or is not an object). */
export function readCompletionText(body: unknown): string | undefined {
  const choices = typeof body === 'object' && body !== null ? (body as { choices?: unknown }).choices : undefined;
  if (!Array.isArray(choices)) return undefined;
  const first: unknown = choices[0];
  const message = typeof first === 'object' && first !== null ? (first as { message?: unknown }).message : undefined;
  const content = typeof message === 'object' && message !== null ? (message as { content?: unknown }).content : undefined;
  return typeof content === 'string' ? content : undefined;
}

/** The model the endpoint says answered, when it names one. */
export function readCompletionModel(body: unknown): string | undefined {
  const model = typeof body === 'object' && body !== null ? (body as { model?: unknown }).model : undefined;
  return typeof model === 'string' && model !== '' ? model : undefined;
}
