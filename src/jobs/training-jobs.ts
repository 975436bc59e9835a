/**
 * The application-level port for training jobs. Implementations: BullMQ (when Redis is configured)
 * and an in-process runner (the embedded default). Admin routes talk only to this interface.
 */

/** Job states as exposed by the admin API. */
export const JOB_STATES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** Where the training users come from: inline, or a file confined to TRAINING_DATA_DIR. */
export type DatasetRef = { users: unknown[] } | { path: string };

/**
 * A finished job's payload without its inline users (`{users: []}` in their place). They are personal data
 * that nothing reads once the run is over, while the job record stays listed for days; `{path}` datasets are
 * the operator's files and are kept as given.
 */
export function withoutInlineUsers<T extends { dataset: DatasetRef; validation?: DatasetRef | undefined }>(data: T): T {
  const strip = (ref: DatasetRef): DatasetRef => ('users' in ref ? { users: [] } : ref);
  return { ...data, dataset: strip(data.dataset), ...(data.validation ? { validation: strip(data.validation) } : {}) };
}

/** A request to train a new prompt version for a domain. */
export interface TrainingJobRequest {
  domain: string;
  dataset: DatasetRef;
  /** Trainer hyperparameters; validated by the trainer's own schema. */
  params: Record<string, unknown>;
  activate: 'never' | 'if-better';
  /** Optional validation users (else held out from the training users). */
  validation?: DatasetRef | undefined;
  /**
   * A caller-chosen job id (the loop's `loop-<runId>`; see checkJobId): submitting an id that is already
   * known returns it and queues nothing, so a caller that crashed after its submit never trains twice.
   * Not part of the HTTP API; without it the engine picks a random id.
   */
  jobId?: string | undefined;
}

/** A caller-chosen job id: what BullMQ accepts as a custom id (no ':', not an integer) and a key segment can hold. */
const JOB_ID = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * Checks a caller-chosen job id.
 * @throws TypeError for an id BullMQ would refuse or that is not a plain token (a programming error).
 */
export function checkJobId(jobId: string): string {
  if (!JOB_ID.test(jobId) || /^\d+$/.test(jobId)) throw new TypeError(`invalid training job id ${JSON.stringify(jobId)}: [A-Za-z0-9._-]{1,200}, not only digits`);
  return jobId;
}

/** Live progress of a job. */
export interface JobProgress {
  epoch: number;
  batch: number;
  totalBatches?: number;
  llmCalls: number;
  tokens: number;
  etaSeconds: number | null;
  phase?: string;
}

/** What GET /admin/v1/training-jobs/{id} returns. */
export interface JobView {
  jobId: string;
  domain: string;
  state: JobState;
  createdAt: string;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  progress: JobProgress;
  metrics: Record<string, unknown>;
  result?: { promptVersion: string; activated: boolean; metrics: Record<string, unknown>; activationSkipped?: 'pinned' | undefined } | undefined;
  error?: string | undefined;
}

/** A job's training report: Markdown (with the chart inline) and the chart on its own. */
export interface TrainingReport {
  markdown: string;
  svg: string;
}

/** A job's LLM call trace as JSONL (the CLI's trace.jsonl format), cut off at a size bound. */
export interface TrainingTrace {
  jsonl: string;
  /** True when entries were dropped because the trace reached its size bound. */
  truncated: boolean;
}

/** Training job service. */
export interface TrainingJobs {
  /** Validates the request (dataset readable and well-formed) and enqueues it. */
  submit(req: TrainingJobRequest): Promise<{ jobId: string }>;
  get(jobId: string): Promise<JobView | null>;
  list(): Promise<JobView[]>;
  /** The job's training report; null when the job is unknown or has not written one yet. */
  report(jobId: string): Promise<TrainingReport | null>;
  /** The job's LLM call trace so far; null when the job is unknown or has recorded no call yet. */
  trace(jobId: string): Promise<TrainingTrace | null>;
  /** Cancels a queued or running job; false when it is unknown or already final. */
  cancel(jobId: string): Promise<boolean>;
  close(): Promise<void>;
}
