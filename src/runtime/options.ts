/**
 * What every role of the runtime is built from, besides Config: the logger and the test/tooling overrides.
 */
import type { Clock, LlmClient, Logger } from '../agp/ports.js';
import type { TrainingWorkerTuning } from '../jobs/bullmq-training-worker.js';
import type { Metrics } from '../observability/metrics.js';
import type { ApiKeyStore } from '../api-keys/api-keys.js';
import type { LoopParts } from './loop-admin.js';

/** The processes the runtime wires: the HTTP API, `agp worker`, and the `agp` command line. */
export type Role = 'api' | 'worker' | 'cli';

/** Test and tooling overrides (an in-process LLM, a fake clock, no default metrics). */
export interface RuntimeOverrides {
  /** Replaces the serving AND the training LLM client (the runtime then closes neither). */
  llm?: LlmClient | undefined;
  clock?: Clock | undefined;
  metrics?: Metrics | undefined;
  /** Set false to build the API without a training job service (the HTTP tests of serving). */
  jobs?: boolean | undefined;
  /** BullMQ worker timings (tests shorten them); API role with a queue, and the worker role. */
  workerTuning?: TrainingWorkerTuning | undefined;
  /** An API-key store to use instead of API_KEYS / API_KEYS_FILE's (tests); turns keys on. */
  apiKeyStore?: ApiKeyStore | undefined;
  /** The loop's store and run scheduler to use instead of the configured ones (tests: memory store, a fake queue). */
  loop?: LoopParts | undefined;
}

/** Options of createRuntime. */
export interface RuntimeOptions {
  /** Shared by every adapter of the role (default: silent). */
  logger: Logger;
  overrides?: RuntimeOverrides | undefined;
}
