/**
 * The closed loop (issue 11): live outcomes → a fresh training set → a retrained prompt → an offline gate →
 * a canary on real traffic → promoted or rolled back. This file holds the loop's types and the ports its
 * pure logic (src/loop/) is written against; the adapters are src/store/*-loop-store.ts (schedules, runs,
 * pins, audit) and src/jobs/bullmq-loop-queue.ts (BullMQ job schedulers and the run worker).
 *
 * Everything a run does is keyed by its runId, and every external side effect is idempotent by a name
 * derived from it (the dataset file, the training job id, the canary experiment id), so a run whose worker
 * crashed resumes where its record says it was and never creates a second version or a second canary.
 */

/** Durations are stored in milliseconds; the API also takes "90s", "30m", "6h", "7d". */
export type Millis = number;

/** The offline gate of a schedule. */
export interface GateSpec {
  /**
   * The candidate passes when the lower bound of the paired-bootstrap 95% CI of (candidate − active)
   * per-user NDCG@10 on the held-out users is above this (0: significantly better; negative: a looser gate).
   */
  minDelta: number;
  /** Share of the dataset's users held out for the gate, never trained on (default 0.2). */
  holdoutShare: number;
  /** Fewer held-out users than this ends the run "no data" (default 20). */
  minHoldoutUsers: number;
  /** Bootstrap resamples (default 2000). */
  bootstrapIterations: number;
}

/** The canary of a schedule. */
export interface RolloutSpec {
  /** Traffic share of the canary experiment (0 < share ≤ 1; default 0.1). */
  share: number;
  /** A canary with no decision after this long is rolled back (default 7 days). */
  maxDurationMs: Millis;
  /** How often the decision loop reads the experiment (default LOOP_DECISION_INTERVAL_MS). */
  decisionIntervalMs?: Millis | undefined;
  /** Guardrails of the canary experiment (else the service's EXPERIMENT_GUARDRAIL_* defaults). */
  guardrails?:
    | {
        maxFallbackRate?: number | undefined;
        maxLatencyP99Ms?: number | undefined;
        maxLlmCallsPerExposure?: number | undefined;
        minExposures?: number | undefined;
      }
    | undefined;
}

/** When a schedule fires: exactly one of `everyMs` and `cron`. */
export type Cadence = { everyMs: Millis; cron?: undefined; tz?: undefined } | { cron: string; tz?: string | undefined; everyMs?: undefined };

/** A retraining schedule, as stored (one per domain). */
export type Schedule = Cadence & {
  domain: string;
  /** The dataset window: exposures of the last `windowMs` before the run. */
  windowMs: Millis;
  /** Trainer parameters (validated by the trainer's schema when the schedule is written). */
  params: Record<string, unknown>;
  gate: GateSpec;
  rollout: RolloutSpec;
  /** A paused schedule does not fire; a run in progress goes on. */
  paused: boolean;
  /** Who wrote it last: the admin API or the chart's LOOP_SCHEDULES (created idempotently at start). */
  source: 'api' | 'config';
  createdAt: number;
  updatedAt: number;
};

/** A pinned domain: its active version is never changed automatically (the loop, `activate: if-better`). */
export interface Pin {
  domain: string;
  version: string;
  reason: string;
  at: number;
}

/** Finished runs kept per domain (LoopStore.listRuns); older ones are dropped from the store. */
export const LOOP_RUNS_KEPT = 50;

/** Audit records kept per domain (LoopStore.listAudit); the oldest are dropped first. */
export const LOOP_AUDIT_KEPT = 1000;

/** The steps of a run, in order. `done` is final. */
export const RUN_STEPS = ['dataset', 'train', 'gate', 'canary', 'decide', 'done'] as const;
export type RunStep = (typeof RUN_STEPS)[number];

