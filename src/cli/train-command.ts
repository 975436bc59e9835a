/**
 * `agp train`: trains a profile prompt from a canonical dataset and writes, to --out:
 * prompt-version.json (export format), trace.jsonl, checkpoint.json, report.json, report.md, ndcg.svg.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LlmClient, PromptVersion } from '../agp/ports.js';
import { createMemoryCheckpointStore } from '../agp/checkpoint.js';
import { createReplayLlm } from '../agp/trace.js';
import { train } from '../agp/trainer.js';
import type { TrainingResult } from '../agp/trainer.js';
import type { TrainingParamsInput } from '../agp/training-params.js';
import { resolveTrainingParams } from '../agp/training-params.js';
import { serializePrompts } from '../store/prompt-file.js';
import type { CliRuntime } from '../runtime/index.js';
import { createFileCheckpointStore, createJsonlTraceSink, intOpt, numOpt, oneOf, readDatasetFile, readTraceFile, required, UsageError, writeFileAtomic } from './cli-io.js';
import { createTrainingProgress } from './progress.js';
import { pickPrompt } from './prompt-source.js';
import { renderTrainingReport, trainingChartSvg } from '../report/training-report.js';

export const TRAIN_USAGE = `usage: agp train --data users.jsonl --domain D [options]
  --epochs N  --batch-size N  --history-length N  --train-users N
  --val-data F | --val-fraction X  [--val-users N]
  --verify-steps 0..3  --reasons structured|llm  --patience N
  --max-llm-calls N  --max-tokens N  --seed N  --concurrency N
  --prompt-file F      start from this prompt (default: the built-in prompt)
  --out DIR            output directory (default ./agp-train-<domain>)
  --resume             continue from DIR/checkpoint.json
  --replay TRACE       re-run from a recorded trace with no LLM
  --no-progress        no progress bar`;

/**
 * The command line a user can paste from a clone: a bare `agp` is on PATH only after `npm link` or a global
 * install, while `npm run agp --` works in every checkout (docs/training.md uses the same form).
 */
export const AGP_FROM_CLONE = 'npm run agp --';

