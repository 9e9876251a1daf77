import type { Browser, Locator, Page } from '@playwright/test';
import { checkA11y, expect, javaScriptEnabled, test } from './a11y';

/** Synthetic citizens `postkasse demo` seeds (it prints them at start). */
export const KARI = { name: 'Kari Nordmann', fnr: '14838510036' } as const;
export const OLA = { name: 'Ola Nordmann', fnr: '02917910181' } as const;
export type Citizen = typeof KARI | typeof OLA;

/** Kari's (and every demo citizen's) letters, as the seed writes them. */
export const LETTERS = {
  skatt: { sender: 'Skatteetaten', title: 'Skatteoppgjør for inntektsåret 2025' },
  nav: { sender: 'NAV', title: 'Vedtak om foreldrepenger', nonSensitiveTitle: 'Du har fått et brev fra NAV' },
  barnehage: { sender: 'Oslo kommune', title: 'Tilbud om barnehageplass' },
  brreg: { sender: 'Brønnøysundregistrene', title: 'Bekreftelse på registrering i Enhetsregisteret' },
} as const;

/** The session cookie's name: `__Host-` prefixed, so Secure, Path=/ and no Domain. */
export const SESSION_COOKIE = '__Host-postkasse-session';

/** The two levels of TestID's form, by the labels of their radio buttons. */
export const TESTID_LEVEL = {
  substantial: 'Betydelig (som MinID)',
  high: 'Høyt (som BankID)',
} as const;

export const FNR_LABEL = 'Syntetisk fødselsnummer (11 siffer)';

/** The letter links of the inbox on the page. */
export function letterLinks(page: Page): Locator {
  return page.getByRole('main').getByRole('listitem').getByRole('link');
}

/** The letter link from `sender` in the inbox on the page. */
export function letterFrom(page: Page, sender: string): Locator {
  return letterLinks(page).filter({ has: page.locator('.sender', { hasText: new RegExp(`^${sender}$`) }) });
}

/**
 * On TestID's login form (checking that it is the form, and its accessibility):
 * types the citizen's number, picks the level and submits.
 */
export async function logInAtTestId(page: Page, citizen: Citizen, level: keyof typeof TESTID_LEVEL): Promise<void> {
  await expect(page).toHaveURL(/\/testid\/authorize\?/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Logg inn med TestID');
  await expect(page.getByRole('radio', { name: TESTID_LEVEL[level] }), 'the level asked for is preselected').toBeChecked();
  await checkA11y(page);
  await page.getByLabel(FNR_LABEL).fill(citizen.fnr);
  await page.getByRole('radio', { name: TESTID_LEVEL[level] }).check();
  await page.getByRole('button', { name: 'Logg inn' }).click();
}

/**
 * Follows a link to a server route that is not a page of the app (`/auth/login`,
 * `/dokumenter/…`). Such links must carry `rel="external"`: without it the
 * hydrated Leptos router takes the click, finds no page and shows its own
 * "Fant ikke siden" instead of letting the browser load the route.
 */
export async function followServerLink(page: Page, link: Locator): Promise<void> {
  await expect(link, 'links to server routes are marked external').toHaveAttribute('rel', /(^|\s)external(\s|$)/);
  await link.click();
}

/**
 * Logs `citizen` in at `level` in a browser context of its own (no JavaScript,
 * no accessibility check: it only sets the scene) and returns that context's
 * page, on the inbox.
 */
export async function loggedInElsewhere(browser: Browser, citizen: Citizen): Promise<Page> {
  const context = await browser.newContext({
    baseURL: test.info().project.use.baseURL,
    javaScriptEnabled: false,
    locale: 'nb-NO',
  });
  const page = await context.newPage();
  await page.goto('/auth/login');
  await page.getByLabel(FNR_LABEL).fill(citizen.fnr);
  await page.getByRole('button', { name: 'Logg inn' }).click();
  await expect(page).toHaveURL(/\/innboks$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Innboks');
  return page;
}

/** The `/brev/<id>` paths of the inbox on the page. */
export async function letterPaths(page: Page): Promise<string[]> {
  const hrefs = await letterLinks(page).evaluateAll((links) => links.map((link) => link.getAttribute('href') ?? ''));
  for (const href of hrefs) expect(href).toMatch(/^\/brev\/[0-9a-f-]{36}$/);
  return hrefs;
}
