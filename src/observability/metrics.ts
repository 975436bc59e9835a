/**
 * Every Prometheus metric the service exposes, defined once.
 * Labels are bounded enums (route templates, methods, reasons, roles, domains); never user ids.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LlmFailureReason, RankingCacheOutcome, RerankTelemetry } from '../agp/ports.js';
import { LABEL_ISSUE_KINDS } from '../agp/types.js';
import { INGEST_OUTCOMES } from '../experiments/event-ingestion.js';
import { RECORD_OUTCOMES } from '../experiments/exposure-recorder.js';
import { AUDIT_KINDS, RUN_OUTCOMES, type AuditRecord, type RunOutcome } from '../loop/ports.js';

/** Metric names, exported so alert rules, dashboards and tests refer to one spelling. */
export const METRIC = {
  httpDuration: 'agp_http_request_duration_seconds',
  reranks: 'agp_rerank_total',
  fallbacks: 'agp_rerank_fallbacks_total',
  llmCalls: 'agp_llm_calls_total',
  llmDuration: 'agp_llm_request_duration_seconds',
  llmTokens: 'agp_llm_tokens_total',
  breakerState: 'agp_llm_circuit_state',
  llmInflight: 'agp_llm_inflight',
  llmAnomalies: 'agp_llm_response_anomalies_total',
  profileCache: 'agp_profile_cache_total',
  rankingCache: 'agp_rerank_cache_total',
  profileRefresh: 'agp_profile_refresh_total',
  parse: 'agp_parse_total',
  parseLabelIssues: 'agp_parse_label_issues_total',
  promptInfo: 'agp_prompt_active_info',
  trainingJobs: 'agp_training_jobs_total',
  rateLimitErrors: 'agp_rate_limit_errors_total',
  promptRegistryLost: 'agp_prompt_registry_lost_domains',
  promptRegistryResets: 'agp_prompt_registry_resets_total',
  exposuresRecorded: 'agp_exposures_recorded_total',
  eventsIngested: 'agp_events_ingested_total',
  experimentRunning: 'agp_experiment_running',
  experimentExposures: 'agp_experiment_exposures_total',
  experimentEvents: 'agp_experiment_events_total',
  experimentEstimate: 'agp_experiment_arm_estimate',
  experimentDecision: 'agp_experiment_decision',
  experimentStops: 'agp_experiment_stops_total',
  experimentLoadErrors: 'agp_experiment_load_errors_total',
  loopAuditRecords: 'agp_loop_audit_records_total',
  loopRuns: 'agp_loop_runs_total',
  loopRunsActive: 'agp_loop_runs_active',
} as const;

/**
 * Outcomes of `agp_llm_calls_total`: success, each LLM failure reason, and `cancelled` (the caller gave up:
 * a cancelled training job, a client that went away, a shutdown). Cancelled is not `timeout`, which the
 * LLM timeout alert watches: a user cancelling a job says nothing about the endpoint.
 */
export type LlmCallOutcome = 'ok' | 'cancelled' | LlmFailureReason;

/** Every LlmCallOutcome (a Record, so the compiler catches a missing one); alert rules and dashboards are checked against it. */
const LLM_OUTCOME_SET: Readonly<Record<LlmCallOutcome, true>> = {
  ok: true,
  cancelled: true,
  timeout: true,
  llm_error: true,
  overloaded: true,
  circuit_open: true,
  llm_unconfigured: true,
};
export const LLM_CALL_OUTCOMES = Object.freeze(Object.keys(LLM_OUTCOME_SET) as LlmCallOutcome[]);

/** Every RankingCacheOutcome (a Record, so the compiler catches a missing one). */
const RANKING_CACHE_OUTCOME_SET: Readonly<Record<RankingCacheOutcome, true>> = { hit: true, miss: true, coalesced: true, error: true };
export const RANKING_CACHE_OUTCOMES = Object.freeze(Object.keys(RANKING_CACHE_OUTCOME_SET) as RankingCacheOutcome[]);

