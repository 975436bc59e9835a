/**
 * The two LLM steps of AGP (profile, then rerank) plus the LLM-Dir and LLM-CoT baselines, as plain
 * functions. Serving (reranker.ts), training (trainer.ts) and offline evaluation all call these, so the
 * prompt builders, the parser and the sliding window exist once.
 */
import type { ChatMessage, LlmClient, LlmResponse, RerankTelemetry } from './ports.js';
import { LlmCallError } from './ports.js';
import type { Item, LlmRole, ParseOutcome, Usage } from './types.js';
import { emptyUsage } from './types.js';
import type { TextLimits } from './prompts.js';
import { RANKING_JSON_SCHEMA, buildCotMessages, buildDirectMessages, buildProfileMessages, buildRerankMessages, stripPromptEcho } from './prompts.js';
import { parseRanking } from './permutation.js';
import { THINK_TAGS, answerTail, removeBlocks } from './answer-tags.js';
import { slideWindows } from './sliding-window.js';
import { topDownPartition } from './top-down-partition.js';
import type { LongListResult, LongListStrategy, RankWindow, WindowOutcome } from './long-list.js';
import { combineOutcomes } from './long-list.js';
import { abortChildren } from './abort-children.js';
import { createTextSanitiser, type TextSanitiser } from './untrusted-text.js';

/** Settings shared by every LLM step. */
export interface PipelineOptions {
  limits: TextLimits;
  windowSize: number;
  windowStep: number;
  structuredOutput: boolean;
  profileMaxTokens: number;
  /** Longest profile kept, in characters (PROFILE_MAX_CHARS; default DEFAULT_PROFILE_MAX_CHARS). */
  profileMaxChars?: number | undefined;
  rerankMaxTokens: number;
  temperature?: number | undefined;
  /** Per-role model overrides (training may use different models than serving). */
  models?: Partial<Record<LlmRole, string>> | undefined;
  /**
   * How lists longer than `windowSize` are ranked (RERANK_LONG_LIST). Absent means `sliding`, the behaviour
   * library callers had before the option existed; the service's config default is `topdown`.
   */
  longList?: LongListStrategy | undefined;
  /** The memoised sanitiser of whoever owns this pipeline (see withTextSanitiser). */
  sanitiser?: TextSanitiser | undefined;
}

/**
 * The options with a sanitiser: the given one, or a new one owned by the caller (a reranker, a training or
 * evaluation run), so no memo is shared between owners that did not choose to share it.
 */
export function withTextSanitiser(opts: PipelineOptions): PipelineOptions {
  return opts.sanitiser ? opts : { ...opts, sanitiser: createTextSanitiser() };
}

/** Deadline, cancellation and accounting for one unit of work (a request, a training user). */
export interface CallContext {
  llm: LlmClient;
  opts: PipelineOptions;
  deadline: number;
  signal?: AbortSignal | undefined;
  usage: Usage;
  telemetry?: RerankTelemetry | undefined;
  /** Called after every successful LLM call (training uses it to write its trace). */
  onCall?: ((role: LlmRole, messages: ChatMessage[], res: LlmResponse) => void) | undefined;
}

/** Ranking methods that call the LLM. */
export type LlmMethod = 'agp' | 'direct' | 'cot';

/** Result of ranking one candidate list. */
export interface RankResult {
  /** Full 0-based permutation of the candidates. Identity when unparseable. */
  order: number[];
  outcome: ParseOutcome;
  /** Each window's outcome, in the order asked (absent for lists of 0 or 1). */
  windows?: WindowOutcome[] | undefined;
  /** Sequential LLM rounds the ranking took. */
  rounds?: number | undefined;
}

/** Makes one LLM call and adds its accounting to the context. Failures carry their partial usage. */
export async function callLlm(
  ctx: CallContext,
  role: LlmRole,
  messages: ChatMessage[],
  extra: { maxTokens?: number; structured?: boolean } = {},
): Promise<string> {
  try {
    const res = await ctx.llm.complete({
      role,
      messages,
      deadline: ctx.deadline,
      signal: ctx.signal,
      model: ctx.opts.models?.[role],
      maxTokens: extra.maxTokens,
      temperature: ctx.opts.temperature,
      responseFormat: extra.structured ? RANKING_JSON_SCHEMA : undefined,
    });
    ctx.usage.llmCalls += 1;
    ctx.usage.promptTokens += res.promptTokens;
    ctx.usage.completionTokens += res.completionTokens;
    ctx.onCall?.(role, messages, res);
    return res.text;
  } catch (err) {
    if (err instanceof LlmCallError && err.usage) {
      ctx.usage.llmCalls += err.usage.llmCalls;
      ctx.usage.promptTokens += err.usage.promptTokens;
      ctx.usage.completionTokens += err.usage.completionTokens;
    }
    throw err;
  }
}

/** Profile length cap when PipelineOptions.profileMaxChars is not set (≈ 1,000 tokens, 3 × the token cap). */
export const DEFAULT_PROFILE_MAX_CHARS = 4_000;
/** A cut looks this far back for a word boundary before it cuts inside a (hostile) giant word. */
const WORD_BOUNDARY_LOOKBACK = 64;

/**
 * `text` cut to at most `maxChars` UTF-16 units at a word boundary, ending in "…" when cut. Never splits a
 * surrogate pair. O(1) when `text` already fits, so it is cheap on every cache hit.
 */
