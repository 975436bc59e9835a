/**
 * Token cost of a rerank: prompt and completion tokens per rerank at 10, 20 and 100 candidates, for the
 * `full` and `compact` candidate formats (src/agp/candidate-format.ts), and whether compact keeps NDCG@10
 * parity. Everything runs through the REAL pipeline (generateProfile, rankCandidates with the configured
 * window 20 / step 10) and the REAL openai-SDK client against the LLM double (testkit/llm-double.ts).
 *
 * Tokens are what the double reports in `usage`: characters / 4, rounded up, per message set (no tokenizer
 * is installed; for English prose, BPE tokenizers of GPT-4-class models land near 4 characters a token, and
 * `[n]` labels and digits cost relatively more). Treat the figures as estimates of the ratio, not of a bill.
 *
 * Users: the taste world (testkit/taste-world.ts), whose 10 candidates are padded with random items to 20 and
 * 100, and each candidate gets a catalogue text of about 300 characters (its mood, genre, era and setting in
 * other words, plus boilerplate), as item descriptions in real catalogues carry. The double ranks by word
 * overlap with the profile, so it reads the text too.
 *
 *   npx tsx bench/token-cost.ts [--users 100] [--sizes 10,20,100] [--out bench/results/token-cost.json]
 *                               [--write-data DIR]   (also writes DIR/{full,compact}-<n>.jsonl for `agp eval`)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CandidateFormat } from '../src/agp/candidate-format.js';
import { CANDIDATE_FORMATS, formatCandidates } from '../src/agp/candidate-format.js';
import type { UserRecord } from '../src/agp/dataset.js';
import { serializeUser } from '../src/agp/dataset.js';
import { selectHistory } from '../src/agp/history.js';
import { pairedBootstrap, scoreRanking } from '../src/agp/metrics.js';
import { generateProfile, newContext, rankCandidates, withTextSanitiser } from '../src/agp/pipeline.js';
import { BUILTIN_ACTIVE_PROMPT } from '../src/agp/prompts.js';
import { createRng } from '../src/agp/rng.js';
import type { Item } from '../src/agp/types.js';
import { loadConfig, pipelineOptions } from '../src/config.js';
import { createLlmFromConfig } from '../src/runtime/llm.js';
import { startLlmDouble } from '../testkit/llm-double.js';
import { ASPECTS, attrsOf, tasteWorldUsers, titleOf } from '../testkit/taste-world.js';

const { values: v } = parseArgs({
  options: {
    users: { type: 'string', default: '100' },
    sizes: { type: 'string', default: '10,20,100' },
    out: { type: 'string', default: 'bench/results/token-cost.json' },
    'write-data': { type: 'string' },
  },
  strict: true,
});
const USERS = Number(v.users);
const SIZES = v.sizes.split(',').map(Number);

const BLURBS = [
  'Restored edition with a new audio commentary, deleted scenes and a booklet of essays.',
  'Running time about 110 minutes; subtitles in twelve languages; region free.',
  'Winner of two festival prizes; the cast includes several newcomers in their first leading roles.',
  'Adapted from a bestselling novel; the score was recorded with a full orchestra.',
];

/** A catalogue text for a taste-world title: its attributes in other words, plus boilerplate. */
function describe(title: string, i: number): string {
  const a = attrsOf(title);
  const core = a ? `A ${a.mood} ${a.genre} story from the ${a.era}, set in and around ${a.setting[0]?.toUpperCase()}${a.setting.slice(1)}.` : 'A story.';
  return `${core} ${BLURBS[i % BLURBS.length]} ${BLURBS[(i + 1) % BLURBS.length]}`;
}

