/**
 * The streaming dataset reader: line framing with a length cap, the nesting bound, lazy validation
 * (users come out one at a time, a bad file stops early and names lines, never content), and a streamed
 * evaluation that matches the in-memory one while holding only `concurrency` users.
 */
import { describe, expect, it } from 'vitest';
import { DatasetError, readDataset, serializeUser, streamDataset } from '../../src/agp/dataset.js';
import { jsonNestsDeeperThan, splitLines } from '../../src/agp/dataset-lines.js';
import { evaluateMethods, summarizeEvaluation } from '../../src/agp/evaluate.js';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { START_PROMPT, createWorldLlm, keywordPolicy, makeUsers } from '../../testkit/synthetic-world.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function datasetError(p: Promise<unknown>): Promise<DatasetError> {
  const err = await p.catch((e: unknown) => e);
  if (err instanceof DatasetError) return err;
  throw new Error(`expected a DatasetError, got ${String(err)}`);
}

/** Chunks that record how many were read, so a test can tell whether the reader stopped early. */
function countingChunks(chunks: string[]): { source: AsyncIterable<string>; read: () => number } {
  let read = 0;
  return {
    source: (async function* () {
      for (const c of chunks) {
        read += 1;
        yield c;
      }
    })(),
    read: () => read,
  };
}

describe('splitLines', () => {
  it('joins lines across chunk boundaries (\\n and \\r\\n) and adds no line for a final break', async () => {
    expect(await collect(splitLines(['ab', 'c\r', '\nd\n', '\n', 'e']))).toEqual(['abc', 'd', '', 'e']);
    expect(await collect(splitLines(['x\n']))).toEqual(['x']);
    expect(await collect(splitLines([]))).toEqual([]);
  });

  it('cuts an overlong line at cap + 1 as soon as it passes the cap, skips the rest of it, and goes on', async () => {
    const lines = await collect(splitLines(['12', '345678', '9\nok\n', '1234', '5'], 4));
    expect(lines).toEqual(['12345', 'ok', '12345']);
  });
});

describe('jsonNestsDeeperThan', () => {
  it('counts only structural brackets (not those inside strings, escaped quotes included)', () => {
    expect(jsonNestsDeeperThan('{"a":[{"b":"[[[[{{{{\\\\"}]}', 3)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":"x\\"[[[[[[","b":[[[[1]]]]}', 4)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":"x\\"[[[[[[","b":[[[1]]]}', 4)).toBe(false);
  });

  it('handles 100 000 levels without recursion, quickly', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const t = performance.now();
    expect(jsonNestsDeeperThan(deep, 16)).toBe(true);
    expect(jsonNestsDeeperThan(deep, 100_000)).toBe(false);
    expect(performance.now() - t).toBeLessThan(1000);
  });
});

describe('streamDataset', () => {
  const users = makeUsers(5);
  const lines = users.map(serializeUser);

  it('yields users one at a time, pulling lines only as they are needed', async () => {
    const src = countingChunks(lines.map((l) => `${l}\n`));
    const it = streamDataset(splitLines(src.source), 'users.jsonl');
    const first = await it.next();
    expect(first.value).toEqual(users[0]);
    expect(src.read()).toBeLessThanOrEqual(2);
    expect(await collect(it)).toEqual(users.slice(1));
  });

  it('stops yielding at the first bad line, keeps checking, then throws naming lines and reasons only', async () => {
    const secret = '[SECRET-IN-THE-FILE';
    const yielded: unknown[] = [];
    const err = await datasetError(
      (async () => {
        for await (const u of streamDataset([lines[0] ?? '', secret, lines[1] ?? '', '{"userId":"SECRET-ID","history":3}', lines[0] ?? ''], 'd.jsonl')) yielded.push(u);
      })(),
    );
    expect(yielded).toEqual([users[0]]);
    expect(err.issues.map((i) => i.line)).toEqual([2, 4, 5]);
    expect(err.issues[0]?.message).toMatch(/^invalid JSON/);
    expect(err.issues[2]?.message).toBe('userId: duplicate of line 1');
    expect(err.message).not.toContain('SECRET');
  });

  it('refuses a line over the cap and stops reading the file there', async () => {
    const chunks = [`${lines[0]}\n`, 'x'.repeat(600), 'x'.repeat(600), ...Array.from({ length: 100 }, () => 'y'.repeat(100))];
    const src = countingChunks(chunks);
    const err = await datasetError(readDataset(splitLines(src.source, 1000), 'big.jsonl', { maxLineChars: 1000 }));
    expect(err.issues).toEqual([{ line: 2, message: 'line is longer than 1000 characters' }]);
    expect(src.read()).toBe(3);
  });

  it('refuses deep nesting before JSON.parse, and an empty input', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const err = await datasetError(readDataset([deep], 'deep.jsonl'));
    expect(err.issues).toEqual([{ line: 1, message: 'JSON nests deeper than 16 levels' }]);
    await expect(readDataset(['', '  '])).rejects.toThrow('no users');
  });
});

describe('evaluateMethods on a stream', () => {
  const pipeline = pipelineOptions(loadConfig({}));
  const users = makeUsers(24, { decoy: true });

  it('gives the same result as on an array, keeping no per-user objects and at most `concurrency` users in flight', async () => {
    const opts = { pipeline, promptText: START_PROMPT, historyLength: 5, concurrency: 3, seed: 4 };
    const whole = await evaluateMethods(users, ['base', 'direct', 'agp'], { ...opts, llm: createWorldLlm(keywordPolicy()) });
    let pulled = 0;
    let done = 0;
    let maxAhead = 0;
    const stream = (async function* () {
      for (const u of users) {
        pulled += 1;
        maxAhead = Math.max(maxAhead, pulled - Math.floor(done / 3));
        yield u;
      }
    })();
    const streamed = await evaluateMethods(stream, ['base', 'direct', 'agp'], {
      ...opts,
      llm: createWorldLlm(keywordPolicy()),
      keepPerUser: false,
      onUser: (d) => (done = d),
    });
    expect(summarizeEvaluation(streamed)).toEqual(summarizeEvaluation(whole));
    expect(streamed.methods.direct?.vsBase).toEqual(whole.methods.direct?.vsBase);
    expect(streamed.methods.agp?.perUser).toEqual([]);
    expect(whole.methods.agp?.perUser).toHaveLength(24);
    expect(done).toBe(72);
    // Users are pulled as slots free up: never more than the 3 slots (+ the one being pulled) ahead.
    expect(maxAhead).toBeLessThanOrEqual(4);
  });
});
