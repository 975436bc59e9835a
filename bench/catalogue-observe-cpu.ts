/**
 * CPU of ItemCatalogue observe() per rerank in steady state (60 items: 20 history + 40 candidates with
 * 200-character texts, all already written): the digest + LRU check that runs on the request path.
 *
 *   npx tsx bench/catalogue-observe-cpu.ts
 */
import { createCatalogueRecorder } from '../src/experiments/item-catalogue.js';
const store = { put: () => Promise.resolve(), getMany: () => Promise.resolve([]) };
const rec = createCatalogueRecorder({ store, ttlSeconds: 2_592_000 });
const items = Array.from({ length: 60 }, (_, i) => ({ id: `item-${String(i).padStart(7, '0')}`, title: `The Remarkable Adventures of Item Number ${i}`.slice(0, 45), text: `A long description of item ${i}: `.padEnd(200, 'lorem ipsum ') }));
rec.observe('movies', items); await rec.flush();
for (let i = 0; i < 20000; i++) rec.observe('movies', items);
const n = 100000; const t0 = process.cpuUsage(); const w0 = performance.now();
for (let i = 0; i < n; i++) rec.observe('movies', items);
const cpu = process.cpuUsage(t0); 
console.log(JSON.stringify({ itemsPerCall: 60, usCpuPerObserve: +((cpu.user + cpu.system) / n).toFixed(2), usWallPerObserve: +((performance.now() - w0) * 1000 / n).toFixed(2) }));
