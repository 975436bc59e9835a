#!/usr/bin/env node
/**
 * The `agp` command line: train, eval, convert, prompts export|import, dataset build, worker.
 * Exit codes: 0 ok, 1 runtime error, 2 usage error; every failure prints one clear message on stderr.
 * The LLM and Redis settings come from the same environment as the service (LLM_*, REDIS_URL, …).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig } from '../config.js';
import { TrainingParamsError } from '../agp/training-params.js';
import type { CliRuntime } from '../runtime/index.js';
import { createRuntime } from '../runtime/index.js';
import { UsageError } from './cli-io.js';
import { CONVERT_USAGE, convertCommand } from './convert-command.js';
import { DATASET_USAGE, datasetCommand } from './dataset-command.js';
import { EVAL_USAGE, evalCommand } from './eval-command.js';
import { PROMPTS_USAGE, promptsCommand } from './prompts-command.js';
import { TRAIN_USAGE, trainCommand } from './train-command.js';

const USAGE = `usage: agp <command> [options]
commands:
  train     train a profile prompt (AGP) from a users JSONL file
  eval      compare base, direct, cot and agp rankings with confidence intervals
  convert   turn RecBole/MovieLens/Amazon/Yelp/Goodreads data + a baseline ranking into users JSONL
  prompts   export|import prompt versions to/from the registry (REDIS_URL)
  dataset   build a training set from recorded exposures and events (REDIS_URL)
  worker    run the training job worker
Run "agp <command> --help" for the options of a command.`;

const HELP: Record<string, string> = { train: TRAIN_USAGE, eval: EVAL_USAGE, convert: CONVERT_USAGE, prompts: PROMPTS_USAGE, dataset: DATASET_USAGE };

/** The worker's entry (src/worker.ts exports `runWorker({env, signal})`); imported only by `agp worker`. */
const WORKER_MODULE = '../worker.js';

function isUsage(err: unknown): boolean {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof TrainingParamsError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

async function runWorker(env: Record<string, string | undefined>, signal: AbortSignal): Promise<number> {
  const mod = (await import(WORKER_MODULE)) as { runWorker?: (o: { env: typeof env; signal: AbortSignal }) => Promise<void> };
  if (typeof mod.runWorker !== 'function') throw new Error(`${WORKER_MODULE} does not export runWorker()`);
  await mod.runWorker({ env, signal });
  return 0;
}

/**
 * Runs one invocation and returns its exit code. Never throws.
 * @param argv the arguments after the program name.
 */
export async function main(argv: string[], env: Record<string, string | undefined> = process.env, signal?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const help = HELP[command];
    if (help) {
      process.stdout.write(`${help}\n`);
      return 0;
    }
  }
  const controller = new AbortController();
  signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  let runtime: CliRuntime | undefined;
  try {
    switch (command) {
      case 'convert':
        return await convertCommand(rest);
      case 'worker':
        if (rest.length > 0) throw new UsageError('agp worker takes no arguments (it is configured by the environment)');
        return await runWorker(env, controller.signal);
      case 'train':
      case 'eval':
      case 'dataset':
      case 'prompts': {
        runtime = await createRuntime(loadConfig(env), 'cli');
        if (command === 'train') return await trainCommand(rest, runtime, controller.signal);
        if (command === 'eval') return await evalCommand(rest, runtime, controller.signal);
        if (command === 'dataset') return await datasetCommand(rest, runtime);
        return await promptsCommand(rest, runtime);
      }
      default:
        throw new UsageError(`unknown command "${command}"\n${USAGE}`);
    }
  } catch (err) {
    const usage = isUsage(err);
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`agp ${command}: ${usage ? '' : 'error: '}${message}\n`);
    return usage ? 2 : 1;
  } finally {
    await runtime?.close();
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\n[agp] stopping after the current step (Ctrl-C again to exit at once)\n');
    controller.abort(new Error('interrupted'));
  });
  process.on('SIGTERM', () => controller.abort(new Error('terminated')));
  void main(process.argv.slice(2), process.env, controller.signal).then((code) => {
    process.exitCode = code;
    // Let stdout drain; never hang on a stray handle.
    setTimeout(() => process.exit(code), 2_000).unref();
  });
}
