import type { Page, Response } from '@playwright/test';
import { checkA11y, expect, test } from './a11y';

// Runs only in the `hydrate` project (the `ssr` project ignores *hydrate*.spec.ts).

const HYDRATED = 'html[data-hydrated="true"]';

/** Everything the browser complained about while the test ran. */
type Complaints = { console: string[]; pageErrors: string[]; failedRequests: string[] };

function listen(page: Page): Complaints {
  const complaints: Complaints = { console: [], pageErrors: [], failedRequests: [] };
  page.on('console', (message) => {
    const text = message.text();
    // CSP violations are console errors in Chromium; catch them whatever level they arrive at.
    if (message.type() === 'error' || /content[- ]security[- ]policy/i.test(text)) {
      const where = message.location();
      complaints.console.push(`[${message.type()}] ${text}${where.url ? ` (${where.url}:${where.lineNumber})` : ''}`);
    }
  });
  page.on('pageerror', (error) => complaints.pageErrors.push(`${error.name}: ${error.message}`));
  page.on('requestfailed', (request) =>
    complaints.failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
  );
  return complaints;
}

/** Records every `securitypolicyviolation` event the document fires, from its very start. */
async function recordCspViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => {
      seen.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`);
    });
  });
}

async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? ['(recorder missing)']);
}

async function expectClean(page: Page, complaints: Complaints): Promise<void> {
  expect(complaints.pageErrors, 'uncaught exceptions or wasm panics').toEqual([]);
  expect(complaints.console, 'console errors (including CSP violations)').toEqual([]);
  expect(await cspViolations(page), 'securitypolicyviolation events').toEqual([]);
  expect(complaints.failedRequests, 'requests that failed').toEqual([]);
}

test.describe('with JavaScript', () => {
  test('the front page hydrates without errors or CSP violations', async ({ page }) => {
    const complaints = listen(page);
    await recordCspViolations(page);
    const pkg = new Map<string, Response>();
    page.on('response', (response) => {
      const { pathname } = new URL(response.url());
      if (pathname.startsWith('/pkg/')) pkg.set(pathname, response);
    });

    const response = await page.goto('/');
    expect(response?.status()).toBe(200);
    await expect(page.locator(HYDRATED)).toBeAttached({ timeout: 15_000 });

    // The bundle came from /pkg/, in full and with the right types.
    const js = pkg.get('/pkg/postkasse.js');
    const wasm = pkg.get('/pkg/postkasse_bg.wasm');
    const css = pkg.get('/pkg/postkasse.css');
    expect([...pkg.keys()].sort(), 'files fetched from /pkg/').toEqual(
      expect.arrayContaining(['/pkg/postkasse.css', '/pkg/postkasse.js', '/pkg/postkasse_bg.wasm']),
    );
    expect(js?.status()).toBe(200);
    expect(js?.headers()['content-type']).toMatch(/javascript/);
    expect(wasm?.status()).toBe(200);
    // WebAssembly.instantiateStreaming insists on this type.
    expect(wasm?.headers()['content-type']).toMatch(/^application\/wasm/);
    const wasmBody = await wasm!.body();
    expect(wasmBody.subarray(0, 4).toString('latin1'), 'the wasm magic number').toBe('\0asm');
    expect(css?.status()).toBe(200);
    expect(css?.headers()['content-type']).toMatch(/text\/css/);

    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Din digitale postkasse');
    await expectClean(page, complaints);
  });

  test('the not-found page hydrates too, and its link home navigates in the browser', async ({ page }) => {
    const complaints = listen(page);
    await recordCspViolations(page);

    const response = await page.goto('/finnes-ikke');
    expect(response?.status()).toBe(404);
    await expect(page.locator(HYDRATED)).toBeAttached({ timeout: 15_000 });
    await checkA11y(page);

    // A marker on window survives only if the router navigates without reloading the document.
    await page.evaluate(() => ((window as unknown as { __samePage: boolean }).__samePage = true));
    const documentRequests: string[] = [];
    page.on('request', (request) => {
      if (request.resourceType() === 'document') documentRequests.push(request.url());
    });
    await page.getByRole('main').getByRole('link', { name: 'forsiden' }).click();

    await expect(page).toHaveURL('/');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Din digitale postkasse');
    await expect(page).toHaveTitle('Forside – Postkasse');
    expect(await page.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage)).toBe(true);
    expect(documentRequests, 'full page loads during client-side navigation').toEqual([]);
    await expectClean(page, complaints);
  });

  test('the skip link still moves focus to the main content once hydrated', async ({ page }) => {
    await page.goto('/');
    await expect(page.locator(HYDRATED)).toBeAttached({ timeout: 15_000 });

    await page.keyboard.press('Tab');
    await expect(page.getByRole('link', { name: 'Hopp til hovedinnhold' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/#hovedinnhold$/);
    await expect(page.getByRole('main')).toBeFocused();
  });
});

test('pages send a strict Content-Security-Policy with a fresh script nonce', async ({ request }) => {
  const nonces: string[] = [];
  for (let i = 0; i < 2; i++) {
    const response = await request.get('/');
    const policy = response.headers()['content-security-policy'];
    expect(policy, 'the page has a CSP').toBeTruthy();
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).toContain("default-src 'self'");
    const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
    expect(nonce, `a script nonce in ${policy}`).toBeTruthy();
    // Every inline script carries that nonce, or the browser would refuse to hydrate.
    const html = await response.text();
    const inlineScripts = [...html.matchAll(/<script(?![^>]*\ssrc=)([^>]*)>/g)].map((match) => match[1]);
    expect(inlineScripts.length, 'inline hydration scripts').toBeGreaterThan(0);
    for (const attributes of inlineScripts) {
      expect(attributes).toContain(`nonce="${nonce}"`);
    }
    nonces.push(nonce!);
  }
  expect(nonces[0]).not.toBe(nonces[1]);
});
