/**
 * Trainer hyperparameters: one zod schema with the paper's defaults (batch 10, history 5, 100 training
 * users, 10 epochs; verify once, as the authors' README example does). The CLI and the job API both
 * validate through it.
 */
import { z } from 'zod';
import { LLM_ROLES } from './types.js';

const positiveInt = (max: number) => z.number().int().min(1).max(max);

/**
 * The schema of training parameters; every field has a default except the optional caps. Descriptions are
 * `.describe()` so the admin API's OpenAPI document shows them (see trainingParamsOverridesSchema).
 */
export const trainingParamsSchema = z
  .object({
    domain: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores')
      .default('default')
      .describe('The prompt\'s domain (e.g. "movies").'),
    epochs: positiveInt(100).default(10).describe('Passes over the training users.'),
    batchSize: positiveInt(100).default(10).describe('Users per optimisation step.'),
    historyLength: positiveInt(200).default(5).describe('History items per user given to the profile step (the last N).'),
    trainUsers: positiveInt(100_000).default(100).describe('Training users used (after the validation hold-out).'),
    verifySteps: z
      .number()
      .int()
      .min(0)
      .max(3)
      .default(1)
      .describe('0: accept every usable edit; 1..3: re-run the batch and keep the edit only if the mean rank improves, with up to N summarise/edit tries.'),
    // Inclusive bounds rather than (0, 1): OpenAPI 3.0 renders gt/lt as boolean exclusiveMinimum/Maximum,
    // which example validators (Redocly) reject; a hold-out under 1% or over 99% is no split anyway.
    valFraction: z.number().min(0.01).max(0.99).default(0.2).describe('Fraction (0.01-0.99) held out for validation when no validation set is given.'),
    valUsers: positiveInt(100_000).optional().describe('Number of validation users (held out, or a cap on the given validation set).'),
    seed: z.number().int().default(42).describe('Seed for shuffling and the hold-out split.'),
    concurrency: positiveInt(256).default(20).describe('Users processed at once.'),
    reasons: z
      .enum(['structured', 'llm'])
      .default('structured')
      .describe('structured: position feedback goes straight to the summariser; llm: one "reason" call per user not ranked first (authors\' code).'),
    models: z.partialRecord(z.enum(LLM_ROLES), z.string().min(1)).optional().describe('Per-role model overrides.'),
    maxLlmCalls: positiveInt(10_000_000).optional().describe('Total LLM call ceiling across the run (resumes included).'),
    maxTokens: positiveInt(2_000_000_000).optional().describe('Total token ceiling (checked before each call; calls in flight may overshoot slightly).'),
    patience: z.number().int().min(0).max(100).default(3).describe('Stop after this many epochs without a validation gain (0 disables).'),
    userTimeoutMs: positiveInt(3_600_000).default(120_000).describe("Budget for one user's profile + rerank, in ms."),
    optimizerTimeoutMs: positiveInt(3_600_000).default(300_000).describe('Budget for one summarise / edit / reason call, in ms.'),
    optimizerMaxTokens: positiveInt(32_768).default(1_024).describe('Completion token cap of the optimizer calls.'),
    maxDeadBatches: positiveInt(100).default(3).describe('Stop when this many consecutive batches lost every user to LLM errors.'),
  })
  .strict();

/**
 * The same parameters as a caller's overrides: every field optional and nothing filled in, so the party that
 * resolves them later (resolveTrainingParams, with its own defaults such as TRAINING_CONCURRENCY) still sees
 * what was omitted. Each field keeps its rules and description and documents its default as `default`.
 */
export const trainingParamsOverridesSchema = z
  .object(
    Object.fromEntries(
      Object.entries(trainingParamsSchema.shape).map(([name, field]) => {
        if (!(field instanceof z.ZodDefault)) return [name, field];
        return [name, field.unwrap().optional().meta({ description: field.description, default: field.def.defaultValue })];
      }),
    ) as { [K in keyof typeof trainingParamsSchema.shape]: z.ZodOptional<z.ZodType<z.output<(typeof trainingParamsSchema.shape)[K]>>> },
  )
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
