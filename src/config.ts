/**
 * Environment → frozen Config, parsed once at start-up and passed down explicitly.
 * Every variable is documented in README.md; bad values exit with one line naming the variable.
 */
import { z } from 'zod';
import type { PipelineOptions } from './agp/pipeline.js';
import type { LlmRole } from './agp/types.js';
import { LONG_LIST_STRATEGIES } from './agp/long-list.js';
import { CANDIDATE_FORMATS } from './agp/candidate-format.js';
import { toTracingConfig, tracingEnv } from './observability/tracing-config.js';
import { checkScheduleParams, configScheduleSchema, draftOf, type ConfigSchedule } from './loop/schedule-draft-schema.js';
import { scheduleFromDraft } from './loop/schedule-spec.js';
import { isDomainError } from './errors.js';

export type { TracingConfig } from './observability/tracing-config.js';

/** Booleans are parsed explicitly: "false", "0", "no", "off" and "" are false. */
const bool = (def: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def;
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true/false, got "${v}"` });
      return z.NEVER;
    });

const int = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

const optionalUrl = optionalString.pipe(z.string().url().optional());

/** `domain=k,domain=k` (RERANK_SHUFFLES_DOMAINS): per-domain pass counts, each an integer 1–5. */
const shufflesByDomain = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const out: Record<string, number> = {};
    for (const part of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const m = /^([A-Za-z0-9._-]{1,64})=([1-5])$/.exec(part);
      if (!m?.[1] || !m[2]) {
        ctx.addIssue({ code: 'custom', message: `expected domain=k with k in 1..5, got "${part.slice(0, 80)}"` });
        return z.NEVER;
      }
      out[m[1]] = Number(m[2]);
    }
    return out;
  });

/**
 * LOOP_SCHEDULES: a JSON array of `{domain, …the body of PUT /admin/v1/schedules/{domain}}` (the chart renders
 * `loop.schedules` into it). Shapes are checked here; the rules between fields when the loop applies them.
 */
const loopSchedules = z
  .string()
  .optional()
  .transform((v, ctx): ConfigSchedule[] => {
    if (v === undefined || v.trim() === '') return [];
    let raw: unknown;
    try {
      raw = JSON.parse(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid JSON (expected an array of schedules)' });
      return z.NEVER;
    }
    if (!Array.isArray(raw)) {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON array of schedules' });
      return z.NEVER;
    }
    const out: ConfigSchedule[] = [];
    for (const [i, entry] of raw.entries()) {
      const r = configScheduleSchema.safeParse(entry);
      if (!r.success) {
        const issue = r.error.issues[0];
        ctx.addIssue({ code: 'custom', message: `[${i}]${issue?.path.length ? ` ${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}` });
        return z.NEVER;
      }
      if (out.some((s) => s.domain === r.data.domain)) {
        ctx.addIssue({ code: 'custom', message: `[${i}]: domain "${r.data.domain}" is scheduled twice` });
        return z.NEVER;
      }
      out.push(r.data);
    }
    return out;
  });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(8080, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Log prompt and profile text (off by default: it is user data). */
  LOG_USER_TEXT: bool(false),

  REDIS_URL: optionalUrl,
  QUEUE_REDIS_URL: optionalUrl,
  /** Comma-separated host:port list; when set, ioredis Cluster is used instead of REDIS_URL. */
  REDIS_CLUSTER_NODES: optionalString,
  REDIS_KEY_PREFIX: z.string().default('agp'),

  LLM_BASE_URL: optionalUrl,
  LLM_API_KEY: optionalString,
  LLM_MODEL: optionalString,
  LLM_PROFILE_MODEL: optionalString,
  LLM_RERANK_MODEL: optionalString,
  LLM_OPTIMIZER_MODEL: optionalString,
  /** Models a request may name in `model` (comma-separated); default: LLM_MODEL alone. */
  LLM_MODELS: optionalString,
  LLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0),
  LLM_MAX_CONCURRENCY: int(256, 1, 10_000),
  /** How long a call may wait for a concurrency slot before falling back with `overloaded`. */
  LLM_QUEUE_TIMEOUT_MS: int(50, 0, 60_000),
  LLM_MAX_RETRIES: int(2, 0, 10),
  LLM_STRUCTURED_OUTPUT: bool(false),
  LLM_PROFILE_MAX_TOKENS: int(300, 16, 8192),
  LLM_RERANK_MAX_TOKENS: int(400, 16, 8192),
  /** Most bytes read from one LLM response body; unset: derived from the completion caps (see llmResponseCap). */
  LLM_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).max(1024 * 1_048_576).optional(),
  BREAKER_FAILURE_THRESHOLD: int(5, 1, 1000),
  BREAKER_RESET_MS: int(10_000, 100, 600_000),

  DEFAULT_DEADLINE_MS: int(2_000, 50, 600_000),
  MAX_DEADLINE_MS: int(10_000, 50, 600_000),
  PROFILE_TTL_SECONDS: int(86_400, 1, 31_536_000),
  PROFILE_FRESHNESS: z.enum(['stale-while-revalidate', 'strict']).default('stale-while-revalidate'),
  PROFILE_CACHE_MAX_ENTRIES: int(100_000, 1, 100_000_000),
  /** Background profile refreshes get their own budget: they are not bound to a caller's deadline. */
  PROFILE_REFRESH_DEADLINE_MS: int(15_000, 100, 600_000),
  /** Longest profile kept (characters); an LLM that ignores max_tokens must not fill the cache. */
  PROFILE_MAX_CHARS: int(4_000, 100, 1_000_000),

  /** Lifetime of a recorded exposure and its events (default 7 days). */
  EXPOSURE_TTL_SECONDS: int(604_800, 60, 31_536_000),
  /** Fraction of reranks whose exposure is recorded (deterministic per requestId). */
  EXPOSURE_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(1),
  /**
   * How long the recorder gathers exposures before one batched write. Longer: fewer writes (each costs the
   * serving process a socket round, docs/experiments-storage.md), and events sent sooner than this after
   * their response wait for their exposure (EventIngestion's late look) before they count as unattributed.
   */
  EXPOSURE_GATHER_MS: int(100, 0, 5_000),
  /** Bound of the in-memory exposure store (used without Redis). */
  EXPOSURE_MEMORY_MAX: int(100_000, 1, 100_000_000),
  /** Byte bound of the in-memory exposure store (a count alone does not bound memory). */
  EXPOSURE_MEMORY_MAX_BYTES: int(64 * 1024 * 1024, 1024 * 1024, 64 * 1024 * 1024 * 1024),
  /** Lifetime of an item catalogue entry (id → latest title/text seen; training sets read it; default 30 days). */
  ITEM_CATALOGUE_TTL_SECONDS: int(2_592_000, 60, 31_536_000),
  /** Bound of the in-memory item catalogue (used without Redis). */
  ITEM_CATALOGUE_MEMORY_MAX: int(100_000, 1, 100_000_000),
  /** Most experiments running at once (also bounds the per-arm Prometheus series). */
  EXPERIMENTS_MAX_RUNNING: int(20, 1, 200),
  /** How often each API replica re-reads the running experiments (ms). */
  EXPERIMENT_POLL_MS: int(1_000, 100, 60_000),
  /** How often the running experiments' results are computed: p-values, guardrails, gauges (ms). */
  EXPERIMENT_LOOK_MS: int(15_000, 500, 3_600_000),
  /** Default guardrails of a new experiment (its body may set its own). */
  EXPERIMENT_MAX_FALLBACK_RATE: z.coerce.number().min(0).max(1).default(0.2),
  EXPERIMENT_MAX_P99_MS: int(5_000, 1, 600_000),
  EXPERIMENT_MAX_LLM_CALLS: z.coerce.number().min(0).max(1_000).default(20),
  /** Exposures an arm needs before a guardrail can stop it. */
  EXPERIMENT_GUARDRAIL_MIN_EXPOSURES: int(200, 1, 100_000_000),
  /** Smallest NDCG@10 lift worth detecting: the τ of the always-valid mixture (docs/experiments.md). */
  EXPERIMENT_MIN_EFFECT: z.coerce.number().gt(0).max(1).default(0.02),

  /** Result cache of ranked orders (seconds; 0 = off, the default). */
  RERANK_CACHE_TTL_SECONDS: int(0, 0, 31_536_000),
  /** Bound of the in-memory result cache (used without Redis). */
  RERANK_CACHE_MAX_ENTRIES: int(10_000, 1, 100_000_000),

  PROMPT_FILE: optionalString,
  PROMPT_REFRESH_MS: int(2_000, 100, 600_000),

  RERANK_WINDOW_SIZE: int(20, 2, 100),
  RERANK_WINDOW_STEP: int(10, 1, 100),
  /** How lists longer than one window are ranked: `topdown` (≤ 3 LLM rounds) or `sliding` (docs/quality.md). */
  RERANK_LONG_LIST: z.enum(LONG_LIST_STRATEGIES).default('topdown'),
  /** Listwise passes over shuffled candidates when a request names none (position-bias control). */
  RERANK_SHUFFLES_DEFAULT: int(1, 1, 5),
  /** Per-domain defaults, e.g. "movies=3,books=2" (override RERANK_SHUFFLES_DEFAULT). */
  RERANK_SHUFFLES_DOMAINS: shufflesByDomain,
  /** Most passes served; a request or default above it is clamped to it. */
  RERANK_SHUFFLES_MAX: int(3, 1, 5),
  MAX_TITLE_CHARS: int(200, 8, 10_000),
  MAX_TEXT_CHARS: int(500, 0, 20_000),
  /** How candidates are written into ranking prompts: full (title and text) or compact (title only, cut to 80 characters). */
  RERANK_CANDIDATE_FORMAT: z.enum(CANDIDATE_FORMATS).default('full'),
  BODY_LIMIT_BYTES: int(1_048_576, 1024, 50 * 1_048_576),
  /** Longest a request (headers and body) may take to arrive; slower clients get 408 and lose the socket. */
  HTTP_REQUEST_TIMEOUT_MS: int(5_000, 100, 600_000),
  /** Longest the request line and headers may take to arrive (at most HTTP_REQUEST_TIMEOUT_MS). */
  HTTP_HEADERS_TIMEOUT_MS: int(3_000, 100, 600_000),
  /** How long an idle kept-alive socket stays open between requests. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(72_000, 100, 600_000),

  ADMIN_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  TRAINING_DATA_DIR: z.string().default('./data'),
  /** Run the training worker inside the API process (set false when `agp worker` runs separately). */
  WORKER_ENABLED: bool(true),
  TRAINING_CONCURRENCY: int(20, 1, 256),
  /** BullMQ lock of a running training job: a crashed worker's job is handed over after about this long. */
  TRAINING_LOCK_DURATION_MS: int(30_000, 1_000, 3_600_000),
  /** How often training workers look for stalled jobs (jobs whose worker died). */
  TRAINING_STALLED_INTERVAL_MS: int(15_000, 100, 3_600_000),
  /** Training jobs queued or running, all domains together; a submit beyond it is refused with 503 + Retry-After. */
  TRAINING_MAX_QUEUED: int(20, 1, 10_000),

  SHUTDOWN_GRACE_MS: int(10_000, 0, 600_000),
  /** Event-loop lag above which requests are shed with 503 + Retry-After (0 disables). */
  MAX_EVENT_LOOP_DELAY_MS: int(1_000, 0, 60_000),
  RATE_LIMIT_MAX: int(0, 0, 1_000_000),
  RATE_LIMIT_WINDOW_MS: int(1_000, 100, 3_600_000),
  /** API keys for /v1 (docs/operate.md "API keys"): `redis` manages them through /admin/v1/api-keys. */
  API_KEYS: z.enum(['off', 'redis']).default('off'),
  /** A mounted JSON file of hashed keys (setups without Redis); turns keys on. */
  API_KEYS_FILE: optionalString,
  /** How often each replica reloads the keys (Redis hash or file): revocations apply within this. */
  API_KEYS_POLL_MS: int(1_000, 100, 60_000),
  /** Retraining schedules created (idempotently) at start: JSON, see loopSchedules. */
  LOOP_SCHEDULES: loopSchedules,
  /** Default interval between reads of a canary's results (a schedule's rollout.decisionInterval wins). */
  LOOP_DECISION_INTERVAL_MS: int(60_000, 100, 86_400_000),
  /** How often a run polls its training job. */
  LOOP_POLL_MS: int(10_000, 100, 3_600_000),
  /** The shortest `every` a schedule may have (a run costs thousands of LLM calls; a test world lowers it). */
  LOOP_MIN_EVERY_MS: int(60_000, 1_000, 86_400_000),
  /** Run the loop worker where the training worker runs (WORKER_ENABLED in the API, or `agp worker`). */
  LOOP_ENABLED: bool(true),
  /** OTEL_* (traces): src/observability/tracing-config.ts. */
  ...tracingEnv,
});

