/**
 * Reference server 2, THE FLOOR: the least work a cache-hit LLM rerank can do in Node.
 * Fastify + a JSON schema on the body (ajv), one Redis GET (the profile), one `undici.request` POST to the
 * LLM simulator with a ranking prompt of the same shape the service sends, parse `<ranking>`, reorder the
 * candidates. No product features: no logs, metrics, deadlines, breaker, retries, sanitising or fallbacks.
 *
 * Env: REDIS_URL, LLM_BASE_URL (…/v1), FLOOR_USER_PREFIX + FLOOR_USERS (profiles pre-written at start).
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { childLifecycle, env, toParent } from '../lib/ipc.js';

interface Item {
  id: string;
  title: string;
  text?: string;
}
interface Body {
  userId: string;
  history: Item[];
  candidates: Array<Item & { score?: number }>;
}

const item = {
  type: 'object',
  required: ['id', 'title'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 256 },
    title: { type: 'string', maxLength: 4096 },
    text: { type: 'string', maxLength: 16384 },
    score: { type: 'number' },
  },
} as const;

const bodySchema = {
  type: 'object',
  required: ['userId', 'history', 'candidates'],
  properties: {
    userId: { type: 'string', minLength: 1, maxLength: 256 },
    history: { type: 'array', maxItems: 200, items: item },
    candidates: { type: 'array', minItems: 1, maxItems: 100, items: item },
  },
} as const;

const SYSTEM =
  'You are the reranking step of a recommender system: you order candidate items by how likely one user is to choose each of them next.';

const redis = new Redis(env('REDIS_URL'), { enableAutoPipelining: false, lazyConnect: false });
const llmUrl = `${env('LLM_BASE_URL').replace(/\/$/, '')}/chat/completions`;
const agent = new Agent({ connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
const keyOf = (userId: string) => `bench:floor:profile:${userId}`;

// Pre-write the profiles of the warmed user set so every request is a cache hit.
const prefix = env('FLOOR_USER_PREFIX', 'hit-');
const users = Number(env('FLOOR_USERS', '200'));
const profile =
  'The user enjoys science fiction and space adventures, dark thrillers and detective mysteries, and the ' +
  'occasional musical; they favour older films and seem to avoid romantic comedies.';
const pipe = redis.pipeline();
for (let u = 0; u < users; u++) pipe.set(keyOf(`${prefix}${u}`), profile);
await pipe.exec();

const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
app.post<{ Body: Body }>('/v1/rerank', { schema: { body: bodySchema } }, async (req) => {
  const { userId, candidates } = req.body;
  const profileText = (await redis.get(keyOf(userId))) ?? '(no profile)';
  let lines = '';
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i] as Item;
    lines += `[${i + 1}] ${c.title}${c.text ? ` — ${c.text}` : ''}\n`;
  }
  const payload = JSON.stringify({
    model: 'bench-model',
    temperature: 0,
    max_tokens: 400,
    messages: [
      { role: 'system', content: SYSTEM },
      {
        role: 'user',
        content:
          `A profile of the user's tastes:\n<profile>\n${profileText}\n</profile>\n\n<candidates>\n${lines}</candidates>\n\n` +
          `Rank all ${candidates.length} candidates. Answer like <ranking>3, 1, 2</ranking>.`,
      },
    ],
  });
  const res = await request(llmUrl, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: payload,
  });
  const completion = (await res.body.json()) as { choices?: Array<{ message?: { content?: string } }> };
  const text = completion.choices?.[0]?.message?.content ?? '';
  // Reorder: valid, unseen labels first, then anything the LLM left out in baseline order.
  const n = candidates.length;
  const seen = new Uint8Array(n);
  const order: number[] = [];
  const m = /<ranking>([^<]*)<\/ranking>/.exec(text);
  if (m?.[1]) {
    for (const part of m[1].split(',')) {
      const k = Number(part) - 1;
      if (Number.isInteger(k) && k >= 0 && k < n && !seen[k]) {
        seen[k] = 1;
        order.push(k);
      }
    }
  }
  for (let k = 0; k < n; k++) if (!seen[k]) order.push(k);
  return {
    ranking: order.map((idx, pos) => ({ id: (candidates[idx] as Item).id, rank: pos + 1, baseRank: idx + 1 })),
  };
});

childLifecycle(async () => {
  await app.close();
  await agent.close();
  redis.disconnect();
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
toParent({ type: 'ready', url: address });
