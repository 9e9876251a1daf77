import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page, type Response } from '@playwright/test';

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

/**
 * Runs axe on the page as it is now and fails on any serious or critical
 * violation of WCAG 2.1 A/AA, naming the rule, its impact, its help text and
 * the elements that break it.
 */
export async function checkA11y(page: Page): Promise<void> {
  const url = page.url();
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
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
}

/**
 * Goes to `path` (relative to baseURL) and checks the page's accessibility.
 * Returns the navigation's response so tests can look at its status.
 */
export async function visit(page: Page, path: string): Promise<Response | null> {
  const response = await page.goto(path);
  await checkA11y(page);
  return response;
}

/**
 * Playwright's `test`, whose `page` also runs axe at the end of every test on
 * whatever page is open then, so no page a test ends on goes unchecked.
 */
export const test = base.extend<{ page: Page }>({
  page: async ({ page }, use, testInfo) => {
    await use(page);
    const finishedAsExpected = testInfo.status === testInfo.expectedStatus && testInfo.status === 'passed';
    if (finishedAsExpected && !page.isClosed() && page.url() !== 'about:blank') {
      await test.step('axe on the last page', () => checkA11y(page), { box: true });
    }
  },
});

export { expect };