/** Parsed, validated service configuration. */
export type Config = Readonly<ReturnType<typeof toConfig>>;

function toConfig(e: z.output<typeof envSchema>) {
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    logUserText: e.LOG_USER_TEXT,
    redis: redisTargets(e.REDIS_URL, e.QUEUE_REDIS_URL, e.REDIS_CLUSTER_NODES, e.REDIS_KEY_PREFIX),
    llm: {
      baseUrl: e.LLM_BASE_URL,
      apiKey: e.LLM_API_KEY,
      model: e.LLM_MODEL,
      /** The request `model` allow-list (LLM_MODELS, default LLM_MODEL alone); see requestModels. */
      allowedModels: modelList(e.LLM_MODELS, e.LLM_MODEL),
      models: {
        profile: e.LLM_PROFILE_MODEL ?? e.LLM_MODEL,
        rerank: e.LLM_RERANK_MODEL ?? e.LLM_MODEL,
        summarise: e.LLM_OPTIMIZER_MODEL ?? e.LLM_MODEL,
        edit: e.LLM_OPTIMIZER_MODEL ?? e.LLM_MODEL,
        reason: e.LLM_OPTIMIZER_MODEL ?? e.LLM_MODEL,
      },
      temperature: e.LLM_TEMPERATURE,
      maxConcurrency: e.LLM_MAX_CONCURRENCY,
      queueTimeoutMs: e.LLM_QUEUE_TIMEOUT_MS,
      maxRetries: e.LLM_MAX_RETRIES,
      structuredOutput: e.LLM_STRUCTURED_OUTPUT,
      profileMaxTokens: e.LLM_PROFILE_MAX_TOKENS,
      rerankMaxTokens: e.LLM_RERANK_MAX_TOKENS,
      maxResponseBytes: e.LLM_MAX_RESPONSE_BYTES ?? llmResponseCap(e.LLM_PROFILE_MAX_TOKENS, e.LLM_RERANK_MAX_TOKENS),
      breaker: { failureThreshold: e.BREAKER_FAILURE_THRESHOLD, resetMs: e.BREAKER_RESET_MS },
    },
    rerank: {
      defaultDeadlineMs: e.DEFAULT_DEADLINE_MS,
      maxDeadlineMs: e.MAX_DEADLINE_MS,
      windowSize: e.RERANK_WINDOW_SIZE,
      windowStep: e.RERANK_WINDOW_STEP,
      longList: e.RERANK_LONG_LIST,
      shuffles: { default: e.RERANK_SHUFFLES_DEFAULT, domains: e.RERANK_SHUFFLES_DOMAINS, max: e.RERANK_SHUFFLES_MAX },
      maxTitleChars: e.MAX_TITLE_CHARS,
      maxTextChars: e.MAX_TEXT_CHARS,
      candidateFormat: e.RERANK_CANDIDATE_FORMAT,
    },
    resultCache: { ttlSeconds: e.RERANK_CACHE_TTL_SECONDS, maxEntries: e.RERANK_CACHE_MAX_ENTRIES },
    profiles: {
      ttlSeconds: e.PROFILE_TTL_SECONDS,
      freshness: e.PROFILE_FRESHNESS,
      maxEntries: e.PROFILE_CACHE_MAX_ENTRIES,
      refreshDeadlineMs: e.PROFILE_REFRESH_DEADLINE_MS,
      maxChars: e.PROFILE_MAX_CHARS,
    },
    prompts: { file: e.PROMPT_FILE, refreshMs: e.PROMPT_REFRESH_MS },
    exposures: { ttlSeconds: e.EXPOSURE_TTL_SECONDS, sampleRate: e.EXPOSURE_SAMPLE_RATE, gatherMs: e.EXPOSURE_GATHER_MS, memoryMax: e.EXPOSURE_MEMORY_MAX, memoryMaxBytes: e.EXPOSURE_MEMORY_MAX_BYTES },
    catalogue: { ttlSeconds: e.ITEM_CATALOGUE_TTL_SECONDS, memoryMax: e.ITEM_CATALOGUE_MEMORY_MAX },
    experiments: {
      maxRunning: e.EXPERIMENTS_MAX_RUNNING,
      pollMs: e.EXPERIMENT_POLL_MS,
      lookMs: e.EXPERIMENT_LOOK_MS,
      minEffect: e.EXPERIMENT_MIN_EFFECT,
      guardrails: {
        maxFallbackRate: e.EXPERIMENT_MAX_FALLBACK_RATE,
        maxLatencyP99Ms: e.EXPERIMENT_MAX_P99_MS,
        maxLlmCallsPerExposure: e.EXPERIMENT_MAX_LLM_CALLS,
        minExposures: e.EXPERIMENT_GUARDRAIL_MIN_EXPOSURES,
      },
    },
    http: {
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      timeouts: { requestMs: e.HTTP_REQUEST_TIMEOUT_MS, headersMs: e.HTTP_HEADERS_TIMEOUT_MS, keepAliveMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS },
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS,
      rateLimitMax: e.RATE_LIMIT_MAX,
      rateLimitWindowMs: e.RATE_LIMIT_WINDOW_MS,
    },
    admin: { token: e.ADMIN_TOKEN },
    apiKeys: { mode: apiKeysMode(e.API_KEYS, e.API_KEYS_FILE), file: e.API_KEYS_FILE, pollMs: e.API_KEYS_POLL_MS },
    tracing: toTracingConfig(e),
    training: {
      dataDir: e.TRAINING_DATA_DIR,
      workerEnabled: e.WORKER_ENABLED,
      concurrency: e.TRAINING_CONCURRENCY,
      lockDurationMs: e.TRAINING_LOCK_DURATION_MS,
      stalledIntervalMs: e.TRAINING_STALLED_INTERVAL_MS,
      maxQueued: e.TRAINING_MAX_QUEUED,
    },
    loop: {
      schedules: e.LOOP_SCHEDULES,
      decisionIntervalMs: e.LOOP_DECISION_INTERVAL_MS,
      pollMs: e.LOOP_POLL_MS,
      minEveryMs: e.LOOP_MIN_EVERY_MS,
      enabled: e.LOOP_ENABLED,
    },
  };
}

