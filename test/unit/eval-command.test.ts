/**
 * `agp eval` on a file: the dataset is streamed, and with an LLM method every line is validated before
 * the first LLM call, so a bad line at the end of a file costs nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DatasetError, serializeUser } from '../../src/agp/dataset.js';
import type { CliRuntime } from '../../src/runtime/index.js';
import { evalCommand } from '../../src/cli/eval-command.js';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { createWorldLlm, keywordPolicy, makeUsers } from '../../testkit/synthetic-world.js';
import { createScriptedLlm } from '../../testkit/scripted-llm.js';
import { ndcgAtK } from '../../src/agp/metrics.js';

let dir: string;
const users = makeUsers(9, { decoy: true });

function container(llm: ReturnType<typeof createScriptedLlm>): CliRuntime {
  const config = loadConfig({});
  return {
    config,
    pipeline: pipelineOptions(config),
    llm: () => Promise.resolve(llm),
    registry: () => Promise.reject(new Error('no registry in this test')),
    datasets: () => Promise.reject(new Error('no datasets in this test')),
    close: () => Promise.resolve(),
  };
}

async function run(argv: string[], llm: ReturnType<typeof createScriptedLlm> = createWorldLlm(keywordPolicy())): Promise<{ out: string; llm: typeof llm }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await evalCommand(argv, container(llm), new AbortController().signal);
  } finally {
    spy.mockRestore();
  }
  return { out, llm };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agp-eval-cmd-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

describe('agp eval on a file', () => {
  it('evaluates every user of the file and prints the --json summary', async () => {
    const file = join(dir, 'ok.jsonl');
    await writeFile(file, `${users.map(serializeUser).join('\r\n')}\r\n`);
    const { out, llm } = await run(['--data', file, '--methods', 'base,direct', '--json']);
    const summary = JSON.parse(out) as { n: number; methods: Record<string, Record<string, number>> };
    expect(summary.n).toBe(9);
    expect(Object.keys(summary.methods)).toEqual(['base', 'direct']);
    expect(llm.calls).toHaveLength(9);
  });

  it('--protocol paper scores junk answers at the worst rank and says so in --json; a bad value is a usage error', async () => {
    const file = join(dir, 'protocol.jsonl');
    await writeFile(file, `${users.map(serializeUser).join('\n')}\n`);
    const junk = () => createScriptedLlm(() => 'Lovely choices, all of them.');
    const parse = (out: string) => JSON.parse(out) as { protocol: string; methods: Record<string, Record<string, number>>; failures: Record<string, { unparseable: number }> };
    const served = parse((await run(['--data', file, '--methods', 'base,direct', '--json'], junk())).out);
    const paper = parse((await run(['--data', file, '--methods', 'base,direct', '--json', '--protocol', 'paper'], junk())).out);
    expect(served.protocol).toBe('served');
    expect(paper.protocol).toBe('paper');
    expect(served.failures.direct?.unparseable).toBe(9);
    expect(served.methods.direct?.['ndcg@10']).toBe(served.methods.base?.['ndcg@10']);
    expect(paper.methods.direct?.['ndcg@10']).toBeCloseTo(ndcgAtK(users[0]?.candidates.length ?? 0), 12);
    await expect(run(['--data', file, '--methods', 'base', '--protocol', 'authors'])).rejects.toThrow(/--protocol takes served or paper/);
  });

  it('with an LLM method, a bad last line fails the run before any LLM call', async () => {
    const file = join(dir, 'bad-end.jsonl');
    await writeFile(file, `${users.map(serializeUser).join('\n')}\n{"userId":"late"}\n`);
    const llm = createWorldLlm(keywordPolicy());
    const err = await run(['--data', file, '--methods', 'base,direct', '--json'], llm).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).issues[0]?.line).toBe(10);
    expect(llm.calls).toHaveLength(0);
  });

  it('base alone fails on a bad line too, and a missing file is one clear error', async () => {
    const file = join(dir, 'bad-mid.jsonl');
    await writeFile(file, `${users.slice(0, 1).map(serializeUser).join('')}\nnot json\n`);
    await expect(run(['--data', file, '--methods', 'base', '--json'])).rejects.toThrow(/bad-mid\.jsonl:2: invalid JSON/);
    await expect(run(['--data', join(dir, 'none.jsonl'), '--methods', 'base'])).rejects.toThrow(/cannot read dataset .*none\.jsonl: no such file/);
  });
});
