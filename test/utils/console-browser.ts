import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import type { Chromium } from './chromium';
import { REPO_ROOT } from './server-process';

/**
 * What the web console's browser tests share (test/e2e/console-browser*.e2e-spec.ts): signing in,
 * the axe-core check every page passes, and the screenshots in test-results/console-*.png.
 */
export const SCREENSHOTS = join(REPO_ROOT, 'test-results');
export const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const CONSOLE_PASSWORD = 'console browser password';
export const BROWSER_TIMEOUT = 20_000;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core run in the page or frame (evaluated over the DevTools protocol: the page's CSP admits no injected script). */
export async function seriousViolations(page: Page | Frame): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  )) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
}

/** The page is accessible (no serious or critical axe finding) and gets its screenshot. */
export async function checkPage(page: Page, name: string): Promise<void> {
  await shot(page, name);
  expect({ page: name, violations: await seriousViolations(page) }).toEqual({ page: name, violations: [] });
}

/** A new page of `browser`, at a desktop size; Content-Security-Policy reports of its console go to `cspViolations`. */
export async function openPage(
  browser: Chromium,
  cspViolations: string[],
  viewport = { width: 1280, height: 900 },
): Promise<Page> {
  const page = await browser.context.newPage();
  await page.setViewportSize(viewport);
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return page;
}

/** Signs in through the console's sign-in page at `base` and waits for the signed-in console. */
export async function signIn(page: Page, base: string, username: string, password = CONSOLE_PASSWORD): Promise<void> {
  await page.goto(`${base}/console/`);
  await page.getByLabel('Username or e-mail').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-as').waitFor({ timeout: BROWSER_TIMEOUT });
}
