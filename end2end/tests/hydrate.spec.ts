import type { Page, Response } from '@playwright/test';
import { checkA11y, expect, test, waitForHydration } from './a11y';

// Runs only in the `hydrate` project (the `ssr` project ignores *hydrate*.spec.ts).

/** Everything the browser complained about while the test ran. */
type Complaints = { console: string[]; pageErrors: string[]; failedRequests: string[] };

/**
 * Collects console errors, uncaught exceptions and failed requests. Chromium
 * logs "Failed to load resource" for any document answered with an error
 * status; `expectedErrorPages` lists the pages a test asks for knowing they answer so.
 */
function listen(page: Page, expectedErrorPages: string[] = []): Complaints {
  const complaints: Complaints = { console: [], pageErrors: [], failedRequests: [] };
  page.on('console', (message) => {
    const text = message.text();
    const where = message.location();
    if (
      text.startsWith('Failed to load resource: the server responded with a status of 404') &&
      expectedErrorPages.some((pathname) => where.url && new URL(where.url).pathname === pathname)
    ) {
      return;
    }
    // CSP violations are console errors in Chromium; catch them whatever level they arrive at.
    if (message.type() === 'error' || /content[- ]security[- ]policy/i.test(text)) {
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
    await waitForHydration(page);

    // The bundle came from /pkg/, in full and with the right types. cargo-leptos
    // names the wasm postkasse.wasm; a plain wasm-bindgen build, postkasse_bg.wasm.
    const fetched = [...pkg.keys()].sort();
    const js = pkg.get('/pkg/postkasse.js');
    const wasmPath = fetched.find((pathname) => /^\/pkg\/postkasse(_bg)?\.wasm$/.test(pathname));
    const css = pkg.get('/pkg/postkasse.css');
    expect(js, `postkasse.js among the files fetched from /pkg/: ${fetched.join(', ')}`).toBeDefined();
    expect(wasmPath, `the wasm bundle among the files fetched from /pkg/: ${fetched.join(', ')}`).toBeDefined();
    expect(css, `postkasse.css among the files fetched from /pkg/: ${fetched.join(', ')}`).toBeDefined();
    const wasm = pkg.get(wasmPath!)!;
    expect(js!.status()).toBe(200);
    expect(js!.headers()['content-type']).toMatch(/javascript/);
    expect(wasm.status()).toBe(200);
    // WebAssembly.instantiateStreaming insists on this type.
    expect(wasm.headers()['content-type']).toMatch(/^application\/wasm/);
    // Fetched again rather than read from the browser's response: a debug
    // bundle is larger than the inspector keeps.
    const wasmBody = await (await page.request.get(wasmPath!)).body();
    expect(wasmBody.subarray(0, 4).toString('latin1'), 'the wasm magic number').toBe('\0asm');
    expect(css!.status()).toBe(200);
    expect(css!.headers()['content-type']).toMatch(/text\/css/);

    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Din digitale postkasse');
    await expectClean(page, complaints);
  });

  test('the not-found page hydrates too, and its link home navigates in the browser', async ({ page }) => {
    const complaints = listen(page, ['/finnes-ikke']);
    await recordCspViolations(page);

    const response = await page.goto('/finnes-ikke');
    expect(response?.status()).toBe(404);
    await waitForHydration(page);
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
    // Every inline script with code in it carries that nonce, or the browser
    // would refuse to hydrate. An empty one (leptos_i18n renders one as a
    // placeholder) is never run, so no policy applies to it (HTML's "prepare
    // the script element" returns before the CSP check when there is no code).
    const html = await response.text();
    const inlineScripts = [...html.matchAll(/<script(?![^>]*\ssrc=)([^>]*)>([\s\S]*?)<\/script>/g)];
    const withCode = inlineScripts.filter(([, , code]) => code.trim() !== '');
    expect(withCode.length, 'inline hydration scripts').toBeGreaterThan(0);
    for (const [, attributes] of withCode) {
      expect(attributes).toContain(`nonce="${nonce}"`);
    }
    nonces.push(nonce!);
  }
  expect(nonces[0]).not.toBe(nonces[1]);
});
