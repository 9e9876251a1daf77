import type { Browser, Locator, Page } from '@playwright/test';
import { checkA11y, expect, javaScriptEnabled, test } from './a11y';

/** Synthetic citizens `postkasse demo` seeds (it prints them at start). */
export const KARI = { name: 'Kari Nordmann', fnr: '14838510036' } as const;
export const OLA = { name: 'Ola Nordmann', fnr: '02917910181' } as const;
/** A citizen as the specs log in: the national id and the name the header shows. */
export type Citizen = { readonly name: string; readonly fnr: string };

const K1_WEIGHTS = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const K2_WEIGHTS = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/** A mod-11 control digit over `digits`; undefined when it comes out as 10 (no number has it). */
function controlDigit(digits: string, weights: number[]): number | undefined {
  const sum = [...digits].reduce((total, digit, index) => total + Number(digit) * weights[index], 0);
  const k = (11 - (sum % 11)) % 11;
  return k === 10 ? undefined : k;
}

/**
 * A synthetic national id (month + 80, as test persons in ID-porten have) for
 * a person born on `year-month-day` in the 1900s: the first individual number
 * from `individualFrom` (000–499 mean the 1900s) whose control digits exist.
 * The citizen is unknown to the register and to the demo's letters unless
 * the demo happens to seed the same number (its population is born in 1940).
 */
export function syntheticCitizen(year: number, month: number, day: number, individualFrom = 200): Citizen {
  if (year < 1900 || year > 1999) throw new Error('syntheticCitizen makes 1900s numbers only');
  const two = (n: number) => String(n).padStart(2, '0');
  for (let individual = individualFrom; individual <= 499; individual++) {
    const nine = `${two(day)}${two(month + 80)}${two(year % 100)}${String(individual).padStart(3, '0')}`;
    const k1 = controlDigit(nine, K1_WEIGHTS);
    if (k1 === undefined) continue;
    const k2 = controlDigit(`${nine}${k1}`, K2_WEIGHTS);
    if (k2 === undefined) continue;
    // The header names a citizen without a name in the register by birth date.
    return { name: `innbygger født ${two(day)}.${two(month)}.${year}`, fnr: `${nine}${k1}${k2}` };
  }
  throw new Error(`no synthetic national id for ${year}-${month}-${day} from individual number ${individualFrom}`);
}

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

/** The letter links of the inbox on the page (not the links to other places). */
export function letterLinks(page: Page): Locator {
  return page.getByRole('list', { name: 'Brev' }).getByRole('listitem').getByRole('link');
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
