/**
 * The admin console in a real browser (issue 13): Debian's Chromium driven by playwright-core against the
 * real app listening on a free port, with the LLM double behind it. The flows: log in, start a training job
 * and watch it complete, diff two versions, activate one (and /v1/rerank serves it), create an experiment,
 * and hostile text (prompt text, item titles echoed by the LLM) rendered as text with no dialog, no script
 * and no CSP report. Screenshots go to a temporary directory (logged), not the repository.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { startLlmDouble, type LlmDouble, type RecordedCall } from '../../testkit/llm-double.js';
import { dragonUsers, trainingScript } from '../support/training-script.js';
import { eventually } from '../../testkit/wait.js';
import { CONSOLE_CSP, CONSOLE_DIR } from '../../src/http/routes/console-routes.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  // CI installs Debian's chromium (.ci/run): there a missing browser is a failure, not a skip.
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: the console's browser tests need Debian's chromium`);
  console.warn(`SKIPPING the admin console browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
}

const TOKEN = 'console-admin-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
/** Markup and links that would run if any of it were parsed as HTML. */
const HOSTILE = [
  `<script>window.__xss = 'script'; alert('xss-script')</script>`,
  `<img src=x onerror="window.__xss = 'img'; alert('xss-img')">`,
  `<a href="javascript:alert('xss-link')">click me</a> [md link](javascript:alert('xss-md'))`,
].join('\n');
const HOSTILE_TITLE = `<img src=x onerror="alert('title')"> <script>alert('title')</script> javascript:alert('title')`;
const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let double: LlmDouble;
let t: TestApp;
let base: string;
let browser: Browser;
let page: Page;
let shots: string;
const dialogs: string[] = [];
const consoleErrors: string[] = [];
const pageErrors: string[] = [];

