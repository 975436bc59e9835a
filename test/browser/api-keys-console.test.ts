/**
 * The console's API keys view in Chromium (issue 13, part 3): create a key (shown once, as text), see it
 * listed with its usage after a rerank, rotate it (the old key is refused), revoke it; a hostile key name is
 * impossible (names are a-z0-9_-) but the server's error text is rendered as text. No dialog, no page error.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';
import { createMemoryApiKeyStore } from '../../src/store/memory-api-key-store.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: the console's browser tests need Debian's chromium`);
const TOKEN = 'console-admin-token-0123456789abcdef';
const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let t: TestApp;
let base: string;
let browser: Browser;
let page: Page;
let shots: string;
const dialogs: string[] = [];
const pageErrors: string[] = [];

const rerank = (key: string) =>
  fetch(`${base}/v1/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ userId: 'u', method: 'baseline', history: [], candidates: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }] }),
  });

describe.skipIf(!haveChromium)('API keys view in Chromium', () => {
  beforeAll(async () => {
    t = await buildTestApp({ env: { ADMIN_TOKEN: TOKEN }, apiKeyStore: createMemoryApiKeyStore(), jobs: false });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    shots = await mkdtemp(join(tmpdir(), 'agp-console-keys-'));
    console.log(`api keys screenshots: ${shots}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('creates, lists with usage, rotates and revokes a key', async () => {
    await page.goto(`${base}/admin`);
    await page.getByTestId('token').fill(TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation').getByRole('button', { name: 'API keys' }).click();

    await page.getByTestId('key-name').fill('team-browser');
    await page.getByTestId('key-quota').fill('100');
    await page.getByTestId('key-submit').click();
    const shown = page.getByTestId('api-key-value');
    await shown.waitFor();
    const key = await shown.inputValue();
    expect(key).toMatch(/^agp_[A-Za-z0-9_-]{43}$/);
    expect((await rerank(key)).status).toBe(200);

    // The list shows the prefix and last 4 characters, never the key, and the usage after a reload.
    await page.getByRole('navigation').getByRole('button', { name: 'API keys' }).click();
    const row = page.locator('[data-testid=api-keys] tbody tr', { hasText: 'team-browser' });
    await expect.poll(() => row.textContent()).toContain(`${key.slice(0, 8)}…${key.slice(-4)}`);
    expect(await page.getByTestId('api-keys').textContent()).not.toContain(key);
    expect(await row.locator('td').nth(6).textContent()).toBe('1');
    await page.screenshot({ path: join(shots, 'api-keys.png'), fullPage: true });

    await row.getByTestId('key-rotate').click();
    await page.getByTestId('confirm-ok').click();
    await expect.poll(async () => (await shown.count()) > 0 && (await shown.inputValue()) !== key).toBe(true);
    const fresh = await shown.inputValue();
    expect((await rerank(key)).status).toBe(401);
    expect((await rerank(fresh)).status).toBe(200);

    await row.getByTestId('key-revoke').click();
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => row.getAttribute('data-state')).toBe('revoked');
    expect((await rerank(fresh)).status).toBe(401);

    // A refused create shows the server's message as text.
    await page.getByTestId('key-name').fill('team-browser');
    await page.getByTestId('key-submit').click();
    await expect.poll(() => page.locator('.status.error').textContent()).toContain('CONFLICT');
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
