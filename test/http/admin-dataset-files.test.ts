/**
 * Hostile dataset files given to POST /admin/v1/training-jobs (issue 9, item 10): each is a 400
 * VALIDATION_ERROR naming the line and the reason, never echoing the file's content, and read with
 * bounded memory (size checked before reading, lines streamed with a length cap, nesting bounded before
 * JSON.parse). Big files are made sparse, so the test itself holds none of it.
 */
import { open, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DATASET_BYTES, MAX_JSON_ARRAY_DATASET_BYTES } from '../../src/jobs/dataset-files.js';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { dragonUsers, trainingScript } from '../support/training-script.js';

const TOKEN = 'admin-token-0123456789abcdef';
const SECRET = 'SECRET-IN-THE-FILE';
const tinyParams = { epochs: 1, batchSize: 3, verifySteps: 0, patience: 0, concurrency: 2 };

let double: LlmDouble;
let t: TestApp;
let dataDir: string;

/** A file of `size` bytes that starts with `prefix` and is zeros (a hole) after it. */
async function sparseFile(name: string, size: number, prefix = ''): Promise<void> {
  const fh = await open(join(dataDir, name), 'w');
  try {
    if (prefix) await fh.write(prefix);
    await fh.truncate(size);
  } finally {
    await fh.close();
  }
}

const submit = (path: string) =>
  t.app.inject({
    method: 'POST',
    url: '/admin/v1/training-jobs',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { domain: 'files', dataset: { path }, params: tinyParams },
  });

/** Submits and samples this process's RSS while the request runs; returns the answer and the peak rise. */
async function submitMeasured(path: string): Promise<{ res: Awaited<ReturnType<typeof submit>>; rssRiseMiB: number }> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  try {
    const res = await submit(path);
    peak = Math.max(peak, process.memoryUsage().rss);
    return { res, rssRiseMiB: (peak - before) / 1048576 };
  } finally {
    clearInterval(timer);
  }
}

function expectCleanRejection(res: Awaited<ReturnType<typeof submit>>, message: RegExp): void {
  expect(res.statusCode).toBe(400);
  const body = res.json();
  expect(body.error.code).toBe('VALIDATION_ERROR');
  expect(body.error.message).toMatch(message);
  // Nothing of the file is echoed: not in the message, not in the details.
  expect(res.body).not.toContain(SECRET);
  expect(res.body).not.toContain('\\u0000');
}

beforeAll(async () => {
  double = await startLlmDouble();
  double.script(trainingScript);
  dataDir = await mkdtemp(join(tmpdir(), 'agp-dataset-files-'));
  t = await buildTestApp({
    env: {
      ADMIN_TOKEN: TOKEN,
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-test',
      LLM_MODEL: 'test-model',
      TRAINING_DATA_DIR: dataDir,
      BREAKER_FAILURE_THRESHOLD: '1000',
    },
  });
});

afterAll(async () => {
  await t?.close();
  await double?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('dataset files given to a training job', () => {
  it('a JSON array nested 100 000 deep (200 KB) is a 400, not a stack overflow', async () => {
    await writeFile(join(dataDir, 'deep.json'), `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expectCleanRejection(await submit('deep.json'), /deep\.json": JSON nests deeper than 17 levels/);
    // The same depth inside one JSONL row.
    await writeFile(join(dataDir, 'deep.jsonl'), `{"userId":"u1","history":${'['.repeat(100_000)}${']'.repeat(100_000)}}\n`);
    expectCleanRejection(await submit('deep.jsonl'), /deep\.jsonl:1: JSON nests deeper than 16 levels/);
  });

  it('a 512 MiB file is refused by its size before it is read', async () => {
    await sparseFile('huge.jsonl', 512 * 1024 * 1024, SECRET);
    const { res, rssRiseMiB } = await submitMeasured('huge.jsonl');
    expectCleanRejection(res, new RegExp(`"huge\\.jsonl" is larger than ${MAX_DATASET_BYTES} bytes`));
    expect(rssRiseMiB).toBeLessThan(100);
  });

  it('a file at the size cap holding one endless line is refused after reading only the cap, in bounded memory', async () => {
    await sparseFile('one-line.jsonl', MAX_DATASET_BYTES, SECRET);
    const { res, rssRiseMiB } = await submitMeasured('one-line.jsonl');
    expectCleanRejection(res, /one-line\.jsonl:1: line is longer than \d+ characters/);
    expect(rssRiseMiB).toBeLessThan(100);
  });

  it('non-JSON content is named by line and reason, never quoted', async () => {
    await writeFile(join(dataDir, 'array-junk.json'), `[${SECRET} and more secrets`);
    expectCleanRejection(await submit('array-junk.json'), /array-junk\.json" is not valid JSON$/);
    const good = JSON.stringify(dragonUsers(1)[0]);
    await writeFile(join(dataDir, 'lines-junk.jsonl'), `${good}\n${SECRET}\n{"userId":"${SECRET}","history":[],"candidates":[]}\n`);
    const res = await submit('lines-junk.jsonl');
    expectCleanRejection(res, /lines-junk\.jsonl:2: invalid JSON/);
    expect(res.json().error.message).toMatch(/lines-junk\.jsonl:3: candidates: /);
  });

  it('a JSON array file over its own cap is refused by size; a small one is still accepted', async () => {
    await sparseFile('big-array.json', MAX_JSON_ARRAY_DATASET_BYTES + 1, `[${SECRET}`);
    expectCleanRejection(await submit('big-array.json'), /JSON array larger than \d+ bytes; use JSONL/);
    await writeFile(join(dataDir, 'six.json'), JSON.stringify(dragonUsers(6)));
    const ok = await submit('six.json');
    expect(ok.statusCode).toBe(202);
    await writeFile(join(dataDir, 'six.jsonl'), `${dragonUsers(6, 'v').map((u) => JSON.stringify(u)).join('\r\n')}\r\n`);
    expect((await submit('six.jsonl')).statusCode).toBe(202);
  });
});