/** Where /v1 API keys come from: nowhere (open API), a mounted file, or Redis (managed by the admin API). */
export type ApiKeysMode = 'off' | 'file' | 'redis';

function apiKeysMode(mode: 'off' | 'redis', file: string | undefined): ApiKeysMode {
  if (mode === 'redis' && file !== undefined) throw new ConfigError('invalid configuration: API_KEYS_FILE: set either API_KEYS=redis or API_KEYS_FILE, not both');
  return file !== undefined ? 'file' : mode;
}

/** A model name as a request or LLM_MODELS may give it: no control characters, no commas, at most 200 chars. */
export const MODEL_NAME = /^[^\p{Cc},]{1,200}$/u;

/** LLM_MODELS as a list (trimmed, deduplicated), or LLM_MODEL alone, or none. */
function modelList(list: string | undefined, single: string | undefined): readonly string[] {
  const names = list === undefined ? (single ? [single] : []) : list.split(',').map((m) => m.trim()).filter(Boolean);
  return [...new Set(names)];
}

/**
 * The models a request may name: LLM_MODELS plus the configured rerank model (naming the default is always
 * allowed). Also the only values the `model` label of the LLM metrics can take, with the per-role models.
 */
export function requestModels(cfg: Config): ReadonlySet<string> {
  const rerank = cfg.llm.models.rerank;
  return new Set([...cfg.llm.allowedModels, ...(rerank ? [rerank] : [])]);
}