export function capProfileText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = maxChars - 1; // room for the ellipsis
  const floor = Math.max(1, end - WORD_BOUNDARY_LOOKBACK);
  let cut = end;
  while (cut > floor && !/\s/.test(text.charAt(cut))) cut--;
  if (cut > floor) end = cut;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--; // a high surrogate whose pair would be cut off
  return `${text.slice(0, end).trimEnd()}…`;
}

/**
 * AGP step 1: LLM(history, profile-generation prompt) → profile text. Sentences that echo our system
 * messages or the profile prompt are removed (a crafted history must not exfiltrate them), and the profile
 * is capped (an LLM that ignores max_tokens once had a 2 MB profile cached and returned on every hit).
 */
export async function generateProfile(ctx: CallContext, promptText: string, history: Item[]): Promise<string> {
  const messages = buildProfileMessages(promptText, history, ctx.opts.limits, { sanitiser: ctx.opts.sanitiser });
  const text = await callLlm(ctx, 'profile', messages, { maxTokens: ctx.opts.profileMaxTokens });
  const maxChars = ctx.opts.profileMaxChars ?? DEFAULT_PROFILE_MAX_CHARS;
  return capProfileText(cleanProfileAnswer(text, promptText), maxChars);
}

/**
 * A profile answer as it is kept: its last MAX_ANSWER_CHARS, without closed reasoning sections, and without
 * sentences that echo our instructions. Linear in the (bounded) answer, whatever the model sends.
 */
export function cleanProfileAnswer(answer: string, promptText: string): string {
  return stripPromptEcho(removeBlocks(answerTail(answer), THINK_TAGS).trim(), [promptText]);
}

/** Input to a ranking step: AGP needs a profile, the baselines need the history. */
export interface RankInput {
  method: LlmMethod;
  candidates: Item[];
  history: Item[];
  profile?: string | undefined;
}

/**
 * Ranks the candidates with one LLM call per window. Lists longer than the window size are ranked by the
 * `longList` strategy: a back-to-front sliding window (RankGPT style; sequential windows), or top-down
 * partitioning around a pivot (at most 3 rounds of concurrent windows; top-down-partition.ts).
 * Windows fail independently: an unparseable window, or one whose LLM call failed with anything but a
 * timeout, keeps its input order while the other windows' work stands. The outcome is `unparseable` (identity
 * order) only when no window parsed. Throws LlmCallError when the deadline is gone (`timeout`, which ends
 * every window) or when no window parsed and at least one call failed (the first failure, so the caller's
 * fallback reason says why).
 */
export async function rankCandidates(ctx: CallContext, input: RankInput): Promise<RankResult> {
  const n = input.candidates.length;
  if (n <= 1) return { order: n === 1 ? [0] : [], outcome: 'ok' };
  const failures: LlmCallError[] = [];
  // Concurrent windows each get a child signal: N calls on the one request signal would add N listeners.
  const children = abortChildren(ctx.signal);
  const rankWindow: RankWindow = async (members) => {
    const items = members.map((i) => input.candidates[i] as Item);
    const child = children.child();
    let text: string;
    try {
      text = await askRanking({ ...ctx, signal: child.signal }, input, items);
    } catch (err) {
      if (!(err instanceof LlmCallError) || err.reason === 'timeout' || ctx.signal?.aborted) throw err;
      failures.push(err);
      return { order: identity(items.length), outcome: 'failed' };
    } finally {
      child.release();
    }
    const parsed = parseRanking(text, items.length);
    ctx.telemetry?.parse(parsed.outcome);
    ctx.telemetry?.parseIssues?.('rerank', parsed.issues);
    if (parsed.outcome === 'unparseable') return { order: identity(items.length), outcome: 'unparseable' };
    return { order: parsed.order, outcome: parsed.outcome };
  };
  let ranked: LongListResult;
  try {
    const { windowSize, windowStep } = ctx.opts;
    ranked =
      (ctx.opts.longList ?? 'sliding') === 'topdown'
        ? await topDownPartition(n, windowSize, rankWindow)
        : await slideWindows(n, windowSize, windowStep, rankWindow);
  } finally {
    children.dispose();
  }
  const outcome = combineOutcomes(ranked.windows);
  if (outcome === 'unparseable') {
    if (failures[0]) throw failures[0];
    return { order: identity(n), outcome, windows: ranked.windows, rounds: ranked.rounds };
  }
  return { order: ranked.order, outcome, windows: ranked.windows, rounds: ranked.rounds };
}

async function askRanking(ctx: CallContext, input: RankInput, items: Item[]): Promise<string> {
  const structured = ctx.opts.structuredOutput;
  const { limits, sanitiser } = ctx.opts;
  let messages: ChatMessage[];
  if (input.method === 'agp') {
    messages = buildRerankMessages(input.profile ?? '', items, limits, { structured, sanitiser });
  } else if (input.method === 'direct') {
    messages = buildDirectMessages(input.history, items, limits, { structured, sanitiser });
  } else {
    messages = buildCotMessages(input.history, items, limits, { structured, sanitiser });
  }
  // CoT reasons before answering, so it needs room beyond the ranking itself.
  const maxTokens = input.method === 'cot' ? ctx.opts.rerankMaxTokens * 3 : ctx.opts.rerankMaxTokens;
  return callLlm(ctx, 'rerank', messages, { maxTokens, structured });
}

/** The identity permutation (baseline order). */
export function identity(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** A fresh context with zeroed usage. */
export function newContext(
  llm: LlmClient,
  opts: PipelineOptions,
  deadline: number,
  extra: Partial<Pick<CallContext, 'signal' | 'telemetry' | 'onCall'>> = {},
): CallContext {
  return { llm, opts, deadline, usage: emptyUsage(), ...extra };
}
