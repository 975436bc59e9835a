/**
 * `agp eval`: compares base / direct / cot / agp on a labelled dataset, with bootstrap CIs and paired
 * differences against the baseline order.
 */
import { parseArgs } from 'node:util';
import type { LlmClient } from '../agp/ports.js';
import type { EvalMethod } from '../agp/evaluate.js';
import { MAX_SHUFFLES } from '../agp/rank-passes.js';
import { EVAL_METHODS, EVAL_PROTOCOLS, evaluateMethods, summarizeEvaluation } from '../agp/evaluate.js';
import type { EvalProtocol } from '../agp/evaluate.js';
import type { CandidateFormat } from '../agp/candidate-format.js';
import { CANDIDATE_FORMATS } from '../agp/candidate-format.js';
import type { CliRuntime } from '../runtime/index.js';
import { streamDataset } from '../agp/dataset.js';
import { intOpt, readLinesOf, required, UsageError, writeFileAtomic } from './cli-io.js';
import { pickPrompt } from './prompt-source.js';
import { renderEvalTable } from './report.js';

export const EVAL_USAGE = `usage: agp eval --data test.jsonl [options]
  --methods base,direct,cot,agp   (default: all four)
  --prompt-file F | --prompt-version V --domain D   the agp prompt (default: built-in)
  --history-length N   history items given to the LLM (default: the prompt's)
  --concurrency N  --seed N
  --shuffles K         listwise passes over seeded shuffles per user, Borda-aggregated (1-5, default 1)
  --protocol served|paper   how a failed or unparseable answer is scored: served (default) with the
                       baseline order the service returns; paper as the authors did, target at the worst rank
  --candidate-format full|compact   candidates as RERANK_CANDIDATE_FORMAT sends them (default full)
  --json               print exactly one JSON object on stdout
  --out F              also write the full per-user result as JSON (kept in memory until written)

The dataset is streamed: memory stays flat however large it is (except with --out). When an LLM method
is asked for, the whole file is validated first, so a bad line costs no LLM calls.`;

function parseMethods(s: string | undefined): EvalMethod[] {
  if (s === undefined) return [...EVAL_METHODS];
  const list = s.split(',').map((m) => m.trim()).filter(Boolean);
  const bad = list.filter((m) => !(EVAL_METHODS as readonly string[]).includes(m));
  if (bad.length > 0 || list.length === 0) {
    throw new UsageError(`--methods takes a comma-separated subset of ${EVAL_METHODS.join(',')}${bad.length ? `; unknown: ${bad.join(', ')}` : ''}`);
  }
  return list as EvalMethod[];
}

function parseProtocol(s: string | undefined): EvalProtocol {
  if (s === undefined) return 'served';
  if (!(EVAL_PROTOCOLS as readonly string[]).includes(s)) throw new UsageError(`--protocol takes ${EVAL_PROTOCOLS.join(' or ')}, got "${s}"`);
  return s as EvalProtocol;
}

function parseCandidateFormat(s: string | undefined): CandidateFormat {
  if (s === undefined) return 'full';
  if (!(CANDIDATE_FORMATS as readonly string[]).includes(s)) throw new UsageError(`--candidate-format takes ${CANDIDATE_FORMATS.join(' or ')}, got "${s}"`);
  return s as CandidateFormat;
}

/** Runs `agp eval`; returns the exit code. */
export async function evalCommand(argv: string[], c: CliRuntime, signal: AbortSignal): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      methods: { type: 'string' },
      'prompt-file': { type: 'string' },
      'prompt-version': { type: 'string' },
      domain: { type: 'string' },
      'history-length': { type: 'string' },
      concurrency: { type: 'string' },
      seed: { type: 'string' },
      shuffles: { type: 'string' },
      protocol: { type: 'string' },
      'candidate-format': { type: 'string' },
      json: { type: 'boolean' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const methods = parseMethods(v.methods);
  const protocol = parseProtocol(v.protocol);
  const candidateFormat = parseCandidateFormat(v['candidate-format']);
  const historyOverride = intOpt(v['history-length'], 'history-length', 1);
  const concurrency = intOpt(v.concurrency, 'concurrency', 1) ?? c.config.training.concurrency;
  const seed = intOpt(v.seed, 'seed', 0) ?? 0;
  const shuffles = intOpt(v.shuffles, 'shuffles', 1) ?? 1;
  if (shuffles > MAX_SHUFFLES) throw new UsageError(`--shuffles must be at most ${MAX_SHUFFLES}, got "${v.shuffles ?? ''}"`);
  const file = required(v.data, 'data');
  const users = () => streamDataset(readLinesOf(file, 'dataset'), file);
  const needsLlm = methods.some((m) => m !== 'base');
  // With LLM methods, a first pass validates every line before any call is paid for (and counts the
  // users for the progress line). base alone is cheap: one pass, and a bad line fails the run.
  let userCount = 0;
  if (needsLlm) for await (const _ of users()) userCount += 1;
  const prompt = methods.includes('agp')
    ? await pickPrompt(c, { promptFile: v['prompt-file'], promptVersion: v['prompt-version'], domain: v.domain })
    : null;
  const llm: LlmClient = needsLlm ? await c.llm('serving') : { configured: false, complete: () => Promise.reject(new Error('no LLM')) };
  const total = userCount * methods.length;
  const result = await evaluateMethods(users(), methods, {
    llm,
    pipeline: c.pipeline,
    promptText: prompt?.text,
    historyLength: historyOverride ?? prompt?.historyLength ?? 5,
    concurrency,
    seed,
    shuffles,
    protocol,
    candidateFormat,
    signal,
    keepPerUser: Boolean(v.out),
    onUser: (done) => {
      if (!v.json && process.stderr.isTTY && total > 0) process.stderr.write(`\r[agp] evaluated ${Math.min(done, total)}/${total}`);
    },
  });
  if (!v.json && process.stderr.isTTY && total > 0) process.stderr.write('\n');
  if (v.out) await writeFileAtomic(v.out, `${JSON.stringify({ prompt, result }, null, 2)}\n`);
  if (v.json) {
    process.stdout.write(`${JSON.stringify(summarizeEvaluation(result))}\n`);
  } else {
    if (prompt) process.stdout.write(`agp prompt: ${prompt.version} (${prompt.source})\n`);
    process.stdout.write(`${renderEvalTable(result)}\n`);
    process.stdout.write(`LLM calls: ${result.usage.llmCalls}, tokens: ${result.usage.promptTokens + result.usage.completionTokens}\n`);
  }
  return 0;
}
