/**
 * The demo flow of the README: `npm run simulator` on its own, a generated taste-world dataset, and
 * `agp train` (the command function) pointed at the simulator through LLM_BASE_URL. Training must
 * visibly improve validation NDCG@10, through at least one accepted edit; SIGTERM closes the simulator.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrace } from '../../src/agp/trace.js';
import type { TrainingResult } from '../../src/agp/trainer.js';
import { loadConfig } from '../../src/config.js';
import { createRuntime } from '../../src/runtime/index.js';
import { trainCommand } from '../../src/cli/train-command.js';

let child: ChildProcess;
let exited: Promise<number | null>;
let url: string;
let dir: string;

/** Runs the simulator script with `args` (through `npm run` with `viaNpm`); resolves with its first stdout match of `re`. */
function startScript(args: string[], re: RegExp, viaNpm = false): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const proc = viaNpm
    ? spawn('npm', ['run', '--silent', 'simulator', '--', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, ['--import', 'tsx', 'scripts/simulator.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`simulator printed no ${re} within 20 s: ${out}`)), 20_000);
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const match = re.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ proc, match });
      }
    });
    proc.once('exit', (code) => reject(new Error(`simulator exited with ${code}: ${out}`)));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agp-sim-'));
  const data = await startScript(['--write-data', dir, '--train-users', '30', '--val-users', '20'], /wrote 30 users/);
  await new Promise((r) => data.proc.once('exit', r));
  const started = await startScript(['--port', '0'], /listening at (http:\/\/127\.0\.0\.1:\d+\/v1)/);
  child = started.proc;
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  url = started.match[1] as string;
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('agp train against the simulator', () => {
  it('improves validation NDCG@10 with accepted edits, and writes a trace naming the model', async () => {
    const out = join(dir, 'run');
    const c = await createRuntime(loadConfig({ LLM_BASE_URL: url, LLM_API_KEY: 'sim', LLM_MODEL: 'simulator', LOG_LEVEL: 'silent' }), 'cli');
    const argv = ['--data', join(dir, 'train.jsonl'), '--val-data', join(dir, 'validation.jsonl'), '--domain', 'demo'];
    const code = await trainCommand([...argv, '--epochs', '2', '--batch-size', '5', '--out', out, '--no-progress'], c, new AbortController().signal).finally(() => c.close());
    expect(code).toBe(0);

    const { result } = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as { result: TrainingResult };
    expect(result.acceptedEdits.length).toBeGreaterThanOrEqual(1);
    expect(result.bestEpoch).toBeGreaterThan(0);
    expect(result.bestValNdcg).toBeGreaterThan(result.metrics.initialValNdcg + 0.2);
    // The selected prompt asks about something the built-in prompt did not.
    expect(result.prompt).toMatch(/mood|setting/);

    const trace = parseTrace(await readFile(join(out, 'trace.jsonl'), 'utf8'));
    expect(trace.length).toBe(result.metrics.llmCalls);
    expect(new Set(trace.map((e) => e.model))).toEqual(new Set(['simulator']));
    expect(new Set(trace.map((e) => e.role))).toEqual(new Set(['profile', 'rerank', 'summarise', 'edit']));
  }, 120_000);

  it('closes on SIGTERM with exit code 0', async () => {
    const models = (await (await fetch(`${url}/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toEqual(['simulator']);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/models`)).rejects.toThrow();
  }, 20_000);

  it('stops when `npm run simulator` itself gets SIGTERM (what `kill %1` sends)', async () => {
    const npm = await startScript(['--port', '0'], /listening at (http:\/\/127\.0\.0\.1:\d+\/v1)/, true);
    const npmUrl = npm.match[1] as string;
    expect((await fetch(`${npmUrl}/models`)).status).toBe(200);
    npm.proc.kill('SIGTERM');
    const until = Date.now() + 10_000;
    let closed = false;
    while (!closed && Date.now() < until) {
      closed = await fetch(`${npmUrl}/models`).then(
        () => false,
        () => true,
      );
      if (!closed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(closed).toBe(true);
  }, 30_000);
});
