/**
 * The loop world (testkit/loop-world.ts) and the taste world's sabotage (testkit/taste-world.ts) that the
 * closed-loop tests stand on: reproducible users, fresh candidate lists, the click model's position effect,
 * the test's own NDCG@10, and a contrarian profile that ranks the truly liked item last.
 */
import { describe, expect, it } from 'vitest';
import { answerFor, startLlmDouble, type RecordedCall } from '../../testkit/llm-double.js';
import { createLoopWorld, DEFAULT_CLICK_MODEL, httpTransport, ndcgAt10, WEAK_PROMPT } from '../../testkit/loop-world.js';
import { ASPECTS, aspectsAskedBy, sabotagedEdit, SABOTAGE_LINE } from '../../testkit/taste-world.js';

const call = (role: RecordedCall['role'], user: string): RecordedCall => ({
  role,
  model: 'm',
  messages: [{ role: 'user', content: user }],
  response_format: undefined,
  max_tokens: undefined,
  temperature: undefined,
  headers: { authorization: undefined },
  mode: 'ok',
  at: 0,
});

/** The double's served order for `ids`/`titles` under a profile written with `prompt` from `history`. */
function servedOrder(prompt: string, history: Array<{ title: string }>, candidates: Array<{ id: string; title: string }>, contrarian: 'follow' | 'ignore' = 'follow'): string[] {
  const profileCall = call('profile', `${prompt}\n\n<history>\n${history.map((h) => `- ${h.title}`).join('\n')}\n</history>\n\nReply with the profile only.`);
  const profile = answerFor(profileCall, 'ok', { contrarian });
  const rerank = call('rerank', `<profile>\n${profile}\n</profile>\n\n<candidates>\n${candidates.map((c, i) => `[${i + 1}] ${c.title}`).join('\n')}\n</candidates>`);
  const ranking = /<ranking>(.*)<\/ranking>/.exec(answerFor(rerank))?.[1]?.split(',').map((n) => Number(n.trim())) ?? [];
  return ranking.map((n) => candidates[n - 1]?.id ?? '?');
}