/** Every model the service may call: the request allow-list and the per-role models (the LLM metrics' label values). */
export function knownModels(cfg: Config): ReadonlySet<string> {
  const roles = Object.values(cfg.llm.models).filter((m): m is string => Boolean(m));
  return new Set([...requestModels(cfg), ...roles, ...(cfg.llm.model ? [cfg.llm.model] : [])]);
}

/** Slack over the completion cap: JSON framing, escapes, and tokens of more than 4 bytes. */
const RESPONSE_CAP_SLACK = 16;
const BYTES_PER_TOKEN = 4;
/** Chain-of-thought reranks ask for 3 × LLM_RERANK_MAX_TOKENS (src/agp/pipeline.ts). */
const COT_TOKEN_FACTOR = 3;
/** Training's default optimizer completion cap (src/agp/training-params.ts). */
const OPTIMIZER_DEFAULT_MAX_TOKENS = 1_024;

/**
 * Default LLM_MAX_RESPONSE_BYTES: 16 × 4 bytes × the largest completion the service asks for by default
 * (76,800 bytes with the default caps). An honest answer stays far below it; an endless one is cut there.
 */
export function llmResponseCap(profileMaxTokens: number, rerankMaxTokens: number): number {
  const tokens = Math.max(profileMaxTokens, COT_TOKEN_FACTOR * rerankMaxTokens, OPTIMIZER_DEFAULT_MAX_TOKENS);
  return RESPONSE_CAP_SLACK * BYTES_PER_TOKEN * tokens;
}

