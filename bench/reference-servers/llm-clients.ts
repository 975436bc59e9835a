/**
 * Transport comparison client: one child process per transport, calling the (instant) LLM simulator in a
 * closed loop at fixed concurrency, so the orchestrator can read this process's CPU per LLM call.
 *
 *   CLIENT=undici-request    `undici.request` + JSON parse (the floor)
 *   CLIENT=sdk-default-fetch the openai SDK with its default fetch (Node's global fetch)
 *   CLIENT=sdk-undici-fetch  the openai SDK with the service's transport, createUndiciFetch (src/llm/undici-fetch.ts)
 *
 * Every variant sends the same chat-completion body and extracts choices[0].message.content.
 * Protocol: warm up for WARMUP_MS, send `window-start`, run DURATION_MS, send `transport-result`.
 */
import OpenAI from 'openai';
import { Agent, request } from 'undici';
import { createUndiciFetch } from '../../src/llm/undici-fetch.js';
import { childLifecycle, env, toParent } from '../lib/ipc.js';
import { userCandidates } from '../lib/workload.js';

type Client = 'undici-request' | 'sdk-default-fetch' | 'sdk-undici-fetch';

const client = env('CLIENT') as Client;
const baseUrl = env('LLM_BASE_URL').replace(/\/$/, '');
const concurrency = Number(env('CONCURRENCY', '50'));
const warmupMs = Number(env('WARMUP_MS', '1000'));
const durationMs = Number(env('DURATION_MS', '5000'));

const lines = userCandidates(7)
  .map((c, i) => `[${i + 1}] ${c.title} — ${c.text ?? ''}`)
  .join('\n');
const body = {
  model: 'bench-model',
  temperature: 0,
  max_tokens: 400,
  messages: [
    { role: 'system' as const, content: 'You are the reranking step of a recommender system.' },
    {
      role: 'user' as const,
      content:
        'A profile of the user\'s tastes:\n<profile>\nThe user enjoys science fiction, space adventures and dark thrillers.\n</profile>\n\n' +
        `<candidates>\n${lines}\n</candidates>\n\nRank all 20 candidates. Answer like <ranking>3, 1, 2</ranking>.`,
    },
  ],
};

let closeTransport: () => Promise<void> = async () => {};
let call: () => Promise<string>;

if (client === 'undici-request') {
  const agent = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
  closeTransport = () => agent.close();
  const url = `${baseUrl}/chat/completions`;
  call = async () => {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      body: JSON.stringify(body),
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`status ${res.statusCode}`);
    }
    const json = (await res.body.json()) as { choices?: Array<{ message?: { content?: string } }> };
    return json.choices?.[0]?.message?.content ?? '';
  };
} else if (client === 'sdk-default-fetch' || client === 'sdk-undici-fetch') {
  const transport = client === 'sdk-undici-fetch' ? createUndiciFetch({ connections: 64 }) : undefined;
  if (transport) closeTransport = () => transport.close();
  const sdk = new OpenAI({
    apiKey: 'bench',
    baseURL: baseUrl,
    organization: null,
    project: null,
    maxRetries: 0,
    logLevel: 'off',
    ...(transport ? { fetch: transport.fetch } : {}),
  });
  call = async () => {
    const completion = await sdk.chat.completions.create(body);
    return completion.choices[0]?.message?.content ?? '';
  };
} else {
  throw new Error(`unknown CLIENT ${String(client)}`);
}

childLifecycle(() => closeTransport());
toParent({ type: 'ready', url: baseUrl });

let calls = 0;
let failures = 0;
const loop = async (until: number, count: boolean) => {
  while (performance.now() < until) {
    try {
      const text = await call();
      if (!text.includes('<ranking>')) throw new Error('unexpected completion');
      if (count) calls++;
    } catch {
      if (count) failures++;
    }
  }
};
const runFor = (ms: number, count: boolean) => {
  const until = performance.now() + ms;
  return Promise.all(Array.from({ length: concurrency }, () => loop(until, count)));
};

await runFor(warmupMs, false);
toParent({ type: 'window-start' });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await runFor(durationMs, true);
const elapsedMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
toParent({ type: 'transport-result', window: { calls, failures, elapsedMs, cpuUserUs: cpu.user, cpuSystemUs: cpu.system } });
