import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromptVersion } from '../../src/agp/ports.js';
import {
  loadPromptFile,
  newestPerDomain,
  parsePromptFile,
  PromptFileError,
  serializePrompts,
} from '../../src/store/prompt-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agp-prompt-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const full: PromptVersion = {
  domain: 'movies',
  version: 'v2',
  text: 'Describe the user.',
  parentVersion: 'v1',
  createdAt: '2025-01-02T03:04:05.000Z',
  historyLength: 20,
  params: { lr: 1 },
  metrics: { bestValNdcg: 0.4, valNdcgPerEpoch: [0.3, 0.4] },
};

describe('loadPromptFile', () => {
  it('reads a single object and fills the defaults', async () => {
    const before = Date.now();
    const [v, ...rest] = await loadPromptFile(await write('one.json', { domain: 'd', version: 'v1', text: 't' }));
    expect(rest).toHaveLength(0);
    expect(v).toMatchObject({ domain: 'd', version: 'v1', text: 't', parentVersion: null, historyLength: 10 });
    expect(Date.parse(v!.createdAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('reads an array and the {prompts:[...]} export format', async () => {
    const arr = await loadPromptFile(await write('arr.json', [full, { ...full, version: 'v3' }]));
    expect(arr.map((v) => v.version)).toEqual(['v2', 'v3']);
    const wrapped = await loadPromptFile(await write('wrapped.json', { prompts: [full] }));
    expect(wrapped).toEqual([full]);
  });

  it('round-trips serializePrompts, dropping the list-only active flag', async () => {
    const text = serializePrompts([{ ...full, active: true } as PromptVersion]);
    expect(text).toContain('\n  "prompts": [');
    expect(JSON.parse(text)).toEqual({ prompts: [full] });
    expect(await loadPromptFile(await write('roundtrip.json', text))).toEqual([full]);
  });

  it.each([
    [{ domain: '', version: 'v', text: 't' }, /domain must not be empty/],
    [{ domain: 'd', version: '  ', text: 't' }, /version must not be empty/],
    [{ domain: 'd', version: 'v', text: '' }, /text must not be empty/],
    [{ domain: 'd', version: 'v' }, /text must be a string/],
    [{ domain: 'd', version: 'v', text: 't', historyLength: 0 }, /historyLength must be at least 1/],
    [{ domain: 'd', version: 'v', text: 't', historyLength: 201 }, /historyLength must be at most 200/],
    [{ domain: 'd', version: 'v', text: 't', historyLength: 2.5 }, /historyLength must be an integer/],
    [{ domain: 'd', version: 'v', text: 't', createdAt: 'yesterday' }, /createdAt/],
  ])('rejects %j with a clear message naming the file', async (content, message) => {
    const path = await write('bad.json', content);
    const err = await loadPromptFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromptFileError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(message);
  });

  it('points at the offending element of a list', async () => {
    const path = await write('list-bad.json', { prompts: [full, { ...full, version: 'v9', historyLength: 500 }] });
    await expect(loadPromptFile(path)).rejects.toThrow(/prompts\[1\]\.historyLength: historyLength must be at most 200/);
  });

  it('reports invalid JSON, a missing file and a wrong top-level shape', async () => {
    await expect(loadPromptFile(await write('broken.json', '{"prompts": ['))).rejects.toThrow(/broken\.json: invalid JSON/);
    await expect(loadPromptFile(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: cannot read/);
    await expect(loadPromptFile(await write('num.json', '42'))).rejects.toThrow(/num\.json: expected a prompt version/);
    await expect(loadPromptFile(await write('p.json', { prompts: 'x' }))).rejects.toThrow(/"prompts" must be an array/);
  });

  it('rejects the same version twice with different text but tolerates an exact duplicate', () => {
    expect(() => parsePromptFile([full, { ...full, text: 'other' }], 'f.json')).toThrow(/movies\/v2 appears twice/);
    expect(parsePromptFile([full, full], 'f.json')).toHaveLength(1);
  });
});

describe('newestPerDomain', () => {
  it('picks the latest createdAt per domain', () => {
    const picked = newestPerDomain([
      { ...full, version: 'a', createdAt: '2025-01-01T00:00:00.000Z' },
      { ...full, version: 'b', createdAt: '2025-03-01T00:00:00.000Z' },
      { ...full, version: 'c', createdAt: '2025-02-01T00:00:00.000Z' },
      { ...full, domain: 'books', version: 'x' },
    ]);
    expect(picked.map((v) => `${v.domain}/${v.version}`).sort()).toEqual(['books/x', 'movies/b']);
  });
});
