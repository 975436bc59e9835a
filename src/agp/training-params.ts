/**
 * Trainer hyperparameters: one zod schema with the paper's defaults (batch 10, history 5, 100 training
 * users, 10 epochs; verify once, as the authors' README example does). The CLI and the job API both
 * validate through it.
 */
import { z } from 'zod';
import { LLM_ROLES } from './types.js';

const positiveInt = (max: number) => z.number().int().min(1).max(max);

/** The schema of training parameters; every field has a default except `domain`. */
export const trainingParamsSchema = z
  .object({
    /** The prompt's domain (e.g. "movies"). */
    domain: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores').default('default'),
    epochs: positiveInt(100).default(10),
    batchSize: positiveInt(100).default(10),
    /** History items per user given to the profile step (the last N). */
    historyLength: positiveInt(200).default(5),
    /** Training users used (after the validation hold-out). */
    trainUsers: positiveInt(100_000).default(100),
    /** 0: accept every usable edit; 1..3: re-run the batch and keep the edit only if the mean rank improves, with up to N summarise/edit tries. */
    verifySteps: z.number().int().min(0).max(3).default(1),
    /** Fraction held out for validation when no validation set is given. */
    valFraction: z.number().gt(0).lt(1).default(0.2),
    /** Number of validation users (held out, or a cap on the given validation set). */
    valUsers: positiveInt(100_000).optional(),
    seed: z.number().int().default(42),
    /** Users processed at once (p-limit). */
    concurrency: positiveInt(256).default(20),
    /** structured: position feedback goes straight to the summariser; llm: one "reason" call per user not ranked first (authors' code). */
    reasons: z.enum(['structured', 'llm']).default('structured'),
    /** Per-role model overrides. */
    models: z.partialRecord(z.enum(LLM_ROLES), z.string().min(1)).optional(),
    /** Total LLM call ceiling across the run (resumes included). */
    maxLlmCalls: positiveInt(10_000_000).optional(),
    /** Total token ceiling (checked before each call; calls in flight may overshoot slightly). */
    maxTokens: positiveInt(2_000_000_000).optional(),
    /** Stop after this many epochs without a validation gain (0 disables). */
    patience: z.number().int().min(0).max(100).default(3),
    /** Budget for one user's profile + rerank, in ms. */
    userTimeoutMs: positiveInt(3_600_000).default(120_000),
    /** Budget for one summarise / edit / reason call, in ms. */
    optimizerTimeoutMs: positiveInt(3_600_000).default(300_000),
    optimizerMaxTokens: positiveInt(32_768).default(1_024),
    /** Stop when this many consecutive batches lost every user to LLM errors. */
    maxDeadBatches: positiveInt(100).default(3),
  })
  .strict();

/** Validated training parameters. */
export type TrainingParams = z.output<typeof trainingParamsSchema>;
/** Training parameters as given by a caller (defaults filled in by the schema). */
export type TrainingParamsInput = z.input<typeof trainingParamsSchema>;

/**
 * Validates parameters and fills defaults.
 * @throws Error with one line per problem, naming the parameter.
 */
export function resolveTrainingParams(input: unknown): TrainingParams {
  const r = trainingParamsSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`);
  throw new TrainingParamsError(`invalid training parameters: ${lines.join('; ')}`);
}

/** Invalid training parameters (a usage error). */
export class TrainingParamsError extends Error {
  override readonly name = 'TrainingParamsError';
}

/**
 * Paper formula (7) generalised to the actual batches: Σ over batches of (3·|b| + 2).
 * With 100 users and batch size 10 it is (10·3 + 2)·10 = 320 calls per epoch.
 */
export function paperCallsPerEpoch(trainUsers: number, batchSize: number): number {
  let total = 0;
  for (let start = 0; start < trainUsers; start += batchSize) total += 3 * Math.min(batchSize, trainUsers - start) + 2;
  return total;
}