/** The world's users with `n` candidates each: the 10 of the world plus random items, shuffled, all with a text. */
function usersWith(n: number): UserRecord[] {
  const rng = createRng(`token-cost:${n}`);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T;
  return tasteWorldUsers(USERS, { seed: 3 }).map((u) => {
    const extra: Item[] = Array.from({ length: Math.max(0, n - u.candidates.length) }, (_, k) => ({
      id: `x${u.userId}-${k}`,
      title: titleOf(`Extra ${k + 1}`, { genre: pick(ASPECTS.genre.values), era: pick(ASPECTS.era.values), mood: pick(ASPECTS.mood.values), setting: pick(ASPECTS.setting.values) }),
    }));
    const candidates = rng.shuffle([...u.candidates, ...extra]).slice(0, n).map((c, i) => ({ ...c, text: describe(c.title, i) }));
    return { ...u, candidates, targets: u.targets.filter((t) => candidates.some((c) => c.id === t)) };
  }).filter((u) => u.targets.length > 0);
}

/**
 * The control: the same users with the attributes moved out of the titles into the texts. Compact must lose
 * NDCG here, or the parity above would only show that the harness cannot see candidate text at all.
 */
function signalInTextOnly(users: UserRecord[]): UserRecord[] {
  return users.map((u) => ({
    ...u,
    candidates: u.candidates.map((c, i) => ({ ...c, title: c.title.split(',')[0] ?? c.title, text: describe(c.title, i) })),
  }));
}

interface Cell {
  candidates: number;
  format: CandidateFormat;
  users: number;
  rerankCallsPerRerank: number;
  promptTokensPerRerank: number;
  completionTokensPerRerank: number;
  profileCall: { promptTokens: number; completionTokens: number };
  ndcg10: number;
}

