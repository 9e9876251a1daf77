import type { Page } from '@playwright/test';
import { arrived, expect, test, visit, waitForHydration } from './a11y';
import { FNR_LABEL, KARI, LETTERS, letterFrom } from './citizens';

// Runs only in the `hydrate` project (the `ssr` project ignores *hydrate*.spec.ts).
//
// Once hydrated, the Leptos router takes every click on a same-origin `<a>`
// without `target`, `download` or `rel="external"` and looks for a client-side
// page. Links to server routes (the header's and the 401 page's "Logg inn",
// the step-up, document links) carry `rel="external"`; one test per link
// shows each reaches the server when a citizen clicks it.

/** After clicking a link to /auth/login: the browser must have left the app for TestID's form. */
async function expectTestIdForm(page: Page): Promise<void> {
  await expect(page).toHaveURL(/\/testid\/authorize\?/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Logg inn med TestID');
}

async function logIn(page: Page): Promise<void> {
  await page.goto('/auth/login');
  await page.getByLabel(FNR_LABEL).fill(KARI.fnr);
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await expect(page).toHaveURL('/innboks');
  await waitForHydration(page);
}

test.describe('once hydrated, links to server routes leave the app', () => {
  test('the header\'s "Logg inn"', async ({ page }) => {
    await visit(page, '/');
    await page.getByRole('banner').getByRole('link', { name: 'Logg inn' }).click();
    await expectTestIdForm(page);
  });

  test('"Logg inn" on the inbox\'s 401 page', async ({ page }) => {
    await visit(page, '/innboks');
    await page.getByRole('main').getByRole('link', { name: 'Logg inn' }).click();
    await expectTestIdForm(page);
  });

  test('"Logg inn med høyere sikkerhetsnivå"', async ({ page }) => {
    await logIn(page);
    await letterFrom(page, LETTERS.nav.sender).click();
    await arrived(page);
    await page.getByRole('main').getByRole('link', { name: 'Logg inn med høyere sikkerhetsnivå' }).click();
    await expectTestIdForm(page);
    await expect(page.getByRole('radio', { name: 'Høyt (som BankID)' })).toBeChecked();
  });

  test('a document link', async ({ page }) => {
    await logIn(page);
    await letterFrom(page, LETTERS.skatt.sender).click();
    await arrived(page);
    const link = page.getByRole('main').getByRole('region', { name: 'Dokumenter' }).getByRole('link');
    const href = (await link.getAttribute('href'))!;
    // The browser must ask the server for the PDF. The test fetches the
    // server's real answer, checks it, and hands the browser a 204 instead,
    // so the page stays: the browser's PDF viewer is not ours to check, and
    // leaving for it and coming back made Chromium now and then run the
    // page under the PDF response's policy, which blocks its inline scripts.
    const served = new Promise<{ status: number; type: string }>((resolve) => {
      void page.route(
        (url) => url.pathname === href,
        async (route) => {
          const response = await route.fetch();
          resolve({ status: response.status(), type: response.headers()['content-type'] ?? '' });
          await route.fulfill({ status: 204 });
        },
      );
    });
    await link.click();
    const answer = await served;
    expect(answer.status, 'the server serves the document').toBe(200);
    expect(answer.type).toBe('application/pdf');
    await expect(page.getByRole('main').getByRole('region', { name: 'Dokumenter' })).toBeVisible();
  });
});