/** Where the cache/registry and the queue live: a URL, or a Cluster seed list. */
export type RedisTargetConfig = string | { clusterNodes: readonly string[] };

/**
 * Resolves the Redis targets once: the cache and registry use REDIS_CLUSTER_NODES when set, else REDIS_URL;
 * the queue uses QUEUE_REDIS_URL when set (BullMQ needs noeviction), else the cache target.
 */
function redisTargets(url: string | undefined, queueUrl: string | undefined, clusterNodes: string | undefined, keyPrefix: string) {
  const nodes = clusterNodes?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
  const cacheTarget: RedisTargetConfig | undefined = nodes.length > 0 ? { clusterNodes: nodes } : url;
  return {
    url,
    clusterNodes: nodes.length > 0 ? nodes : undefined,
    keyPrefix,
    cacheTarget,
    queueTarget: (queueUrl ?? cacheTarget) as RedisTargetConfig | undefined,
  };
}

/** Raised for invalid configuration; its message is one line naming the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment into a frozen Config.
 * @throws ConfigError naming the first offending variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`invalid configuration: ${name}: ${issue?.message ?? 'invalid value'}`);
  }
  const cfg = toConfig(parsed.data);
  if (cfg.rerank.windowStep >= cfg.rerank.windowSize) {
    throw new ConfigError('invalid configuration: RERANK_WINDOW_STEP: must be smaller than RERANK_WINDOW_SIZE');
  }
  if (cfg.http.timeouts.headersMs > cfg.http.timeouts.requestMs) {
    // Node refuses a headers timeout above the request timeout, which covers the headers too.
    throw new ConfigError('invalid configuration: HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  const badModel = cfg.llm.allowedModels.find((m) => !MODEL_NAME.test(m));
  if (badModel !== undefined) throw new ConfigError('invalid configuration: LLM_MODELS: a model name has a control character or is over 200 characters');
  if (cfg.rerank.defaultDeadlineMs > cfg.rerank.maxDeadlineMs) {
    throw new ConfigError('invalid configuration: DEFAULT_DEADLINE_MS: must not exceed MAX_DEADLINE_MS');
  }
  if (cfg.apiKeys.mode === 'redis' && !cfg.redis.cacheTarget) {
    throw new ConfigError('invalid configuration: API_KEYS: redis needs REDIS_URL or REDIS_CLUSTER_NODES');
  }
  checkLoopSchedules(cfg);
  return deepFreeze(cfg);
}

/**
 * Applies the schedule rules (src/loop/schedule-spec.ts) to every LOOP_SCHEDULES entry now, so a bad chart value
 * stops the start with the same message the admin API would answer, instead of surfacing at the first run.
 */
