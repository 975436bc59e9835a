/**
 * Simulated recommender traffic for the experiments end-to-end tests: users with a known taste ask for
 * reranks over HTTP and click what they like; the test keeps what it was served and what it sent, and
 * computes every per-arm number itself, with its own metric code (not src/experiments), so the service's
 * results are checked against an independent oracle.
 */
import type { FastifyInstance } from 'fastify';

const TASTES = ['jazz', 'noir', 'space', 'cooking', 'sailing'] as const;
const FILLER = ['ledger', 'gravel', 'teapot', 'quartz', 'marble', 'cobalt', 'willow'];

/** A simulated user: its id and the word it likes. */
export interface SimUser {
  id: string;
  taste: string;
}

/** What one rerank served, as the recommender saw it. */
export interface Served {
  requestId: string;
  userId: string;
  experiment: { id: string; arm: string | null } | null;
  ids: string[];
  arms: (string | undefined)[];
  baseline: string[];
  llmCalls: number;
  fellBack: boolean;
  /** Items the user clicked (positives sent). */
  clicked: Set<string>;
}

export const simUsers = (n: number, prefix = 'sim-user'): SimUser[] => Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, taste: TASTES[i % TASTES.length] as string }));

/** A rerank body: history about the taste, 10 candidates with the 3 liked ones at the end of the baseline. */
export function rerankBody(user: SimUser, k: number, domain: string): Record<string, unknown> {
  // History titles share only the taste word (and "classic") with the liked candidates, so the double's
  // profile ("Enjoys: jazz, classic.") ranks exactly the liked items first.
  const history = [0, 1, 2, 3].map((i) => ({ id: `${user.id}-h${i}`, title: `${user.taste} classic ${i}` }));
  const candidates = Array.from({ length: 10 }, (_, i) => {
    const liked = i >= 7;
    return { id: `${domain}-${user.taste}-${k}-${i}`, title: liked ? `${user.taste} ${FILLER[i % FILLER.length]} edition` : `${FILLER[i % FILLER.length]} ${FILLER[(i + 3) % FILLER.length]} volume ${i}` };
  });
  return { userId: user.id, history, candidates, domain };
}

/** A uniform in [0, 1) from a string (FNV-1a): clicks are random-looking but reproducible. */
function uniform(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}

/**
 * The taste model: a liked item shown in the first `depth` positions is clicked with probability 0.7, any
 * other item in the first 3 with probability 0.15 (decided by a hash of the request and item, so a run is
 * reproducible).
 */
export function clicksOf(user: SimUser, requestId: string, ids: readonly string[], titles: ReadonlyMap<string, string>, depth = 5): Set<string> {
  const out = new Set<string>();
  ids.forEach((id, pos) => {
    const liked = (titles.get(id) ?? '').startsWith(`${user.taste} `);
    const p = liked && pos < depth ? 0.7 : !liked && pos < 3 ? 0.15 : 0;
    if (uniform(`${requestId}|${id}`) < p) out.add(id);
  });
  return out;
}

/** Sends one rerank and records what was served. */
export async function serve(app: FastifyInstance, body: Record<string, unknown>): Promise<Served & { titles: Map<string, string> }> {
  const res = await app.inject({ method: 'POST', url: '/v1/rerank', payload: body });
  if (res.statusCode !== 200) throw new Error(`rerank answered ${res.statusCode}: ${res.body}`);
  const json = res.json() as {
    requestId: string;
    experiment: Served['experiment'];
    ranking: Array<{ id: string; arm?: string }>;
    usage: { llmCalls: number };
    fallback: unknown;
  };
  const candidates = body.candidates as Array<{ id: string; title: string }>;
  return {
    requestId: json.requestId,
    userId: body.userId as string,
    experiment: json.experiment,
    ids: json.ranking.map((r) => r.id),
    arms: json.ranking.map((r) => r.arm),
    baseline: candidates.map((c) => c.id),
    llmCalls: json.usage.llmCalls,
    fellBack: json.fallback !== null,
    clicked: new Set(),
    titles: new Map(candidates.map((c) => [c.id, c.title])),
  };
}

/** The test's own metric definitions (issue 10's, written independently of src/experiments). */
export function oracleMetrics(list: readonly string[], positives: ReadonlySet<string>): { ctr: number; mrr: number; 'ndcg@10': number } {
  const first = list.findIndex((id) => positives.has(id));
  let dcg = 0;
  for (let i = 0; i < Math.min(10, list.length); i++) if (positives.has(list[i] as string)) dcg += 1 / Math.log2(i + 2);
  let idcg = 0;
  for (let i = 0; i < Math.min(positives.size, 10); i++) idcg += 1 / Math.log2(i + 2);
  return { ctr: first === -1 ? 0 : 1, mrr: first === -1 ? 0 : 1 / (first + 1), 'ndcg@10': idcg > 0 ? dcg / idcg : 0 };
}

/** Expected per-arm numbers from what was served and clicked. Under interleaving, `served` counts only the arm's credited clicks. */
export function oracleArm(served: readonly Served[], arm: string, interleaved: boolean) {
  const mine = interleaved ? served : served.filter((s) => s.experiment?.arm === arm);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const creditOf = (s: Served) => (interleaved ? new Set([...s.clicked].filter((id) => s.arms[s.ids.indexOf(id)] === arm)) : s.clicked);
  const metric = (pick: (s: Served) => number) => mean(mine.map(pick));
  return {
    users: new Set(mine.map((s) => s.userId)).size,
    exposures: mine.length,
    fallbackRate: mean(mine.map((s) => (s.fellBack ? 1 : 0))),
    served: {
      ctr: metric((s) => oracleMetrics(s.ids, creditOf(s)).ctr),
      mrr: metric((s) => oracleMetrics(s.ids, creditOf(s)).mrr),
      'ndcg@10': metric((s) => oracleMetrics(s.ids, creditOf(s))['ndcg@10']),
    },
    baseline: {
      ctr: metric((s) => oracleMetrics(s.baseline, s.clicked).ctr),
      mrr: metric((s) => oracleMetrics(s.baseline, s.clicked).mrr),
      'ndcg@10': metric((s) => oracleMetrics(s.baseline, s.clicked)['ndcg@10']),
    },
  };
}

/** Interleaving tallies from the credited clicks: wins are the treatment's (second arm's). */
export function oracleTally(served: readonly Served[], control: string, treatment: string): { wins: number; losses: number; ties: number } {
  const t = { wins: 0, losses: 0, ties: 0 };
  for (const s of served) {
    let balance = 0;
    for (const id of s.clicked) {
      const arm = s.arms[s.ids.indexOf(id)];
      if (arm === treatment) balance += 1;
      else if (arm === control) balance -= 1;
    }
    if (balance > 0) t.wins += 1;
    else if (balance < 0) t.losses += 1;
    else t.ties += 1;
  }
  return t;
}
