import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page, type Response } from '@playwright/test';

/** Matches the document once the wasm bundle has hydrated it. */
export const HYDRATED = 'html[data-hydrated="true"]';

/** The WCAG levels Postkasse promises: 2.0 and 2.1, A and AA. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Impacts that fail a test. Minor and moderate findings are printed only. */
const FAILING_IMPACTS = new Set(['serious', 'critical']);

type Violation = Awaited<ReturnType<AxeBuilder['analyze']>>['violations'][number];

function describe(violations: Violation[]): string {
  return violations
    .map((violation) => {
      const nodes = violation.nodes
        .map((node) => `    - ${node.target.join(' ')}${node.failureSummary ? `\n      ${node.failureSummary.replaceAll('\n', '\n      ')}` : ''}`)
        .join('\n');
      return `  [${violation.impact}] ${violation.id}: ${violation.help}\n    ${violation.helpUrl}\n${nodes}`;
    })
    .join('\n');
}

/** Whether the running test's project has JavaScript on (`hydrate`) or off (`ssr`). */
export function javaScriptEnabled(): boolean {
  return test.info().project.use.javaScriptEnabled !== false;
}

/**
 * axe runs inside the page, which a page without JavaScript does not allow
 * (AxeBuilder waits forever). So the page's current DOM, exactly as the browser
 * built it without JavaScript, is loaded into a twin page of the same browser
 * that allows scripts, with the app's own scripts and wasm blocked so the twin
 * stays unhydrated, and axe analyses the twin. Stylesheets and images come from
 * the server as usual, so contrast and layout checks see the real page.
 * (Caveat for the future: `<noscript>` content would not render in the twin.)
 */
