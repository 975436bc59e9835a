/**
 * Live traffic in the taste world (taste-world.ts), for the loop's closed-loop tests: a population of users
 * with latent tastes asks a running service for reranks (`POST /v1/rerank`) and clicks what it likes, where
 * it was shown (`POST /v1/events`). Each request brings a FRESH candidate list (a new chosen item and new
 * distractors for the same user and history), so traffic after a retraining is not a replay of the traffic
 * it was trained on.
 *
 * - Users: a favourite value per aspect and a fixed history of 8 items that shows it most of the time
 *   (as tasteWorldUsers). The history is fixed so the service caches one profile per user and prompt.
 * - Candidates (per request): one item matching all four favourites (the one the user truly likes), three
 *   matching genre and era, two also mood, one also setting, and three random ones, shuffled: the baseline
 *   recommender knows nothing of the user.
 * - Clicks: a position-based model. An item is examined with probability `examination[position]` and, once
 *   examined, clicked with a probability set by how many favourites it matches (`attraction`). Every draw is
 *   a hash of (seed, user, request number, item), so a run is reproducible whatever the concurrency.
 * - The metric is the test's own: NDCG@10 of each served list against the items clicked in it (what the
 *   service's experiments compute from events, written independently of src/experiments), and a latent
 *   NDCG@10 (the truly liked item's rank, no click noise) as a diagnostic.
 *
 * The service is reached through a {@link Transport}: a base URL (a spawned server) or an in-process app's
 * `inject`.
 */
import { createHash } from 'node:crypto';
import { createRng } from '../src/agp/rng.js';
import type { Item } from '../src/agp/types.js';
import { sendOne } from './load.js';
import { ASPECTS, type Aspect, titleOf } from './taste-world.js';
import { sleep } from './wait.js';

type Attrs = Record<Aspect, string>;
const ORDER: Aspect[] = ['genre', 'era', 'mood', 'setting'];
const NAMES_A = ['Amber', 'Broken', 'Copper', 'Distant', 'Electric', 'Falling', 'Golden', 'Hidden', 'Ivory', 'Jade'];
const NAMES_B = ['Arrow', 'Bell', 'Canyon', 'Delta', 'Engine', 'Forest', 'Gate', 'Hill', 'Island', 'Jetty'];

/**
 * A deliberately weak starting prompt: it asks for none of the aspects users care about (no cue word of
 * taste-world.ts), so the simulated profile says nothing and the service serves the baseline order.
 */
export const WEAK_PROMPT = 'Write one friendly sentence about this person, based on what they looked at. Keep it short.';

/** A user of the loop world. */
export interface LoopUser {
  id: string;
  /** The latent favourites (never sent to the service). */
  taste: Attrs;
  /** Oldest first; the same on every request. */
  history: Item[];
}

/** The click model: examination by position (0-based), attraction by the number of favourites matched. */
export interface ClickModel {
  examination: readonly number[];
  /** Click probability of an examined item matching 4, 3 and at most 2 favourites. */
  attraction: { all: number; three: number; fewer: number };
}

/** A liked item at the top is clicked 9 times in 10; at position 10 once in 10; others rarely. */
export const DEFAULT_CLICK_MODEL: ClickModel = {
  examination: [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
  attraction: { all: 0.9, three: 0.1, fewer: 0.02 },
};

/** What one rerank served and what the user did with it. */
export interface ServedRequest {
  requestId: string;
  userId: string;
  /** The user's request number (0-based, over the world's lifetime). */
  k: number;
  promptVersion: string;
  experiment: { id: string; arm: string | null } | null;
  /** Served order. */
  ids: string[];
  /** Baseline (request) order. */
  baseline: string[];
  /** The item matching all four favourites. */
  liked: string;
  clicked: string[];
  /** Why the baseline order was served instead (the service's fallback reason), or null. */
  fallback: string | null;
  /** NDCG@10 of the served list against the clicked items (0 without a click). */
  ndcg: number;
  /** NDCG@10 of the served list with the liked item as the only relevant one (no click noise). */
  latentNdcg: number;
}

/** A request to the service and its answer. */
export interface TransportRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}
export interface TransportResponse {
  status: number;
  body: unknown;
}
/** How the world reaches the service. */
export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

/** A service over HTTP at `origin` (e.g. a startServerProcess origin). */
export function httpTransport(origin: string): Transport {
  return async (req) => {
    const s = await sendOne(origin, { method: req.method, path: req.path, body: req.body as object | undefined, headers: req.headers ?? {} });
    if (s.status === null) throw new Error(`${req.method} ${req.path}: ${s.error ?? 'transport error'}`);
    return { status: s.status, body: s.body };
  };
}

/** The slice of a Fastify instance `inject` needs (kept structural: testkit does not import fastify). */
export interface Injectable {
  inject(opts: { method: TransportRequest['method']; url: string; payload?: string; headers?: Record<string, string> }): Promise<{ statusCode: number; body: string }>;
}