function checkLoopSchedules(cfg: ReturnType<typeof toConfig>): void {
  for (const [i, entry] of cfg.loop.schedules.entries()) {
    try {
      scheduleFromDraft(draftOf(entry), {
        domain: entry.domain,
        now: Date.now(),
        existing: null,
        source: 'config',
        exposureTtlMs: cfg.exposures.ttlSeconds * 1_000,
        minEveryMs: cfg.loop.minEveryMs,
        defaultDecisionIntervalMs: cfg.loop.decisionIntervalMs,
        checkParams: (params) => checkScheduleParams(entry.domain, params),
      });
    } catch (err) {
      if (!isDomainError(err)) throw err;
      throw new ConfigError(`invalid configuration: LOOP_SCHEDULES: [${i}] (${entry.domain}): ${err.message.replace(/\s+/g, ' ')}`);
    }
  }
}

/** What the LLM is used for: serving (and `agp eval`) calls profile and rerank; training calls every role. */
export type LlmUse = 'serving' | 'training';

/** The roles each use calls; LLM_OPTIMIZER_MODEL covers summarise, edit and reason together. */
const ROLES_BY_USE: Record<LlmUse, readonly LlmRole[]> = {
  serving: ['profile', 'rerank'],
  training: ['profile', 'rerank', 'summarise', 'edit', 'reason'],
};