/** How a run ended. */
export const RUN_OUTCOMES = ['promoted', 'rolled_back', 'not_better', 'no_data', 'pinned', 'cancelled', 'failed'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** A run as stored: where it is and what it has made so far (each field is set once, by its step). */
export interface LoopRun {
  runId: string;
  domain: string;
  /** What started it: the schedule firing, or a person (POST …/run). */
  trigger: 'schedule' | 'manual';
  startedAt: number;
  updatedAt: number;
  step: RunStep;
  /** The active version when the run started (the warm start and the gate's and canary's control). */
  baseVersion: string;
  /** The schedule as it was when the run started (a later PUT changes the next run, not this one). */
  schedule: Schedule;
  dataset?: { path: string; holdoutPath: string; rows: number; users: number; holdoutUsers: number; skipped: Record<string, number> } | undefined;
  trainingJobId?: string | undefined;
  candidateVersion?: string | undefined;
  gate?: GateResult | undefined;
  experimentId?: string | undefined;
  /**
   * Set while the canary waits for another experiment of the domain to end (only one runs per domain): when
   * the wait began. Waiting past rollout.maxDurationMs ends the run `cancelled`.
   */
  canaryWaitingSince?: number | undefined;
  canaryStartedAt?: number | undefined;
  /**
   * How it ended. Written (with reason and finishedAt) BEFORE the ending's side effects (stopping or promoting
   * the canary), then `step` becomes `done`: a run with an outcome and another step is ending, and a worker
   * that resumes it redoes only the idempotent ending.
   */
  outcome?: RunOutcome | undefined;
  /** Why it ended, for a person: "canary: the always-valid decision says control (p = 0.003)". */
  reason?: string | undefined;
  finishedAt?: number | undefined;
}

/** The offline gate's verdict. */
export interface GateResult {
  passed: boolean;
  users: number;
  activeNdcg: number;
  candidateNdcg: number;
  diff: number;
  ci95: [number, number];
  minDelta: number;
  llmCalls: number;
}

/** The kinds of audit records: one per automatic step or decision, and per operator action. */
export const AUDIT_KINDS = [
  'run_started',
  'dataset_built',
  'trained',
  'gated',
  'candidate_registered',
  'canary_started',
  'promoted',
  'rolled_back',
  'run_ended',
  'skipped',
  'schedule_changed',
  'paused',
  'resumed',
  'pinned',
  'unpinned',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** One audit record: what happened, why, with which numbers, and when. Append-only. */
export interface AuditRecord {
  /** Unique and time-ordered within a domain (`<at ms, 13 digits>-<seq>`). */
  id: string;
  at: number;
  domain: string;
  kind: AuditKind;
  runId: string | null;
  /** Who acted: `loop` for an automatic step, `admin` for a person through the admin API, `config` at start. */
  actor: 'loop' | 'admin' | 'config';
  /** One line for a person. */
  message: string;
  /** The numbers behind it (rows, NDCG, CI, p-value, experiment id, version…), JSON-serialisable. */
  data: Record<string, unknown>;
}

/**
 * Storage of schedules, pins, runs and the audit trail. Every key of one domain shares one Redis Cluster
 * hash tag, so each operation is single-slot; the only cross-domain structure is the index of scheduled
 * domains (its own key, written after the schedule and read tolerant of holes).
 */
export interface LoopStore {
  putSchedule(schedule: Schedule): Promise<void>;
  getSchedule(domain: string): Promise<Schedule | null>;
  /** Every schedule, by domain. */
  listSchedules(): Promise<Schedule[]>;
  /** False when there was none. */
  deleteSchedule(domain: string): Promise<boolean>;

  getPin(domain: string): Promise<Pin | null>;
  listPins(): Promise<Pin[]>;
  /** null unpins; false when unpinning a domain that was not pinned. */
  setPin(domain: string, pin: Pin | null): Promise<boolean>;

  /**
   * Makes `run` the domain's current run, atomically refusing when the domain already has one that is not
   * done: then resolves that run (and stores nothing). Resolves null on success. Starting the same runId
   * again resolves the stored run (a re-delivered firing is not a second run).
   */
  beginRun(run: LoopRun): Promise<LoopRun | null>;
  /** The domain's current run (done or not), or null. */
  currentRun(domain: string): Promise<LoopRun | null>;
  getRun(domain: string, runId: string): Promise<LoopRun | null>;
  /**
   * Replaces the stored run with `run` when the stored one has the same runId and is not done
   * (compare-and-set). Resolves false, changing nothing, otherwise. A run that reaches `done` is also
   * appended to the domain's recent runs (kept: the last LOOP_RUNS_KEPT).
   */
  updateRun(run: LoopRun): Promise<boolean>;
  /** The domain's runs, newest first: the current one and the recent finished ones. */
  listRuns(domain: string, limit: number): Promise<LoopRun[]>;

  /** Appends a record (id and at are set by the caller); the trail keeps the last LOOP_AUDIT_KEPT per domain. */
  appendAudit(record: AuditRecord): Promise<void>;
  /** A domain's records, newest first, older than `before` (an id) when given. */
  listAudit(domain: string, opts: { limit: number; before?: string | undefined; runId?: string | undefined }): Promise<AuditRecord[]>;
}

/** Fires runs: BullMQ job schedulers, one per domain, on the durable queue the training jobs use. */
export interface RunScheduler {
  /** Creates or replaces the domain's job scheduler (idempotent). A paused schedule has none. */
  upsert(schedule: Schedule): Promise<{ nextRunAt: number | null }>;
  remove(domain: string): Promise<void>;
  /** When the domain's scheduler fires next, or null. */
  nextRunAt(domain: string): Promise<number | null>;
  /** Queues a run now (POST /admin/v1/schedules/{domain}/run). */
  runNow(domain: string, runId: string): Promise<void>;
}