const double = await startLlmDouble({ models: ['double-model'] });
const config = loadConfig({ LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-bench', LLM_MODEL: 'double-model', LOG_LEVEL: 'silent' });
const llm = createLlmFromConfig(config, { use: 'training' });
const pipeline = withTextSanitiser(pipelineOptions(config));
const prompt = BUILTIN_ACTIVE_PROMPT;
const cells: Cell[] = [];
let control: { candidates: number; fullNdcg: number; compactNdcg: number; meanDiff: number; ci95: [number, number]; pValue: number } | undefined;
const parity: Array<{ candidates: number; fullNdcg: number; compactNdcg: number; meanDiff: number; ci95: [number, number]; pValue: number; promptSaving: number }> = [];
try {
  for (const n of SIZES) {
    const users = usersWith(n);
    if (v['write-data']) {
      await mkdir(v['write-data'], { recursive: true });
      for (const f of CANDIDATE_FORMATS) {
        const lines = users.map((u) => serializeUser({ ...u, candidates: formatCandidates(u.candidates, f) }));
        await writeFile(join(v['write-data'], `${f}-${n}.jsonl`), `${lines.join('\n')}\n`);
      }
    }
    const ndcgs: Partial<Record<CandidateFormat, number[]>> = {};
    await measure(n, users, ndcgs, cells);
    const full = ndcgs.full ?? [];
    const compact = ndcgs.compact ?? [];
    const d = pairedBootstrap(compact, full, { seed: 1 });
    const cf = cells.find((c) => c.candidates === n && c.format === 'full');
    const cc = cells.find((c) => c.candidates === n && c.format === 'compact');
    parity.push({
      candidates: n,
      fullNdcg: cf?.ndcg10 ?? 0,
      compactNdcg: cc?.ndcg10 ?? 0,
      ...d,
      promptSaving: cf && cc ? 1 - cc.promptTokensPerRerank / cf.promptTokensPerRerank : 0,
    });
  }
  // The control, at the first size only.
  const n0 = SIZES[0] ?? 10;
  const ctl: Partial<Record<CandidateFormat, number[]>> = {};
  const ctlCells: Cell[] = [];
  await measure(n0, signalInTextOnly(usersWith(n0)), ctl, ctlCells);
  const cd = pairedBootstrap(ctl.compact ?? [], ctl.full ?? [], { seed: 1 });
  control = { candidates: n0, fullNdcg: ctlCells[0]?.ndcg10 ?? 0, compactNdcg: ctlCells[1]?.ndcg10 ?? 0, ...cd };
} finally {
  await double.close();
}

async function measure(n: number, users: UserRecord[], ndcgs: Partial<Record<CandidateFormat, number[]>>, into: Cell[]): Promise<void> {
  for (const format of CANDIDATE_FORMATS) {
    const sum = { calls: 0, prompt: 0, completion: 0, pPrompt: 0, pCompletion: 0 };
    const perUser: number[] = [];
    for (const u of users) {
      const history = selectHistory(u.history, prompt.historyLength);
      const pctx = newContext(llm, pipeline, Date.now() + 60_000);
      const profile = await generateProfile(pctx, prompt.text, history);
      sum.pPrompt += pctx.usage.promptTokens;
      sum.pCompletion += pctx.usage.completionTokens;
      const ctx = newContext(llm, pipeline, Date.now() + 60_000);
      const res = await rankCandidates(ctx, { method: 'agp', candidates: formatCandidates(u.candidates, format), history, profile });
      sum.calls += ctx.usage.llmCalls;
      sum.prompt += ctx.usage.promptTokens;
      sum.completion += ctx.usage.completionTokens;
      perUser.push(scoreRanking(res.order.map((i) => u.candidates[i]?.id ?? ''), u.targets)['ndcg@10']);
    }
    const k = users.length;
    ndcgs[format] = perUser;
    into.push({
      candidates: n,
      format,
      users: k,
      rerankCallsPerRerank: sum.calls / k,
      promptTokensPerRerank: sum.prompt / k,
      completionTokensPerRerank: sum.completion / k,
      profileCall: { promptTokens: sum.pPrompt / k, completionTokens: sum.pCompletion / k },
      ndcg10: perUser.reduce((a, b) => a + b, 0) / k,
    });
  }
}

const f0 = (x: number) => x.toFixed(0);
const lines = [
  '| candidates | format | LLM calls / rerank | prompt tokens / rerank | completion tokens / rerank | NDCG@10 |',
  '|---:|---|---:|---:|---:|---:|',
  ...cells.map((c) => `| ${c.candidates} | ${c.format} | ${c.rerankCallsPerRerank.toFixed(1)} | ${f0(c.promptTokensPerRerank)} | ${f0(c.completionTokensPerRerank)} | ${c.ndcg10.toFixed(3)} |`),
  '',
  '| candidates | prompt tokens saved by compact | ΔNDCG@10 compact − full [CI95] | p |',
  '|---:|---:|---|---:|',
  ...parity.map((p) => `| ${p.candidates} | ${(100 * p.promptSaving).toFixed(1)} % | ${p.meanDiff >= 0 ? '+' : ''}${p.meanDiff.toFixed(4)} [${p.ci95[0].toFixed(4)}, ${p.ci95[1].toFixed(4)}] | ${p.pValue.toFixed(3)} |`),
];
const profile = cells[0]?.profileCall;
if (control) {
  lines.push('', `control (attributes only in the text, ${control.candidates} candidates): NDCG@10 full ${control.fullNdcg.toFixed(3)}, compact ${control.compactNdcg.toFixed(3)}, Δ ${control.meanDiff.toFixed(4)} [${control.ci95[0].toFixed(4)}, ${control.ci95[1].toFixed(4)}] p=${control.pValue.toFixed(3)}`);
}
process.stdout.write(`${lines.join('\n')}\n\nprofile call (once per user, cached after): ${f0(profile?.promptTokens ?? 0)} prompt + ${f0(profile?.completionTokens ?? 0)} completion tokens\n`);
await mkdir(dirname(v.out), { recursive: true });
await writeFile(v.out, `${JSON.stringify({ generatedAt: new Date().toISOString(), tokenEstimate: 'characters / 4 (LLM double usage)', users: USERS, cells, parity, control }, null, 2)}\n`);
process.stdout.write(`wrote ${v.out}\n`);