const MODEL_VARIABLE: Record<LlmRole, string> = {
  profile: 'LLM_PROFILE_MODEL',
  rerank: 'LLM_RERANK_MODEL',
  summarise: 'LLM_OPTIMIZER_MODEL',
  edit: 'LLM_OPTIMIZER_MODEL',
  reason: 'LLM_OPTIMIZER_MODEL',
};

/**
 * Why the LLM is not configured for `use`, as one line naming the variables to set; undefined when it is.
 * This is THE definition of "configured" (the service, the worker and the CLI all ask it): an endpoint (a
 * base URL, or an API key for the OpenAI default) and a model for every role the use calls, from the
 * per-role variables or LLM_MODEL.
 */
export function llmUnconfiguredReason(cfg: Config, use: LlmUse = 'serving'): string | undefined {
  const missing: string[] = [];
  if (!(cfg.llm.baseUrl ?? cfg.llm.apiKey)) missing.push('LLM_BASE_URL (or LLM_API_KEY)');
  const vars = [...new Set(ROLES_BY_USE[use].filter((r) => !cfg.llm.models[r]).map((r) => MODEL_VARIABLE[r]))];
  if (vars.length > 0) missing.push(`LLM_MODEL (or ${vars.join(', ')})`);
  return missing.length === 0 ? undefined : `no LLM is configured for ${use}: set ${missing.join(' and ')}`;
}

/** True when the LLM is configured for `use` (see llmUnconfiguredReason). */
export function llmConfigured(cfg: Config, use: LlmUse = 'serving'): boolean {
  return llmUnconfiguredReason(cfg, use) === undefined;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Pipeline settings derived from config; shared by serving, training and offline evaluation. */
export function pipelineOptions(config: Config): PipelineOptions {
  return {
    limits: { maxTitleChars: config.rerank.maxTitleChars, maxTextChars: config.rerank.maxTextChars },
    windowSize: config.rerank.windowSize,
    windowStep: config.rerank.windowStep,
    longList: config.rerank.longList,
    structuredOutput: config.llm.structuredOutput,
    profileMaxTokens: config.llm.profileMaxTokens,
    profileMaxChars: config.profiles.maxChars,
    rerankMaxTokens: config.llm.rerankMaxTokens,
    temperature: config.llm.temperature,
  };
}