/** An in-process app through `app.inject`. */
export function injectTransport(app: Injectable): Transport {
  return async (req) => {
    const res = await app.inject({
      method: req.method,
      url: req.path,
      ...(req.body === undefined ? {} : { payload: JSON.stringify(req.body) }),
      headers: { ...(req.body === undefined ? {} : { 'content-type': 'application/json' }), ...req.headers },
    });
    let body: unknown = res.body;
    try {
      body = res.body === '' ? undefined : JSON.parse(res.body);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, body };
  };
}

/** A uniform in [0, 1) from a string: every click draw is reproducible. */
function uniform(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 4294967296;
}

/** NDCG@10 of `list` against the relevant set (binary gains); 0 when nothing is relevant. */
export function ndcgAt10(list: readonly string[], relevant: ReadonlySet<string>): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(10, list.length); i++) if (relevant.has(list[i] as string)) dcg += 1 / Math.log2(i + 2);
  let idcg = 0;
  for (let i = 0; i < Math.min(relevant.size, 10); i++) idcg += 1 / Math.log2(i + 2);
  return idcg > 0 ? dcg / idcg : 0;
}

/** Options of a loop world. */
export interface LoopWorldOptions {
  users: number;
  seed?: number;
  /** User ids are `<prefix>-<n>` (default 'lw'). */
  prefix?: string;
  historyLength?: number;
  clickModel?: ClickModel;
}

/** Options of one wave of traffic. */
export interface TrafficOptions {
  domain: string;
  /** Requests per user in this wave (each user's requests are numbered on from the previous wave). */
  perUser: number;
  /** Reranks in flight at once (default 16). */
  concurrency?: number;
  /** Send impressions and clicks (default true). */
  events?: boolean;
  /** Called with each answer as it arrives (e.g. to check its promptVersion). */
  onServed?: (s: ServedRequest) => void;
  /** Extra headers on every request (e.g. an API key). */
  headers?: Record<string, string>;
}

/** A population of users with latent tastes, sending reranks and events to one service. */
export interface LoopWorld {
  users: LoopUser[];
  /** Requests sent so far, per user id (the next request number). */
  sent: Map<string, number>;
  /** The rerank body of user `u`'s request number `k` (deterministic) and its liked item. */
  request(u: LoopUser, k: number, domain: string): { body: { userId: string; domain: string; history: Item[]; candidates: Item[] }; liked: string };
  /** The items `u` clicks in a served list (deterministic in the seed, user, k and order). */
  clicks(u: LoopUser, k: number, servedIds: readonly string[]): string[];
  /** One wave: every user sends `perUser` reranks, then the events of all of them are posted. */
  traffic(transport: Transport, opts: TrafficOptions): Promise<ServedRequest[]>;
}