/** The metrics of one service instance (its own Registry, so tests can build many apps). */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'route' | 'method' | 'status_code'>;
  reranks: Counter<'method' | 'outcome'>;
  fallbacks: Counter<'reason'>;
  /**
   * Outcome label values: LlmCallOutcome. `model`: the model called, one of config.ts knownModels (LLM_MODELS
   * and the per-role models) or `other`, so its values are bounded by configuration.
   */
  llmCalls: Counter<'role' | 'outcome' | 'model'>;
  llmDuration: Histogram<'role' | 'outcome' | 'model'>;
  llmTokens: Counter<'role' | 'kind' | 'model'>;
  breakerState: Gauge;
  llmInflight: Gauge;
  llmAnomalies: Counter<'role' | 'kind'>;
  profileCache: Counter<'outcome'>;
  /** Result-cache lookups by outcome (RankingCacheOutcome: hit, miss, coalesced, error). */
  rankingCache: Counter<'outcome'>;
  profileRefresh: Counter<'outcome'>;
  parse: Counter<'outcome'>;
  /** Duplicate, unknown and missing labels in ranking answers, by the LLM role that wrote them. */
  parseLabelIssues: Counter<'role' | 'kind'>;
  promptInfo: Gauge<'domain' | 'version'>;
  trainingJobs: Counter<'state'>;
  /** Rate-limit store failures the limiter let through (fail open), by reason (timeout, error). */
  rateLimitErrors: Counter<'reason'>;
  /** Domains whose active prompt version vanished from the registry's storage (e.g. an emptied Redis). */
  promptRegistryLost: Gauge;
  /** Times the registry found active versions gone from its storage. */
  promptRegistryResets: Counter;
  /** Outcome label values: RecordOutcome (src/experiments/exposure-recorder.ts). */
  exposuresRecorded: Counter<'outcome'>;
  /** Outcome label values: IngestOutcome (src/experiments/event-ingestion.ts). */
  eventsIngested: Counter<'outcome'>;
  /**
   * Per running experiment (at most EXPERIMENTS_MAX_RUNNING, and removed when it stops, so the label values
   * stay bounded; domain here is only ever a running experiment's domain, never a request's).
   */
  experiments: {
    running: Gauge<'domain' | 'experiment' | 'mode'>;
    exposures: Counter<'domain' | 'experiment' | 'arm'>;
    events: Counter<'domain' | 'experiment' | 'arm' | 'type'>;
    /** stat: value | ci95_low | ci95_high; metric: ctr | mrr | ndcg@10; order: served | baseline. */
    estimate: Gauge<'domain' | 'experiment' | 'arm' | 'metric' | 'order' | 'stat'>;
    /** 1 treatment, -1 control, 0 inconclusive; per treatment arm. */
    decision: Gauge<'domain' | 'experiment' | 'arm'>;
    /** reason: manual | promoted | guardrail. */
    stops: Counter<'reason'>;
    loadErrors: Counter;
  };
  /** The loop (issue 11): its audit trail, finished runs and runs in progress. */
  loop: {
    /** Audit records written by this process, by kind (AuditKind). */
    auditRecords: Counter<'kind'>;
    /** Runs ended by this process, by outcome (RunOutcome). */
    runs: Counter<'outcome'>;
    /** Runs not done, all domains (read from the loop store at scrape time; 0 without a source). */
    runsActive: Gauge;
    /** Counts one audit record (and, for `run_ended`, the run's `data.outcome`); the loop's onAudit hook. */
    audit(record: AuditRecord): void;
    /** Where runsActive is read from at each scrape; a failed read keeps the last value. */
    setActiveRunsSource(source: (() => Promise<number>) | undefined): void;
  };
  /** Adapter that lets src/agp report without importing prom-client. */
  telemetry: RerankTelemetry;
  /** Replaces the active-prompt info series with the given domain → version map. */
  setActivePrompts(active: Record<string, string>): void;
}

