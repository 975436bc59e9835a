/**
 * `npm run demo`: the service plus the local OpenAI-compatible simulator (the same double the tests use),
 * so someone without an API key sees real reranks flow end to end through the openai SDK.
 */
import { startLlmDouble } from '../testkit/llm-double.js';

const sim = await startLlmDouble({ latency: { meanMs: 120, jitterMs: 40 } });
const port = process.env.PORT ?? '8080';
Object.assign(process.env, {
  LLM_BASE_URL: sim.url,
  LLM_API_KEY: process.env.LLM_API_KEY ?? 'demo-key',
  LLM_MODEL: process.env.LLM_MODEL ?? 'simulator',
  PORT: port,
  HOST: process.env.HOST ?? '127.0.0.1',
});
process.stdout.write(`LLM simulator listening at ${sim.url}\n`);
await import('../src/server.js');

const example = {
  userId: 'demo-user',
  history: [
    { id: 'm1', title: 'Alien, a space horror classic' },
    { id: 'm2', title: 'Blade Runner, science fiction noir' },
    { id: 'm3', title: 'Interstellar, space exploration science fiction' },
  ],
  candidates: [
    { id: 'c1', title: 'Notting Hill, romantic comedy' },
    { id: 'c2', title: 'Paddington 2, family comedy' },
    { id: 'c3', title: 'Arrival, science fiction first contact' },
    { id: 'c4', title: 'The Martian, space survival science fiction' },
  ],
  includeProfile: true,
};
setTimeout(() => {
  process.stdout.write(
    `\nTry it:\n  curl -s localhost:${port}/v1/rerank -H 'content-type: application/json' -d '${JSON.stringify(example)}'\n` +
      `Docs: http://localhost:${port}/docs   Metrics: http://localhost:${port}/metrics\n\n`,
  );
}, 500).unref();
