/**
 * The admin console in Firefox: Debian's firefox-esr driven by puppeteer-core over WebDriver BiDi (no
 * browser download). A smoke run of what the Chromium suite (console.test.ts) covers in depth: log in, a
 * hostile prompt version rendered as text in the prompt view, an experiment's arms in the experiments view,
 * no dialog, no page error. `.ci/run` installs firefox-esr; locally the suite skips without it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildTestApp, type TestApp } from '../support/build-test-app.js';

const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
const haveFirefox = existsSync(FIREFOX);
if (!haveFirefox) {
  if (process.env.CI) throw new Error(`${FIREFOX} is missing: .ci/run installs firefox-esr`);
  console.warn(`console-firefox: ${FIREFOX} not found; install Debian's firefox-esr to run these tests`);
}

const TOKEN = 'firefox-admin-token-0123456789abcd';
const HOSTILE = `Describe the user. <script>window.__xss = 1</script> <img src=x onerror="alert('ff')"> <a href="javascript:alert('ff')">x</a>`;

let t: TestApp;
let browser: Browser;
let page: Page;
let base = '';
let profileDir = '';
const dialogs: string[] = [];
const pageErrors: string[] = [];

const admin = (method: string, path: string, body?: object) =>
  fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
const textOf = (selector: string) => page.$eval(selector, (el) => el.textContent ?? '');
const clickButton = async (label: string) => {
  const buttons = await page.$$('button');
  for (const b of buttons) {
    if ((await b.evaluate((el) => el.textContent?.trim())) === label) return b.click();
  }
  throw new Error(`no button "${label}"`);
};

describe.skipIf(!haveFirefox)('admin console in Firefox', () => {
  beforeAll(async () => {
    t = await buildTestApp({ jobs: false, env: { ADMIN_TOKEN: TOKEN } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    profileDir = await mkdtemp(join(tmpdir(), 'agp-firefox-'));
    browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, userDataDir: profileDir });
    page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
  });

  it('logs in, renders a hostile prompt version as text, shows an experiment’s arms; no dialog, no page error', async () => {
    expect((await admin('POST', '/admin/v1/prompts', { domain: 'ff', version: 'ff-1', text: HOSTILE, historyLength: 5 })).status).toBe(201);
    expect((await admin('POST', '/admin/v1/experiments', { domain: 'ff', mode: 'ab', arms: [{ name: 'holdout', method: 'baseline' }, { name: 'agp-ff', method: 'agp' }] })).status).toBe(201);

    const res = await page.goto(`${base}/admin`);
    expect(res?.status()).toBe(200);
    await page.type('[data-testid="token"]', TOKEN);
    await clickButton('Log in');
    await page.waitForSelector('[data-testid="logout"]');
    expect(page.url()).not.toContain(TOKEN);

    await clickButton('Prompt versions');
    await page.waitForSelector('[data-testid="domain"]');
    await page.select('[data-testid="domain"]', 'ff');
    // Open the version: its text is shown verbatim, markup and all. (Page code is passed as strings: this file
    // compiles without the DOM lib.)
    await page.waitForSelector('tr[data-version="ff-1"] button.link');
    await page.click('tr[data-version="ff-1"] button.link');
    await page.waitForSelector('[data-testid="prompt-text"]');
    expect(await textOf('[data-testid="prompt-text"]')).toBe(HOSTILE);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(await page.$$('img[src="x"]')).toHaveLength(0);
    expect(await page.$$('a[href^="javascript:"]')).toHaveLength(0);

    await clickButton('Experiments');
    await page.waitForFunction("document.body.textContent.includes('holdout')");
    expect(await textOf('[data-testid="experiments"]')).toContain('ff');

    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
