/**
 * The training report and progress display: the chart's text fits its canvas, per-role call counts are
 * training calls only, one tally of batch decisions everywhere, the prompt diff reads like a unified
 * diff, "batch" means the same thing on a TTY and off it, and trace entries name the model.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { train } from '../../src/agp/trainer.js';
import type { TrainingProgress, TrainingResult } from '../../src/agp/trainer.js';
import { createTracingLlm } from '../../src/agp/trace.js';
import type { TraceEntry } from '../../src/agp/trace.js';
import { createTrainingProgress, statusText } from '../../src/cli/progress.js';
import { lineChartSvg } from '../../src/report/ndcg-chart-svg.js';
import { sentenceDiff, sentences } from '../../src/report/prompt-diff.js';
import { renderTrainingReport, trainingChartSvg } from '../../src/report/training-report.js';
import { createScriptedLlm } from '../../testkit/scripted-llm.js';
import { START_PROMPT, keywordPolicy, makeUsers, worldAnswer } from '../../testkit/synthetic-world.js';

const pipeline = pipelineOptions(loadConfig({}));

/** A run on the synthetic world; `editAnswer` replaces the edit step's answer when given. */
async function run(editAnswer?: string): Promise<TrainingResult> {
  const world = worldAnswer(keywordPolicy());
  const llm = createScriptedLlm((req) => (req.role === 'edit' && editAnswer !== undefined ? editAnswer : world(req)));
  return train(
    {
      users: makeUsers(16, { decoy: true }),
      validation: makeUsers(4, { decoy: true, offset: 100 }),
      initialPrompt: START_PROMPT,
      params: { batchSize: 4, trainUsers: 16, epochs: 2, concurrency: 4, patience: 0 },
      pipeline,
    },
    { llm },
  );
}

/**
 * Every <text> of an SVG with its estimated horizontal and vertical extent. Independent of the chart's
 * own estimate: 0.6 em per character, the usual average advance of a sans-serif font.
 */
function textBoxes(svg: string): Array<{ text: string; x0: number; x1: number; y0: number; y1: number }> {
  const root = /font-size="(\d+)"/.exec(svg);
  return [...svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)].map((m) => {
    const attrs = m[1] ?? '';
    const text = (m[2] ?? '').replace(/&\w+;/g, '_');
    const num = (name: string) => Number(new RegExp(`\\b${name}="([\\d.-]+)"`).exec(attrs)?.[1] ?? 0);
    const size = Number(/font-size="(\d+)"/.exec(attrs)?.[1] ?? root?.[1] ?? 16);
    const w = text.length * size * 0.6;
    const anchor = /text-anchor="(\w+)"/.exec(attrs)?.[1] ?? 'start';
    const rotated = /translate\(([\d.]+) ([\d.]+)\) rotate\(-90\)/.exec(attrs);
    if (rotated) {
      const [x, y] = [Number(rotated[1]), Number(rotated[2])];
      return { text, x0: x - size, x1: x, y0: y - w / 2, y1: y + w / 2 };
    }
    const [x, y] = [num('x'), num('y')];
    const x0 = anchor === 'middle' ? x - w / 2 : anchor === 'end' ? x - w : x;
    return { text, x0, x1: x0 + w, y0: y - size, y1: y };
  });
}

function viewBox(svg: string): { w: number; h: number } {
  const m = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg);
  if (!m) throw new Error('no viewBox');
  return { w: Number(m[1]), h: Number(m[2]) };
}