/** Creates a registry with every metric, plus Node's default process metrics. */
export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool rejects it);
    // the same values remain as nodejs_active_{handles,requests,resources}.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }
  const registers = [registry];

  const httpDuration = new Histogram({
    name: METRIC.httpDuration,
    help: 'HTTP request duration by route template, method and status code.',
    labelNames: ['route', 'method', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const reranks = new Counter({
    name: METRIC.reranks,
    help: 'Rerank requests by method and outcome (ok, repaired, fallback).',
    labelNames: ['method', 'outcome'] as const,
    registers,
  });
  const fallbacks = new Counter({
    name: METRIC.fallbacks,
    help: 'Reranks that fell back to the baseline order, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const llmCalls = new Counter({
    name: METRIC.llmCalls,
    help: 'LLM calls by role, outcome (ok, timeout, cancelled, llm_error, overloaded, circuit_open) and model (the configured models, else other).',
    labelNames: ['role', 'outcome', 'model'] as const,
    registers,
  });
  const llmDuration = new Histogram({
    name: METRIC.llmDuration,
    help: 'LLM call latency (including retries) by role, outcome and model.',
    labelNames: ['role', 'outcome', 'model'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
    registers,
  });
  const llmTokens = new Counter({
    name: METRIC.llmTokens,
    help: 'LLM tokens by role, kind (prompt, completion) and model.',
    labelNames: ['role', 'kind', 'model'] as const,
    registers,
  });
  const breakerState = new Gauge({
    name: METRIC.breakerState,
    help: 'LLM circuit breaker state: 0 closed, 1 open, 2 half-open.',
    registers,
  });
  const llmInflight = new Gauge({ name: METRIC.llmInflight, help: 'LLM calls in flight.', registers });
  const llmAnomalies = new Counter({
    name: METRIC.llmAnomalies,
    help: 'LLM answers that broke the protocol, by role and kind (prompt_tokens, completion_tokens: invalid usage, counted as 0 or clamped; malformed_body; too_large: body over LLM_MAX_RESPONSE_BYTES).',
    labelNames: ['role', 'kind'] as const,
    registers,
  });
  const profileCache = new Counter({
    name: METRIC.profileCache,
    help: 'Profile cache lookups by outcome (hit, miss, coalesced, stale).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const rankingCache = new Counter({
    name: METRIC.rankingCache,
    help: 'Result-cache lookups of ranked orders by outcome (hit, miss, coalesced: joined an identical ranking in flight, error: cache failed, ranked as a miss). Absent traffic when RERANK_CACHE_TTL_SECONDS is 0.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const profileRefresh = new Counter({
    name: METRIC.profileRefresh,
    help: 'Background (stale-while-revalidate) profile regenerations by outcome.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const parse = new Counter({
    name: METRIC.parse,
    help: 'Ranking answer parse outcomes (ok, repaired, unparseable).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const parseLabelIssues = new Counter({
    name: METRIC.parseLabelIssues,
    help: 'Labels in ranking answers that were duplicated, unknown (no such candidate) or missing (candidate never ranked), by role.',
    labelNames: ['role', 'kind'] as const,
    registers,
  });
  const promptInfo = new Gauge({
    name: METRIC.promptInfo,
    help: 'Active prompt version per domain (value is always 1).',
    labelNames: ['domain', 'version'] as const,
    registers,
  });
  const trainingJobs = new Counter({
    name: METRIC.trainingJobs,
    help: 'Training jobs that reached a final state (completed, failed, cancelled).',
    labelNames: ['state'] as const,
    registers,
  });

  const rateLimitErrors = new Counter({
    name: METRIC.rateLimitErrors,
    help: 'Rate-limit store (Redis) calls that failed or timed out, by reason (timeout, error); the request was let through.',
    labelNames: ['reason'] as const,
    registers,
  });
  const promptRegistryLost = new Gauge({
    name: METRIC.promptRegistryLost,
    help: 'Domains whose active prompt version vanished from the registry storage (e.g. Redis restarted empty); they serve the built-in prompt.',
    registers,
  });
  const promptRegistryResets = new Counter({
    name: METRIC.promptRegistryResets,
    help: 'Times the prompt registry found previously active versions gone from its storage.',
    registers,
  });
  const exposuresRecorded = new Counter({
    name: METRIC.exposuresRecorded,
    help: 'Exposures handed to the recorder, by outcome (recorded; sampled_out; dropped: queue full; failed: store error).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const eventsIngested = new Counter({
    name: METRIC.eventsIngested,
    help: 'Outcome events received, by outcome (accepted, duplicate, unattributed, rejected).',
    labelNames: ['outcome'] as const,
    registers,
  });

  const experiments: Metrics['experiments'] = {
    running: new Gauge({ name: METRIC.experimentRunning, help: 'Running experiments (1 per running experiment).', labelNames: ['domain', 'experiment', 'mode'] as const, registers }),
    exposures: new Counter({ name: METRIC.experimentExposures, help: 'Exposures served under a running experiment, per arm (an interleaved list counts for both arms).', labelNames: ['domain', 'experiment', 'arm'] as const, registers }),
    events: new Counter({ name: METRIC.experimentEvents, help: 'Accepted events on exposures of a running experiment, per arm credited and type.', labelNames: ['domain', 'experiment', 'arm', 'type'] as const, registers }),
    estimate: new Gauge({ name: METRIC.experimentEstimate, help: 'Current per-arm outcome estimates with their always-valid 95% confidence sequence, at the last look.', labelNames: ['domain', 'experiment', 'arm', 'metric', 'order', 'stat'] as const, registers }),
    decision: new Gauge({ name: METRIC.experimentDecision, help: 'Always-valid decision per treatment arm at the last look: 1 treatment better, -1 control better, 0 inconclusive.', labelNames: ['domain', 'experiment', 'arm'] as const, registers }),
    stops: new Counter({ name: METRIC.experimentStops, help: 'Experiments stopped, by reason (manual, promoted, guardrail).', labelNames: ['reason'] as const, registers }),
    loadErrors: new Counter({ name: METRIC.experimentLoadErrors, help: 'Failed reads of the running experiments (the last snapshot stays in force).', registers }),
  };
  for (const r of ['manual', 'promoted', 'guardrail']) experiments.stops.inc({ reason: r }, 0);

  const loop = createLoopMetrics(registers);

  // Pre-create zero series so rate() and ratio alerts work before the first event.
  for (const r of ['timeout', 'error']) rateLimitErrors.inc({ reason: r }, 0);
  for (const o of ['hit', 'miss', 'coalesced', 'stale']) profileCache.inc({ outcome: o }, 0);
  for (const o of RANKING_CACHE_OUTCOMES) rankingCache.inc({ outcome: o }, 0);
  for (const o of ['ok', 'repaired', 'unparseable']) parse.inc({ outcome: o }, 0);
  for (const kind of LABEL_ISSUE_KINDS) parseLabelIssues.inc({ role: 'rerank', kind }, 0);
  for (const s of ['completed', 'failed', 'cancelled']) trainingJobs.inc({ state: s }, 0);
  for (const o of RECORD_OUTCOMES) exposuresRecorded.inc({ outcome: o }, 0);
  for (const o of INGEST_OUTCOMES) eventsIngested.inc({ outcome: o }, 0);

  return {
    registry,
    httpDuration,
    reranks,
    fallbacks,
    llmCalls,
    llmDuration,
    llmTokens,
    breakerState,
    llmInflight,
    llmAnomalies,
    profileCache,
    rankingCache,
    profileRefresh,
    parse,
    parseLabelIssues,
    promptInfo,
    trainingJobs,
    rateLimitErrors,
    promptRegistryLost,
    promptRegistryResets,
    exposuresRecorded,
    eventsIngested,
    experiments,
    loop,
    telemetry: {
      profileCache: (outcome) => profileCache.inc({ outcome }),
      parse: (outcome) => parse.inc({ outcome }),
      parseIssues: (role, issues) => {
        // Only non-zero kinds: a clean answer (the common case) touches no series.
        for (const kind of LABEL_ISSUE_KINDS) if (issues[kind] > 0) parseLabelIssues.inc({ role, kind }, issues[kind]);
      },
      backgroundRefresh: (outcome) => profileRefresh.inc({ outcome }),
      rankingCache: (outcome) => rankingCache.inc({ outcome }),
    },
    setActivePrompts(active) {
      promptInfo.reset();
      for (const [domain, version] of Object.entries(active)) promptInfo.set({ domain, version }, 1);
    },
  };
}

/** Longest a scrape waits for the loop store's count of runs in progress. */
const ACTIVE_RUNS_READ_MS = 500;

function createLoopMetrics(registers: Registry[]): Metrics['loop'] {
  let source: (() => Promise<number>) | undefined;
  const auditRecords = new Counter({
    name: METRIC.loopAuditRecords,
    help: 'Loop audit records written by this process, by kind (run_started, gated, promoted, rolled_back, pinned, …).',
    labelNames: ['kind'] as const,
    registers,
  });
  const runs = new Counter({
    name: METRIC.loopRuns,
    help: 'Loop runs ended by this process, by outcome (promoted, rolled_back, not_better, no_data, pinned, cancelled, failed).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const runsActive = new Gauge({
    name: METRIC.loopRunsActive,
    help: 'Loop runs in progress, all domains (read from the loop store at scrape time: every pod reports the same value, aggregate with max).',
    registers,
    async collect() {
      if (!source) return;
      // The last value stays when the store fails or is slow: a scrape never fails or waits because of the loop.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(resolve, ACTIVE_RUNS_READ_MS, undefined);
      });
      const n = await Promise.race([source().catch(() => undefined), late]);
      clearTimeout(timer);
      if (n !== undefined) this.set(n);
    },
  });
  for (const kind of AUDIT_KINDS) auditRecords.inc({ kind }, 0);
  for (const outcome of RUN_OUTCOMES) runs.inc({ outcome }, 0);
  const outcomes: ReadonlySet<string> = new Set(RUN_OUTCOMES);
  return {
    auditRecords,
    runs,
    runsActive,
    audit(record) {
      auditRecords.inc({ kind: record.kind });
      const outcome = record.data.outcome;
      // Bounded labels: only the known outcomes are counted, whatever a record carries.
      if (record.kind === 'run_ended' && typeof outcome === 'string' && outcomes.has(outcome)) runs.inc({ outcome: outcome as RunOutcome });
    },
    setActiveRunsSource(fn) {
      source = fn;
    },
  };
}