const cspReports = () => t.logs.filter((l) => l.includes('CSP violation report'));
const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const admin = (method: string, path: string, body?: object) =>
  fetch(`${base}${path}`, { method, headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
const rerank = async (domain: string) => {
  const res = await fetch(`${base}/v1/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: `r-${Math.random()}`, domain, history: [{ id: 'h', title: 'Space opera' }], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] }),
  });
  return (await res.json()) as { promptVersion: string };
};
/** The double echoes the hostile item title into profiles, like a model quoting what it read. */
const script = (call: RecordedCall): string | undefined => {
  const text = call.messages.map((m) => m.content).join('\n');
  if (call.role === 'profile' && text.includes('javascript')) return `Enjoys: ${HOSTILE_TITLE}`;
  return trainingScript(call);
};
/** The browser globals the page callbacks touch: this file compiles without the DOM lib. */
interface PageGlobals {
  sessionStorage: { length: number; getItem(key: string): string | null };
  __xss?: string;
  __cspProbe?: number;
}
const openView = async (label: string) => page.getByRole('navigation').getByRole('button', { name: label }).click();

describe.skipIf(!haveChromium)('admin console in Chromium', () => {
  beforeAll(async () => {
    double = await startLlmDouble();
    double.script(script);
    t = await buildTestApp({
      captureLogs: true,
      env: { ADMIN_TOKEN: TOKEN, LLM_BASE_URL: double.url, LLM_API_KEY: 'sk-test', LLM_MODEL: 'test-model', PROMPT_REFRESH_MS: '100', BREAKER_FAILURE_THRESHOLD: '1000' },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    shots = await mkdtemp(join(tmpdir(), 'agp-console-screens-'));
    console.log(`console screenshots: ${shots}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    // Fail a step in seconds, inside the test's own timeout, with the locator it waited for.
    page.setDefaultTimeout(10_000);
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await double?.close();
  });

  it('1. logs in with the token (kept in sessionStorage, never in the URL); a wrong one is refused', async () => {
    const res = await page.goto(`${base}/admin`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toBe(CONSOLE_CSP);
    expect(res?.headers()['x-content-type-options']).toBe('nosniff');
    expect(res?.headers()['referrer-policy']).toBe('no-referrer');

    await page.getByTestId('token').fill('not-the-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.locator('.status.error').textContent()).toContain('refused (401)');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.length)).toBe(0);

    await page.getByTestId('token').fill(TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('logout').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('agp-admin-token'))).toBe(TOKEN);
    expect(page.url()).not.toContain(TOKEN);
    expect(await page.context().cookies()).toEqual([]);

    // Log out clears the token; log in again for the next flows.
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('agp-admin-token'))).toBeNull();
    await page.getByTestId('token').fill(TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('logout').waitFor();
  });

  it('2. starts a training job and watches it complete, then shows its report and trace', async () => {
    double.setLatency(60);
    await openView('Training jobs');
    await page.getByTestId('job-domain').fill('fantasy');
    await page.getByTestId('job-dataset').fill(JSON.stringify({ users: dragonUsers(6) }));
    await page.getByTestId('job-params').fill(JSON.stringify({ epochs: 1, batchSize: 3, verifySteps: 0, patience: 0, concurrency: 2 }));
    const seen = new Set<string>();
    const submitted = page.waitForResponse((r) => r.url().endsWith('/admin/v1/training-jobs') && r.request().method() === 'POST');
    await page.getByTestId('job-submit').click();
    const { jobId } = (await (await submitted).json()) as { jobId: string };
    const state = page.getByTestId(`job-${jobId}`).getByTestId('job-state');
    // The page polls: the state shown changes without a reload until the job completes.
    await eventually(async () => {
      const s = (await state.textContent({ timeout: 2_000 })) ?? '';
      seen.add(s);
      return s;
    }, (s) => s === 'completed' || s === 'failed', { what: 'the job to finish in the page', timeoutMs: 25_000, intervalMs: 100 });
    expect([...seen].at(-1)).toBe('completed');
    expect(seen.size).toBeGreaterThan(1);
    await shot('2-training-job');

    await page.getByTestId(`job-${jobId}`).getByTestId('job-report').click();
    await expect.poll(() => page.getByTestId('report-text').textContent()).toContain('NDCG');
    await page.getByTestId(`job-${jobId}`).getByTestId('job-trace').click();
    await expect.poll(() => page.getByTestId('trace-text').textContent()).toContain('"role"');
    // The LLM's echo of the hostile item title is in the trace, as text.
    expect(await page.getByTestId('trace-text').textContent()).not.toContain(HOSTILE_TITLE);
    double.setLatency(0);
  });

  it('3. shows lineage, the NDCG chart and a line diff between two versions', async () => {
    const v1 = { domain: 'books', version: 'v1', text: 'Describe the reader.\nFocus on genres.\nKeep it short.' };
    const v2 = { domain: 'books', version: 'v2', parentVersion: 'v1', text: 'Describe the reader.\nFocus on authors and themes.\nKeep it short.' };
    for (const v of [v1, v2]) expect((await admin('POST', '/admin/v1/prompts', v)).status).toBe(201);

    await openView('Prompt versions');
    await page.getByTestId('domain').selectOption('fantasy');
    await page.locator('tr[data-version] button.link').first().click();
    await expect.poll(() => page.getByTestId('lineage').textContent()).toContain('builtin-v0');
    const chart = page.getByTestId('ndcg-chart');
    await chart.waitFor();
    expect(await chart.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth > 0)).toBe(true);
    await shot('3-trained-version');

    await page.getByTestId('domain').selectOption('books');
    await page.getByTestId('diff-a').selectOption('v1');
    await page.getByTestId('diff-b').selectOption('v2');
    await page.getByTestId('diff-run').click();
    await expect.poll(() => page.locator('[data-testid=diff] .del').allTextContents()).toEqual(['- Focus on genres.']);
    expect(await page.locator('[data-testid=diff] .add').allTextContents()).toEqual(['+ Focus on authors and themes.']);
    expect(await page.locator('[data-testid=diff] .same').allTextContents()).toEqual(['  Describe the reader.', '  Keep it short.']);
    await page.locator('tr[data-version=v2] button.link').click();
    await expect.poll(() => page.getByTestId('lineage').textContent()).toBe('Lineage: v2 ← v1');
    await shot('3-prompt-diff');
  });

  it('4. activates a version with one click and a confirm; /v1/rerank serves it; rolls back', async () => {
    expect((await rerank('books')).promptVersion).toBe('builtin-v0');
    await page.locator('tr[data-version=v2]').getByTestId('activate').click();
    // Cancelling the confirmation changes nothing.
    await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Cancel' }).click();
    expect((await rerank('books')).promptVersion).toBe('builtin-v0');

    await page.locator('tr[data-version=v2]').getByTestId('activate').click();
    await page.getByTestId('confirm-ok').click();
    await page.locator('tr[data-version=v2].active').waitFor();
    await eventually(() => rerank('books'), (r) => r.promptVersion === 'v2', { what: 'rerank to serve v2' });

    const rollback = page.locator('tr[data-version=v1]').getByTestId('activate');
    expect(await rollback.textContent()).toBe('Roll back');
    await rollback.click();
    await page.getByTestId('confirm-ok').click();
    await page.locator('tr[data-version=v1].active').waitFor();
    await eventually(() => rerank('books'), (r) => r.promptVersion === 'v1', { what: 'rerank to serve v1 again' });
  });

  it('5. creates an experiment, shows its arms with CI bars, and stops it', async () => {
    await openView('Experiments');
    await page.getByTestId('exp-domain').fill('books');
    await page.getByTestId('exp-arms').fill(JSON.stringify([{ name: 'control', method: 'baseline' }, { name: 'treatment', method: 'agp', promptVersion: 'v2' }]));
    await page.getByTestId('exp-submit').click();
    await page.getByTestId('arm-control').waitFor();
    expect(await page.getByTestId('arm-treatment').locator('td').nth(1).textContent()).toBe('v2');
    expect(await page.getByTestId('arm-control').locator('svg.ci').count()).toBe(3);
    expect(await page.getByTestId('exp-state').textContent()).toBe('running');
    expect(await page.getByTestId('decision').textContent()).toMatch(/Decision/);
    await shot('5-experiment');

    await page.getByTestId('exp-stop').click();
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => page.getByTestId('exp-state').textContent()).toBe('stopped');
    expect(await page.getByTestId('stop-reason').textContent()).toContain('manual');
  });

  it('6. renders hostile prompt text and item titles as text: no dialog, no script, no CSP report', async () => {
    expect((await admin('POST', '/admin/v1/prompts', { domain: 'xss', version: 'evil-1', text: HOSTILE })).status).toBe(201);
    expect((await admin('POST', '/admin/v1/prompts', { domain: 'xss', version: 'evil-2', parentVersion: 'evil-1', text: `${HOSTILE}\n${HOSTILE_TITLE}` })).status).toBe(201);
    // A training job whose dataset's item titles are hostile; the LLM double quotes them in its profiles.
    const users = dragonUsers(6).map((u) => ({ ...(u as object), history: [{ id: 'x1', title: HOSTILE_TITLE }, { id: 'x2', title: 'Space opera' }] }));
    const job = (await (await admin('POST', '/admin/v1/training-jobs', { domain: 'xss', dataset: { users }, params: { epochs: 1, batchSize: 3, verifySteps: 0, patience: 0 } })).json()) as { jobId: string };
    await eventually(async () => (await (await admin('GET', `/admin/v1/training-jobs/${job.jobId}`)).json()) as { state: string }, (j) => j.state === 'completed', { what: 'the xss job', timeoutMs: 20_000 });

    await page.reload();
    await openView('Training jobs');
    await page.getByTestId(`job-${job.jobId}`).getByTestId('job-trace').click();
    await expect.poll(() => page.getByTestId('trace-text').textContent()).toContain('onerror');
    expect(await page.getByTestId('trace-text').textContent()).toContain(JSON.stringify(HOSTILE_TITLE).slice(1, -1));
    await page.getByTestId(`job-${job.jobId}`).getByTestId('job-report').click();
    await page.getByTestId('report-text').waitFor();

    await openView('Prompt versions');
    await page.getByTestId('domain').selectOption('xss');
    await page.locator('tr[data-version=evil-2] button.link').click();
    await expect.poll(() => page.getByTestId('prompt-text').textContent()).toBe(`${HOSTILE}\n${HOSTILE_TITLE}`);
    await page.getByTestId('diff-a').selectOption('evil-1');
    await page.getByTestId('diff-b').selectOption('evil-2');
    await page.getByTestId('diff-run').click();
    await expect.poll(() => page.locator('[data-testid=diff] .add').allTextContents()).toEqual([`+ ${HOSTILE_TITLE}`]);
    await shot('6-hostile-text');

    // Nothing ran: no dialog, no global set by a payload, no element made from the data, no script error.
    await page.waitForTimeout(500);
    expect(dialogs).toEqual([]);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__xss)).toBeUndefined();
    expect(await page.locator('img[src="x"], a[href^="javascript:"], main script, main a').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    // The only console errors allowed are the browser's own lines for the 401 of the wrong-token login.
    expect(consoleErrors.filter((m) => !/Failed to load resource: the server responded with a status of 401/.test(m))).toEqual([]);
    expect(cspReports()).toEqual([]);
  });

  it('the CSP report endpoint works: an inline script forced into the page is blocked and reported', async () => {
    // The positive control for "no CSP report" above: the same page, the same policy, one real violation.
    await page.evaluate(`{ const s = document.createElement('script'); s.textContent = 'window.__cspProbe = 1'; document.body.append(s); }`);
    await eventually(() => cspReports(), (r) => r.length === 1, { what: 'one CSP report', timeoutMs: 10_000 });
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__cspProbe)).toBeUndefined();
    expect(cspReports()[0]).toMatch(/script-src/);
    expect(dialogs).toEqual([]);
  });

  it('serves only the console files, each with the CSP; the bundle stays small', async () => {
    for (const path of ['/admin/assets/app.js', '/admin/assets/console.css']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await fetch(`${base}/admin/assets/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    for (const path of ['/admin/assets/..%2Fpackage.json', '/admin/assets/index.html', '/admin/assets/nope.js', '/admin/assets/%2e%2e%2fsrc%2fapp.ts']) {
      expect((await fetch(`${base}${path}`)).status).toBe(404);
    }
    const files = await readdir(CONSOLE_DIR);
    const bytes = (await Promise.all(files.map(async (f) => (await stat(join(CONSOLE_DIR, f))).size))).reduce((a, b) => a + b, 0);
    console.log(`console bundle: ${files.length} files, ${bytes} bytes`);
    expect(bytes).toBeLessThan(64 * 1024);
  });
});

describe('admin console without ADMIN_TOKEN', () => {
  it('is not served (404), and neither is the CSP report endpoint', async () => {
    const plain = await buildTestApp({ jobs: false });
    try {
      for (const url of ['/admin', '/admin/', '/admin/assets/app.js']) expect((await plain.app.inject({ method: 'GET', url })).statusCode).toBe(404);
      expect((await plain.app.inject({ method: 'POST', url: '/admin/csp-report', headers: { 'content-type': 'application/csp-report' }, payload: '{}' })).statusCode).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