describe('the loop world', () => {
  it('is reproducible: same options, same users, requests and clicks', () => {
    const a = createLoopWorld({ users: 5, seed: 4 });
    const b = createLoopWorld({ users: 5, seed: 4 });
    expect(a.users).toEqual(b.users);
    const u = a.users[2]!;
    const ra = a.request(u, 7, 'd');
    expect(b.request(b.users[2]!, 7, 'd')).toEqual(ra);
    const ids = ra.body.candidates.map((c) => c.id);
    expect(a.clicks(u, 7, ids)).toEqual(b.clicks(b.users[2]!, 7, ids));
    expect(createLoopWorld({ users: 5, seed: 5 }).users[2]?.taste).not.toEqual(u.taste);
  });

  it('gives the same user a fresh candidate list on every request, with one item matching all favourites', () => {
    const w = createLoopWorld({ users: 3, seed: 1 });
    const u = w.users[0]!;
    const lists = [0, 1, 2].map((k) => w.request(u, k, 'd'));
    expect(new Set(lists.flatMap((l) => l.body.candidates.map((c) => c.id))).size).toBe(30);
    expect(new Set(lists.map((l) => l.body.candidates.findIndex((c) => c.id === l.liked))).size).toBeGreaterThan(1);
    for (const l of lists) {
      expect(l.body.history).toBe(u.history);
      const liked = l.body.candidates.find((c) => c.id === l.liked)!;
      for (const k of Object.keys(ASPECTS) as Array<keyof typeof ASPECTS>) expect(liked.title.toLowerCase()).toContain(u.taste[k]);
    }
  });

  it('clicks a liked item at the top about 9 times in 10, at position 10 about once in 10', () => {
    const w = createLoopWorld({ users: 400, seed: 2 });
    let top = 0;
    let bottom = 0;
    for (const u of w.users) {
      const { body, liked } = w.request(u, 0, 'd');
      const others = body.candidates.map((c) => c.id).filter((id) => id !== liked);
      if (w.clicks(u, 0, [liked, ...others]).includes(liked)) top++;
      const r = w.request(u, 1, 'd');
      const rest = r.body.candidates.map((c) => c.id).filter((id) => id !== r.liked);
      if (w.clicks(u, 1, [...rest, r.liked]).includes(r.liked)) bottom++;
    }
    expect(top / 400).toBeGreaterThan(0.85);
    expect(bottom / 400).toBeLessThan(0.15);
    expect(DEFAULT_CLICK_MODEL.examination).toHaveLength(10);
  });

  it('computes NDCG@10 from the clicked set', () => {
    expect(ndcgAt10(['a', 'b', 'c'], new Set(['a']))).toBe(1);
    expect(ndcgAt10(['a', 'b', 'c'], new Set(['b']))).toBeCloseTo(1 / Math.log2(3), 12);
    expect(ndcgAt10(['a', 'b', 'c'], new Set())).toBe(0);
    expect(ndcgAt10(['a', 'b', 'c'], new Set(['b', 'c']))).toBeCloseTo((1 / Math.log2(3) + 0.5) / (1 + 1 / Math.log2(3)), 12);
  });

  it('the weak prompt asks for nothing: the double serves the baseline order', () => {
    expect(aspectsAskedBy(WEAK_PROMPT)).toEqual([]);
    const w = createLoopWorld({ users: 1, seed: 3 });
    const { body } = w.request(w.users[0]!, 0, 'd');
    expect(servedOrder(WEAK_PROMPT, body.history, body.candidates)).toEqual(body.candidates.map((c) => c.id));
  });

  it('reaches a service over HTTP', async () => {
    const double = await startLlmDouble({ models: ['loop-model'] });
    try {
      const res = await httpTransport(double.url.replace(/\/v1$/, ''))({ method: 'GET', path: '/v1/models' });
      expect(res).toMatchObject({ status: 200, body: { data: [{ id: 'loop-model' }] } });
    } finally {
      await double.close();
    }
  });
});

describe('the taste world’s sabotage', () => {
  const full = 'Name the genres, the era, the mood and the setting of what this user picks.';
  const w = createLoopWorld({ users: 20, seed: 9 });

  it('a contrarian prompt ranks the truly liked item last; ignored, it ranks it first', () => {
    const sabotaged = `${full}\n${SABOTAGE_LINE}`;
    for (const u of w.users) {
      const { body, liked } = w.request(u, 0, 'd');
      expect(servedOrder(sabotaged, body.history, body.candidates).at(-1)).toBe(liked);
      expect(servedOrder(sabotaged, body.history, body.candidates, 'ignore')).toEqual(servedOrder(full, body.history, body.candidates));
    }
    // An honest full prompt puts it first for nearly everyone (a history's usual value may miss a favourite).
    const first = w.users.filter((u) => {
      const { body, liked } = w.request(u, 0, 'd');
      return servedOrder(full, body.history, body.candidates)[0] === liked;
    });
    expect(first.length).toBeGreaterThanOrEqual(18);
  });

  it('a sabotaged edit is the honest edit plus the contrarian line, once', () => {
    const edit = (current: string) => `<current_prompt>\n${current}\n</current_prompt>\n<instruction>\nAlso name the mood.\n</instruction>`;
    const once = sabotagedEdit(edit('Describe the user.'));
    expect(once).toBe(`<prompt>\nDescribe the user.\nAlso name the mood.\n${SABOTAGE_LINE}\n</prompt>`);
    const inner = /<prompt>\n([\s\S]*)\n<\/prompt>/.exec(once)?.[1] ?? '';
    expect(sabotagedEdit(edit(inner)).split(SABOTAGE_LINE)).toHaveLength(2);
    expect(answerFor(call('edit', edit('P')), 'ok', { editPolicy: 'sabotage' })).toContain(SABOTAGE_LINE);
    expect(answerFor(call('edit', edit('P')))).not.toContain(SABOTAGE_LINE);
  });
});