/** `${domain}-YYYYMMDD-HHMMSS-<hash6>`. */
export function versionName(domain: string, text: string, at: Date): string {
  const ts = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${domain}-${ts}-${createHash('sha256').update(text).digest('hex').slice(0, 6)}`;
}

/** Builds the PromptVersion a run produces. */
export function toPromptVersion(r: TrainingResult, parent: string | null, at: Date): PromptVersion {
  const m = r.metrics;
  return {
    domain: r.params.domain,
    version: versionName(r.params.domain, r.prompt, at),
    text: r.prompt,
    parentVersion: parent,
    createdAt: at.toISOString(),
    historyLength: r.params.historyLength,
    params: { ...r.params },
    metrics: {
      trainNdcgPerEpoch: m.trainNdcgPerEpoch,
      valNdcgPerEpoch: m.valNdcgPerEpoch,
      baselineNdcg: m.baselineValNdcg,
      initialValNdcg: m.initialValNdcg,
      bestValNdcg: r.bestValNdcg,
      bestEpoch: r.bestEpoch,
      llmCalls: m.llmCalls,
      tokens: m.tokens,
      stoppedBy: r.stoppedBy,
    },
  };
}

function paramsFrom(v: Record<string, string | boolean | undefined>): TrainingParamsInput {
  const s = (k: string) => v[k] as string | undefined;
  const p: Record<string, unknown> = {
    domain: required(s('domain'), 'domain'),
    epochs: intOpt(s('epochs'), 'epochs', 1),
    batchSize: intOpt(s('batch-size'), 'batch-size', 1),
    historyLength: intOpt(s('history-length'), 'history-length', 1),
    trainUsers: intOpt(s('train-users'), 'train-users', 1),
    valFraction: numOpt(s('val-fraction'), 'val-fraction'),
    valUsers: intOpt(s('val-users'), 'val-users', 1),
    verifySteps: intOpt(s('verify-steps'), 'verify-steps', 0),
    reasons: oneOf(s('reasons'), 'reasons', ['structured', 'llm'] as const),
    maxLlmCalls: intOpt(s('max-llm-calls'), 'max-llm-calls', 1),
    maxTokens: intOpt(s('max-tokens'), 'max-tokens', 1),
    seed: intOpt(s('seed'), 'seed', 0),
    concurrency: intOpt(s('concurrency'), 'concurrency', 1),
    patience: intOpt(s('patience'), 'patience', 0),
  };
  for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
  try {
    resolveTrainingParams(p); // usage errors before any file is read
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return p as TrainingParamsInput;
}

/** Runs `agp train`; returns the exit code. */
export async function trainCommand(argv: string[], c: CliRuntime, signal: AbortSignal): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      domain: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      'history-length': { type: 'string' },
      'train-users': { type: 'string' },
      'val-data': { type: 'string' },
      'val-fraction': { type: 'string' },
      'val-users': { type: 'string' },
      'verify-steps': { type: 'string' },
      reasons: { type: 'string' },
      'max-llm-calls': { type: 'string' },
      'max-tokens': { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      patience: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean' },
      replay: { type: 'string' },
      'prompt-file': { type: 'string' },
      'no-progress': { type: 'boolean' },
    },
    strict: true,
  });
  const params = paramsFrom(v);
  const domain = params.domain as string;
  if (v['val-data'] && v['val-fraction']) throw new UsageError('use either --val-data or --val-fraction, not both');
  if (v.replay && v.resume) throw new UsageError('--replay re-runs from the start; it cannot be combined with --resume');
  const out = v.out ?? `./agp-train-${domain}`;
  const ckptFile = join(out, 'checkpoint.json');
  if (!v.replay && !v.resume && existsSync(ckptFile)) {
    throw new UsageError(`${ckptFile} exists: pass --resume to continue that run, or choose another --out`);
  }
  if (v.resume && !existsSync(ckptFile)) throw new UsageError(`--resume: no checkpoint at ${ckptFile}`);

  const users = await readDatasetFile(required(v.data, 'data'));
  const validation = v['val-data'] ? await readDatasetFile(v['val-data']) : undefined;
  const start = await pickPrompt(c, { promptFile: v['prompt-file'], domain });
  const llm: LlmClient = v.replay ? createReplayLlm(await readTraceFile(v.replay)) : await c.llm('training');
  await mkdir(out, { recursive: true });
  const traceSink = v.replay ? undefined : createJsonlTraceSink(join(out, 'trace.jsonl'), Boolean(v.resume));
  const checkpoints = v.replay ? createMemoryCheckpointStore() : createFileCheckpointStore(ckptFile);
  const progress = createTrainingProgress({ enabled: !v['no-progress'], epochs: resolveTrainingParams(params).epochs });

  let result: TrainingResult;
  try {
    result = await train(
      { users, validation, initialPrompt: start.text, params, pipeline: c.pipeline },
      { llm, checkpoints, traceSink, signal, onProgress: progress.update },
    );
  } finally {
    progress.stop();
  }
  if (result.state === 'cancelled') {
    process.stderr.write(
      existsSync(ckptFile) && !v.replay
        ? `training cancelled; the checkpoint is in ${ckptFile} (continue with --resume)\n`
        : 'training cancelled before the first checkpoint; nothing to resume\n',
    );
    return 1;
  }
  const version = toPromptVersion(result, start.version, new Date());
  await writeFileAtomic(join(out, 'prompt-version.json'), serializePrompts([version]));
  await writeFileAtomic(join(out, 'report.json'), `${JSON.stringify({ version, result }, null, 2)}\n`);
  await writeFileAtomic(join(out, 'report.md'), renderTrainingReport(result, version));
  await writeFileAtomic(join(out, 'ndcg.svg'), `${trainingChartSvg(result)}\n`);
  const m = result.metrics;
  process.stderr.write(
    `${result.state} (stopped by ${result.stoppedBy}): best validation NDCG@10 ${result.bestValNdcg.toFixed(4)} at epoch ${result.bestEpoch} ` +
      `(initial ${m.initialValNdcg.toFixed(4)}, baseline ${m.baselineValNdcg.toFixed(4)}); ${m.llmCalls} LLM calls, ${m.tokens} tokens\n` +
      `wrote ${join(out, 'prompt-version.json')} (version ${version.version}) and ${join(out, 'report.md')}\n` +
      `activate with: ${AGP_FROM_CLONE} prompts import ${join(out, 'prompt-version.json')} --activate\n`,
  );
  if (result.stoppedBy === 'llm_unavailable') {
    process.stderr.write('the LLM failed for every user of several batches in a row; fix it and continue with --resume\n');
    return 1;
  }
  return 0;
}
