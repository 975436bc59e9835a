/**
 * The `agp` command line (main() in-process) on the CLI runtime, against the LLM double through the real
 * openai SDK:
 *
 * - per-role models without LLM_MODEL are "configured" for eval and train, as they are for the service
 *   (config.ts's one definition); a use whose roles lack a model is refused with the variable to set;
 * - `agp eval` with 20 users in flight adds no MaxListenersExceededWarning (each call has its own signal);
 * - `agp train`'s last line is a command that works from a clone (`npm run agp -- …`), and so are the
 *   commands in docs/training.md.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/agp/ports.js';
import { main } from '../../src/cli/agp.js';
import { AGP_FROM_CLONE } from '../../src/cli/train-command.js';
import { llmConfigured, loadConfig } from '../../src/config.js';
import { createRuntime } from '../../src/runtime/index.js';
import { knownRole, startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { keywordPolicy, makeUsers, worldAnswer } from '../../testkit/synthetic-world.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let double: LlmDouble;
let dir: string;
let data: string;

beforeAll(async () => {
  double = await startLlmDouble({ latency: 40 });
  const answer = worldAnswer(keywordPolicy());
  double.script((call) => answer({ role: knownRole(call), messages: call.messages as ChatMessage[] }));
  dir = await mkdtemp(join(tmpdir(), 'agp-cli-'));
  data = join(dir, 'users.jsonl');
  await writeFile(data, `${makeUsers(30).map((u) => JSON.stringify(u)).join('\n')}\n`);
});
afterAll(async () => {
  await double?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Per-role models only: no LLM_MODEL. */
const perRoleEnv = () => ({
  LOG_LEVEL: 'silent',
  LLM_BASE_URL: double.url,
  LLM_API_KEY: 'sk-cli',
  LLM_PROFILE_MODEL: 'p-model',
  LLM_RERANK_MODEL: 'r-model',
  LLM_OPTIMIZER_MODEL: 'o-model',
});

/** Runs main() with stdout and stderr captured, and every process warning collected. */
async function run(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string; warnings: Error[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const warnings: Error[] = [];
  const onWarning = (w: Error) => void warnings.push(w);
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  process.on('warning', onWarning);
  process.stdout.write = ((s: string | Uint8Array) => out.push(String(s)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => err.push(String(s)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(argv, env);
    await new Promise((r) => setTimeout(r, 50)); // warnings are emitted on a later tick
    return { code, out: out.join(''), err: err.join(''), warnings };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
    process.off('warning', onWarning);
  }
}

describe('one definition of "the LLM is configured"', () => {
  it('counts per-role models without LLM_MODEL as configured for serving and training alike', async () => {
    const config = loadConfig(perRoleEnv());
    expect(llmConfigured(config, 'serving')).toBe(true);
    expect(llmConfigured(config, 'training')).toBe(true);
    const api = await createRuntime(config, 'api', { overrides: { jobs: false } });
    const cli = await createRuntime(config, 'cli');
    try {
      expect(api.llm.configured).toBe(true);
      expect((await cli.llm('training')).configured).toBe(true);
    } finally {
      await Promise.all([api.close(), cli.close()]);
    }
  });

  it('refuses training, naming the missing variable, when the optimizer roles have no model', async () => {
    const { LLM_OPTIMIZER_MODEL: _o, ...servingOnly } = perRoleEnv();
    const config = loadConfig(servingOnly);
    expect(llmConfigured(config, 'serving')).toBe(true);
    expect(llmConfigured(config, 'training')).toBe(false);
    const res = await run(['train', '--data', data, '--domain', 'w', '--out', join(dir, 'refused'), '--no-progress'], servingOnly);
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/^agp train: no LLM is configured for training: set LLM_MODEL \(or LLM_OPTIMIZER_MODEL\)\n$/);
    expect(double.calls.length).toBe(0);
    // The same environment serves eval, whose methods call profile and rerank only.
    const out = join(dir, 'serving-only.json');
    const ev = await run(['eval', '--data', data, '--methods', 'direct', '--json', '--out', out], servingOnly);
    expect(ev.code).toBe(0);
    const full = JSON.parse(await readFile(out, 'utf8')) as { result: { methods: { direct: { failures: number } } } };
    expect(full.result.methods.direct.failures).toBe(0);
    expect(double.calls.length).toBe(30);
    expect(llmConfigured(loadConfig({ LLM_BASE_URL: double.url }), 'serving')).toBe(false);
    expect(llmConfigured(loadConfig({ LLM_MODEL: 'm' }), 'serving')).toBe(false);
  });
});

describe('agp eval', () => {
  it('runs 20 users at once on per-role models without a MaxListenersExceededWarning', { timeout: 60_000 }, async () => {
    const before = double.calls.length;
    const res = await run(['eval', '--data', data, '--methods', 'base,direct', '--concurrency', '20', '--json'], perRoleEnv());
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.out) as { n: number; methods: Record<string, unknown> };
    expect(summary.n).toBe(30);
    expect(Object.keys(summary.methods)).toEqual(['base', 'direct']);
    expect(double.calls.length - before).toBe(30);
    expect(double.calls.at(-1)?.model).toBe('r-model');
    expect(res.warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
  });
});

describe('agp train from a clone', () => {
  it('ends with an activation command that works from a clone', { timeout: 60_000 }, async () => {
    const out = join(dir, 'run');
    const res = await run(
      ['train', '--data', data, '--domain', 'world', '--out', out, '--epochs', '1', '--batch-size', '5', '--train-users', '10', '--val-users', '5', '--verify-steps', '0', '--no-progress'],
      perRoleEnv(),
    );
    expect(res.code).toBe(0);
    const lines = res.err.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(`activate with: npm run agp -- prompts import ${join(out, 'prompt-version.json')} --activate`);
    expect(AGP_FROM_CLONE).toBe('npm run agp --');
    // The package really has that script, running the CLI.
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.agp).toMatch(/src\/cli\/agp\.ts$/);
  });

  it('docs/training.md shows no bare `agp` command', async () => {
    const doc = await readFile(join(ROOT, 'docs/training.md'), 'utf8');
    const commands = doc.split('\n').filter((l) => /^\s*(\$\s*)?agp\s/.test(l));
    expect(commands).toEqual([]);
    expect(doc).toContain('npm run agp -- train');
  });
});