/** The cells of every row of the Markdown table whose header line contains `header`. */
function tableRows(md: string, header: string): string[][] {
  const lines = md.split('\n');
  const at = lines.findIndex((l) => l.startsWith('|') && l.includes(header));
  const rows: string[][] = [];
  for (const l of lines.slice(at + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(l.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

describe('ndcg.svg', () => {
  it('keeps every text inside the viewBox, whatever the legend and title say', async () => {
    const r = await run();
    const long = lineChartSvg(
      [
        { name: 'a very long series name for the legend', color: '#000', points: [[0, 0.2], [3, 0.4]] },
        { name: 'x', color: '#111', points: [[1, 0.3]] },
      ],
      { title: 'A title long enough to be wider than the plot area of the default chart, surely', xLabel: 'epoch', yLabel: 'NDCG@10' },
    );
    for (const svg of [trainingChartSvg(r), long]) {
      const box = viewBox(svg);
      const texts = textBoxes(svg);
      expect(texts.length).toBeGreaterThan(5);
      for (const t of texts) {
        expect({ t: t.text, x0: t.x0 >= 0, x1: t.x1 <= box.w, y0: t.y0 >= 0, y1: t.y1 <= box.h }).toEqual({ t: t.text, x0: true, x1: true, y0: true, y1: true });
      }
    }
  });
});

describe('training report', () => {
  it('counts per-role calls for training only, with validation calls in their own column', async () => {
    const r = await run();
    for (const e of r.epochs) {
      const roles = Object.values(e.byRole).reduce((a, b) => a + b, 0);
      expect(roles).toBe(e.byPhase.train);
      expect(e.byPhase.validate).toBe(8); // 4 validation users × (profile + rerank)
    }
    const rows = tableRows(renderTrainingReport(r, null), 'measured (training)');
    expect(rows).toHaveLength(r.epochs.length);
    for (const [i, row] of rows.entries()) {
      const [, , training, validation, ...roles] = row.map(Number);
      expect(validation).toBe(r.epochs[i]?.byPhase.validate);
      expect(roles.reduce((a, b) => a + b, 0)).toBe(training);
    }
  });

  it('tells one story about rejected and unusable edits in every table', async () => {
    const r = await run('I would rather not rewrite the prompt.'); // no <prompt> block: every edit is unusable
    const md = renderTrainingReport(r, null);
    const unusable = r.batches.filter((b) => b.decision === 'edit_unusable').length;
    expect(unusable).toBeGreaterThan(0);
    const header = (md.split('\n').find((l) => l.includes('| train NDCG@10 |')) ?? '').split('|').slice(1, -1).map((c) => c.trim());
    const epochRows = tableRows(md, '| train NDCG@10 |').slice(1); // epoch 0 is the initial prompt
    const sum = (name: string) => epochRows.reduce((n, row) => n + Number(row[header.indexOf(name)]), 0);
    expect(sum('rejected')).toBe(0);
    expect(sum('unusable')).toBe(unusable);
    expect(md).toContain(`0 rejected by verification, ${unusable} unusable`);
    expect(r.epochs.reduce((n, e) => n + e.rejected, 0)).toBe(0);
    expect(r.epochs.reduce((n, e) => n + e.unusable, 0)).toBe(unusable);
  });
});

describe('prompt diff', () => {
  it('prints removed sentences before added ones and keeps "Step 1:" whole', () => {
    const before = 'Step 1: read the history. Keep it short. Be kind.';
    const after = 'Step 1: read the history. Name the genre. Be brief. Be kind.';
    expect(sentences(before)).toEqual(['Step 1: read the history.', 'Keep it short.', 'Be kind.']);
    expect(sentences('Steps: 1. Read. 2. Write.')).toEqual(['Steps: 1. Read.', '2. Write.']);
    expect(sentenceDiff(before, after).split('\n')).toEqual([
      '  Step 1: read the history.',
      '- Keep it short.',
      '+ Name the genre.',
      '+ Be brief.',
      '  Be kind.',
    ]);
  });
});

describe('progress', () => {
  const p: TrainingProgress = { epoch: 2, batch: 3, totalBatches: 8, llmCalls: 40, tokens: 900, etaSeconds: 75, phase: 'batch' };

  it('counts batches within the epoch, on a terminal and off it', () => {
    expect(statusText(p, 3)).toBe('epoch 2/3 | batch 3/8 of this epoch | batch | LLM calls 40 | tokens 900 | ETA 1m15s');
    for (const isTTY of [true, false]) {
      let text = '';
      const stream = Object.assign(
        new Writable({
          write(chunk: Buffer, _enc, cb) {
            text += chunk.toString('utf8');
            cb();
          },
        }),
        { isTTY, columns: 200, cursorTo: () => true, clearLine: () => true, moveCursor: () => true },
      ) as unknown as NodeJS.WriteStream;
      const display = createTrainingProgress({ enabled: true, epochs: 3, stream });
      display.update(p);
      display.stop();
      expect(text).toContain('batch 3/8 of this epoch');
      expect(text).not.toContain('11/24'); // the run-wide count the bar used to print
    }
  });
});

describe('trace', () => {
  it('records the model that answered when the default model was requested', async () => {
    const entries: TraceEntry[] = [];
    const inner = createScriptedLlm(() => 'ok');
    const traced = createTracingLlm({ configured: true, complete: async (req) => ({ ...(await inner.complete(req)), model: 'gpt-sim' }) }, (e) => entries.push(e));
    await traced.complete({ role: 'profile', messages: [{ role: 'user', content: 'x' }], deadline: Date.now() + 1000 });
    expect(entries[0]?.model).toBe('gpt-sim');
  });
});
