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
    const letterPath = new URL(page.url()).pathname;
    const link = page.getByRole('main').getByRole('region', { name: 'Dokumenter' }).getByRole('link');
    const href = (await link.getAttribute('href'))!;
    // The browser must ask the server for the PDF (whatever it then does with it: show or download).
    const asked = page.waitForRequest((request) => new URL(request.url()).pathname === href, { timeout: 5_000 });
    await link.click();
    expect((await asked).url()).toContain(href);
    // Back on our own page: the end-of-test axe check is for our pages, not
    // for the browser's PDF viewer. Loaded afresh rather than by going back:
    // Chromium sometimes restores the page from its cache under the PDF
    // response's policy, which blocks the page's inline scripts.
    await page.goto(letterPath);
    await arrived(page);
  });
});