async function analyzeWithoutJavaScript(page: Page) {
  const browser = page.context().browser();
  if (!browser) throw new Error('checkA11y needs a page from a launched browser');
  const url = page.url();
  const documentUrl = new URL(url);
  documentUrl.hash = '';
  const html = await page.content();
  const context = await browser.newContext({
    javaScriptEnabled: true,
    viewport: page.viewportSize(),
    locale: 'nb-NO',
  });
  try {
    await context.route('**/*', async (route) => {
      const request = route.request();
      if (request.isNavigationRequest() && request.url() === documentUrl.href) {
        return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      }
      if (request.resourceType() === 'script' || /\.wasm([?#]|$)/.test(request.url())) {
        return route.abort('blockedbyclient');
      }
      return route.continue();
    });
    const twin = await context.newPage();
    await twin.goto(url);
    await expect(twin.locator('html'), 'the twin page must stay server-rendered').not.toHaveAttribute('data-hydrated');
    return await new AxeBuilder({ page: twin }).withTags(WCAG_TAGS).analyze();
  } finally {
    await context.close();
  }
}

/**
 * Runs axe on the page as it is now and fails on any serious or critical
 * violation of WCAG 2.1 A/AA, naming the rule, its impact, its help text and
 * the elements that break it.
 */
export async function checkA11y(page: Page): Promise<void> {
  const url = page.url();
  const snapshot = `${url}\n${await page.content()}`;
  const results = javaScriptEnabled()
    ? await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze()
    : await analyzeWithoutJavaScript(page);
  const failing = results.violations.filter((violation) => FAILING_IMPACTS.has(violation.impact ?? ''));
  const other = results.violations.filter((violation) => !FAILING_IMPACTS.has(violation.impact ?? ''));

  if (other.length > 0) {
    console.warn(`axe: ${other.length} minor or moderate finding(s) on ${url}:\n${describe(other)}`);
  }
  if (failing.length > 0) {
    const report = `axe: ${failing.length} serious or critical accessibility violation(s) on ${url}:\n${describe(failing)}`;
    console.error(report);
    await test.info().attach(`axe violations on ${url}`, {
      body: JSON.stringify(results.violations, null, 2),
      contentType: 'application/json',
    });
    expect(failing.map((violation) => violation.id), report).toEqual([]);
  }
  // axe must actually have looked at something: a page it could not analyse
  // would otherwise pass silently.
  expect(results.passes.length, `axe ran no passing rule on ${url}`).toBeGreaterThan(0);
  lastChecked.set(page, snapshot);
}

/** What each page looked like when axe last passed it, so an unchanged page is not checked twice. */
const lastChecked = new WeakMap<Page, string>();

async function unchangedSinceLastCheck(page: Page): Promise<boolean> {
  return lastChecked.get(page) === `${page.url()}\n${await page.content()}`;
}

/** Uncaught errors and console errors of each page, for a failure to say what went wrong in the browser. */
const pageErrors = new WeakMap<Page, string[]>();

/**
 * Waits until the wasm bundle has taken the page over (JavaScript enabled
 * only). When it does not, says which /pkg/ files the page asked for and what
 * the server answered, the usual cause being a server binary and a site
 * directory from different builds.
 */
export async function waitForHydration(page: Page): Promise<void> {
  try {
    // Generous: a debug wasm bundle compiles slowly on a busy two-core machine.
    await expect(page.locator(HYDRATED)).toBeAttached({ timeout: 45_000 });
  } catch (error) {
    const fetched = await page
      .evaluate(() =>
        performance
          .getEntriesByType('resource')
          .map((entry) => entry as PerformanceResourceTiming)
          .filter((entry) => new URL(entry.name).pathname.startsWith('/pkg/'))
          .map((entry) => `${new URL(entry.name).pathname} -> HTTP ${entry.responseStatus}`),
      )
      .catch((reason: unknown) => [`(could not read the page's resource timings: ${reason})`]);
    throw new Error(
      `The page at ${page.url()} did not hydrate within 45 s (no ${HYDRATED}).\n` +
        `Files fetched from /pkg/: ${fetched.length ? fetched.join(', ') : 'none'}.\n` +
        'A 404 for the wasm means POSTKASSE_BIN and POSTKASSE_SITE_ROOT come from different builds: ' +
        'a server binary built by plain `cargo build` asks for postkasse_bg.wasm, one built by ' +
        '`cargo leptos build` for postkasse.wasm. Run `cargo leptos build` last.\n' +
        `Errors in the browser: ${(pageErrors.get(page) ?? []).slice(-10).join('\n') || 'none'}.\n` +
        String(error),
    );
  }
}

/**
 * Goes to `path` (relative to baseURL), waits for hydration when JavaScript is
 * enabled, and checks the page's accessibility. Returns the navigation's
 * response so tests can look at its status.
 */
export async function visit(page: Page, path: string): Promise<Response | null> {
  const response = await page.goto(path);
  if (javaScriptEnabled()) await waitForHydration(page);
  await checkA11y(page);
  return response;
}

/**
 * For a page of the app reached by clicking, a form or a redirect rather than
 * by `visit`: waits for hydration when JavaScript is enabled, then checks the
 * page's accessibility.
 */
export async function arrived(page: Page): Promise<void> {
  if (javaScriptEnabled()) await waitForHydration(page);
  await checkA11y(page);
}

/**
 * Playwright's `test`, whose `page` also runs axe at the end of every test on
 * whatever page is open then, so no page a test ends on goes unchecked.
 */
export const test = base.extend<{ page: Page }>({
  page: async ({ page }, use, testInfo) => {
    const errors: string[] = [];
    pageErrors.set(page, errors);
    page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`${page.url()}: console: ${message.text()}`);
    });
    await use(page);
    const finishedAsExpected = testInfo.status === testInfo.expectedStatus && testInfo.status === 'passed';
    if (finishedAsExpected && !page.isClosed() && page.url() !== 'about:blank' && !(await unchangedSinceLastCheck(page))) {
      await test.step('axe on the last page', () => checkA11y(page), { box: true });
    }
  },
});

export { expect };
