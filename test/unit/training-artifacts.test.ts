/** Training job artifacts in memory, and the writer a running job uses: bounds, ordering, no failures. */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/agp/ports.js';
import type { TraceEntry } from '../../src/agp/trace.js';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { train } from '../../src/agp/trainer.js';
import { MAX_REPORT_BYTES, MAX_TRACE_BYTES, boundReport, createArtifactWriter, createMemoryTrainingArtifacts } from '../../src/jobs/training-artifacts.js';
import type { TrainingArtifactStore } from '../../src/jobs/training-artifacts.js';
import { createWorldLlm, keywordPolicy, makeUsers, START_PROMPT } from '../../testkit/synthetic-world.js';

const entry = (seq: number): TraceEntry => ({ seq, role: 'profile', model: 'm', requestHash: `h${seq}`, response: 'r', promptTokens: 1, completionTokens: 1, latencyMs: 1 });

describe('in-memory artifacts', () => {
  it('stops a trace at its bound and marks it truncated', async () => {
    const store = createMemoryTrainingArtifacts();
    const mib = `${'x'.repeat(1024 * 1024 - 1)}\n`;
    for (let i = 0; i < MAX_TRACE_BYTES / mib.length; i++) await store.appendTrace('j', mib);
    await store.appendTrace('j', '{"seq":9}\n');
    const t = await store.trace('j');
    expect(t?.truncated).toBe(true);
    expect(t?.jsonl.length).toBe(MAX_TRACE_BYTES);
  });

  it('drops the least recently used job once all jobs together pass the budget', async () => {
    const store = createMemoryTrainingArtifacts({ maxBytes: 1000 });
    await store.appendTrace('old', 'a'.repeat(600));
    await store.appendTrace('new', 'b'.repeat(600));
    expect(await store.trace('old')).toBeNull();
    expect((await store.trace('new'))?.jsonl).toHaveLength(600);
  });

  it('cuts a report at its bound and says so', () => {
    const r = boundReport({ markdown: 'x'.repeat(MAX_REPORT_BYTES + 10), svg: '<svg/>' });
    expect(Buffer.byteLength(r.markdown)).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    expect(r.markdown).toMatch(/report truncated at \d+ bytes/);
  });
});

describe('artifact writer', () => {
  const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

  it('writes the whole trace, in order, before the report', async () => {
    const store = createMemoryTrainingArtifacts();
    const writes: string[] = [];
    const spy: TrainingArtifactStore = {
      ...store,
      appendTrace: (id, lines) => (writes.push('trace'), store.appendTrace(id, lines)),
      saveReport: (id, r) => (writes.push('report'), store.saveReport(id, r)),
    };
    const w = createArtifactWriter(spy, 'j', silent);
    const result = await train(
      { users: makeUsers(8, { decoy: true }), validation: makeUsers(4, { decoy: true, offset: 100 }), initialPrompt: START_PROMPT, params: { batchSize: 4, trainUsers: 8, epochs: 1, patience: 0 }, pipeline: pipelineOptions(loadConfig({})) },
      { llm: createWorldLlm(keywordPolicy()), traceSink: w.traceSink },
    );
    await w.saveReport(result, null);
    const lines = (await store.trace('j'))?.jsonl.trim().split('\n') ?? [];
    expect(lines.map((l) => (JSON.parse(l) as TraceEntry).seq)).toEqual(lines.map((_, i) => i));
    expect(lines).toHaveLength(result.metrics.llmCalls);
    expect(writes.at(-1)).toBe('report');
    expect((await store.report('j'))?.markdown).toContain('# AGP training report');
  });

  it('logs, never throws, when the store fails', async () => {
    const warned: string[] = [];
    const log: Logger = { ...silent, warn: (_o, msg) => void warned.push(msg ?? '') };
    const failing: TrainingArtifactStore = { ...createMemoryTrainingArtifacts(), appendTrace: () => Promise.reject(new Error('down')) };
    const w = createArtifactWriter(failing, 'j', log);
    w.traceSink(entry(0));
    await expect(w.flush()).resolves.toBeUndefined();
    expect(warned).toEqual(['training trace not stored']);
  });
});