/** Creates the world: users and their histories depend only on the options. */
export function createLoopWorld(o: LoopWorldOptions): LoopWorld {
  const seed = o.seed ?? 1;
  const model = o.clickModel ?? DEFAULT_CLICK_MODEL;
  const prefix = o.prefix ?? 'lw';
  const rng = createRng(`loop-world:${seed}:${prefix}`);
  const pick = <T>(r: typeof rng, xs: readonly T[]): T => xs[r.int(xs.length)] as T;
  const other = (r: typeof rng, k: Aspect, not: string) => pick(r, ASPECTS[k].values.filter((v) => v !== not));
  const attrsById = new Map<string, Attrs>();

  const users: LoopUser[] = Array.from({ length: o.users }, (_, u) => {
    const id = `${prefix}-${u}`;
    const taste = Object.fromEntries(ORDER.map((k) => [k, pick(rng, ASPECTS[k].values)])) as Attrs;
    const history = Array.from({ length: o.historyLength ?? 8 }, (_, i) => {
      const a = Object.fromEntries(ORDER.map((k) => [k, rng.next() < 0.75 ? taste[k] : other(rng, k, taste[k])])) as Attrs;
      return { id: `${id}-h${i}`, title: titleOf(`${pick(rng, NAMES_A)} ${pick(rng, NAMES_B)} ${i + 1}`, a) };
    });
    return { id, taste, history };
  });

  const matches = (u: LoopUser, a: Attrs) => ORDER.filter((k) => a[k] === u.taste[k]).length;

  const request: LoopWorld['request'] = (u, k, domain) => {
    const r = createRng(`loop-world:${seed}:${u.id}:${k}`);
    const variant = (keep: Aspect[]): Attrs => Object.fromEntries(ORDER.map((a) => [a, keep.includes(a) ? u.taste[a] : other(r, a, u.taste[a])])) as Attrs;
    const random = (): Attrs => Object.fromEntries(ORDER.map((a) => [a, pick(r, ASPECTS[a].values)])) as Attrs;
    const attrs = [
      u.taste,
      ...[0, 1, 2].map(() => variant(['genre', 'era'])),
      ...[0, 1].map(() => variant(['genre', 'era', 'mood'])),
      variant(['genre', 'era', 'setting']),
      ...[0, 1, 2].map(random),
    ];
    const items = attrs.map((a, i) => {
      const id = `${u.id}-r${k}-c${i}`;
      attrsById.set(id, a);
      return { id, title: titleOf(`${pick(r, NAMES_A)} ${pick(r, NAMES_B)} ${k}.${i}`, a) };
    });
    return { body: { userId: u.id, domain, history: u.history, candidates: r.shuffle(items) }, liked: items[0]?.id ?? '' };
  };

  const clicks: LoopWorld['clicks'] = (u, k, servedIds) =>
    servedIds.filter((id, pos) => {
      const a = attrsById.get(id);
      if (!a) return false;
      const m = matches(u, a);
      const p = (model.examination[pos] ?? 0) * (m === 4 ? model.attraction.all : m === 3 ? model.attraction.three : model.attraction.fewer);
      return uniform(`${seed}|${u.id}|${k}|${id}`) < p;
    });

  const sent = new Map<string, number>();

  async function rerank(transport: Transport, u: LoopUser, domain: string, headers: Record<string, string>): Promise<ServedRequest> {
    const k = sent.get(u.id) ?? 0;
    sent.set(u.id, k + 1);
    const { body, liked } = request(u, k, domain);
    const res = await transport({ method: 'POST', path: '/v1/rerank', body, headers });
    if (res.status !== 200) throw new Error(`rerank answered ${res.status}: ${JSON.stringify(res.body)}`);
    const json = res.body as { requestId: string; promptVersion: string; experiment: ServedRequest['experiment']; ranking: Array<{ id: string }>; fallback: { reason: string } | null };
    const ids = json.ranking.map((x) => x.id);
    const clicked = clicks(u, k, ids);
    return {
      requestId: json.requestId,
      userId: u.id,
      k,
      promptVersion: json.promptVersion,
      experiment: json.experiment,
      ids,
      baseline: body.candidates.map((c) => c.id),
      liked,
      clicked,
      fallback: json.fallback?.reason ?? null,
      ndcg: ndcgAt10(ids, new Set(clicked)),
      latentNdcg: ndcgAt10(ids, new Set([liked])),
    };
  }

  async function traffic(transport: Transport, opts: TrafficOptions): Promise<ServedRequest[]> {
    const headers = opts.headers ?? {};
    const queue: LoopUser[] = [];
    for (let i = 0; i < opts.perUser; i++) queue.push(...users);
    const out: ServedRequest[] = [];
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const u = queue[next++] as LoopUser;
        const s = await rerank(transport, u, opts.domain, headers);
        opts.onServed?.(s);
        out.push(s);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 16) }, worker));
    if (opts.events !== false) await postEvents(transport, out, headers);
    return out;
  }

  return { users, sent, request, clicks, traffic };
}

/**
 * Posts the impressions (every served item) and clicks of `served`, in calls of at most 1,000 events. The
 * service records exposures off the request path, so an event can arrive before its exposure: a call that
 * left events unattributed is sent again (the already counted ones come back as duplicates) until none is.
 * @throws Error when events are still unattributed after `timeoutMs` (default 10 s).
 */
export async function postEvents(transport: Transport, served: readonly ServedRequest[], headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<void> {
  const events = served.flatMap((s) => [
    ...s.ids.slice(0, 10).map((itemId) => ({ requestId: s.requestId, itemId, type: 'impression' })),
    ...s.clicked.map((itemId) => ({ requestId: s.requestId, itemId, type: 'click' })),
  ]);
  for (let i = 0; i < events.length; i += 1_000) {
    const chunk = events.slice(i, i + 1_000);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const res = await transport({ method: 'POST', path: '/v1/events', body: { events: chunk }, headers });
      if (res.status !== 202) throw new Error(`events answered ${res.status}: ${JSON.stringify(res.body)}`);
      const r = res.body as { unattributed: number; rejected: unknown[] };
      if (r.rejected.length > 0) throw new Error(`events rejected: ${JSON.stringify(r.rejected.slice(0, 3))}`);
      if (r.unattributed === 0) break;
      if (Date.now() > until) throw new Error(`${r.unattributed} events still unattributed after ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}

/** Mean of the per-request metrics of the requests `filter` keeps. */
export function summarize(served: readonly ServedRequest[], filter: (s: ServedRequest) => boolean = () => true) {
  const mine = served.filter(filter);
  const mean = (f: (s: ServedRequest) => number) => (mine.length > 0 ? mine.reduce((a, s) => a + f(s), 0) / mine.length : 0);
  return {
    requests: mine.length,
    users: new Set(mine.map((s) => s.userId)).size,
    clickRate: mean((s) => (s.clicked.length > 0 ? 1 : 0)),
    ndcg: mean((s) => s.ndcg),
    latentNdcg: mean((s) => s.latentNdcg),
  };
}
