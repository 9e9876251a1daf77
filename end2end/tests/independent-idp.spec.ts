import type { Page, Request } from '@playwright/test';
import { arrived, checkA11y, expect, test, visit } from './a11y';
import { KARI, LETTERS, SESSION_COOKIE, followServerLink, letterFrom, letterLinks } from './citizens';
import { IDP_CLIENT_ID, IDP_URL, INDEPENDENT_APP_URL } from './servers';

// The second Postkasse (TestID disabled) logs citizens in through panva's
// oidc-provider, configured like ID-porten in idp/server.mjs: proof that the
// relying party is not tuned to TestID. The provider's pages need no
// JavaScript, so this runs in both projects.
test.use({ baseURL: INDEPENDENT_APP_URL });

const ACR_SUBSTANTIAL = 'idporten-loa-substantial';
const ACR_HIGH = 'idporten-loa-high';

/** Records the browser's requests to the provider's authorization endpoint and to our callback. */
function watchLogin(page: Page): { authorizations: URL[]; callbacks: URL[] } {
  const seen = { authorizations: [] as URL[], callbacks: [] as URL[] };
  page.on('request', (request: Request) => {
    const url = new URL(request.url());
    if (url.origin === IDP_URL && url.pathname === '/auth') seen.authorizations.push(url);
    if (url.origin === INDEPENDENT_APP_URL && url.pathname === '/auth/callback') seen.callbacks.push(url);
  });
  return seen;
}

/** On the provider's own login page: checks it is that page, then logs in. */
async function logInAtProvider(page: Page, fnr: string, level: 'Betydelig' | 'Høyt', preselected: 'Betydelig' | 'Høyt') {
  await expect(page).toHaveURL(new RegExp(`^${IDP_URL}/interaction/`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Logg inn hos uavhengig testleverandør');
  await expect(page.getByRole('radio', { name: preselected }), 'the level the client asked for is preselected').toBeChecked();
  await checkA11y(page);
  await page.getByLabel('Fødselsnummer (11 siffer)').fill(fnr);
  await page.getByRole('radio', { name: level }).check();
  await page.getByRole('button', { name: 'Logg inn' }).click();
}

/** Postkasse's page for a login it refused (its reasons go to the log only). */
async function expectRefusedLogin(page: Page, status: Promise<number>) {
  await expect(page).toHaveURL(new RegExp(`^${INDEPENDENT_APP_URL}/auth/callback\\?`));
  expect(await status).toBe(400);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Innloggingen mislyktes');
  await checkA11y(page);
  expect((await page.context().cookies()).map((cookie) => cookie.name)).not.toContain(SESSION_COOKIE);
  expect((await page.request.get('/innboks')).status()).toBe(401);
}

function callbackStatus(page: Page): Promise<number> {
  return page
    .waitForResponse((response) => new URL(response.url()).pathname === '/auth/callback')
    .then((response) => response.status());
}

test.describe('with an independent OpenID provider', () => {
  // Each test logs in at least once, with axe on every page: more than the default 30 s.
  test.slow();

  test('Kari logs in and sees her inbox', async ({ page }) => {
    const seen = watchLogin(page);
    const banner = page.getByRole('banner');

    await visit(page, '/');
    await followServerLink(page, banner.getByRole('link', { name: 'Logg inn' }));
    await logInAtProvider(page, KARI.fnr, 'Betydelig', 'Betydelig');

    await expect(page).toHaveURL(`${INDEPENDENT_APP_URL}/innboks`);
    await arrived(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Innboks');
    await expect(banner).toContainText(`Logget inn som ${KARI.name}`);
    await expect(banner).not.toContainText('høyt nivå');
    await expect(letterLinks(page)).toHaveCount(4);
    await expect(letterFrom(page, LETTERS.skatt.sender)).toContainText(LETTERS.skatt.title);
    await expect(letterFrom(page, LETTERS.nav.sender)).toContainText(
      `${LETTERS.nav.nonSensitiveTitle} (krever høyt sikkerhetsnivå)`,
    );

    // What the relying party asked for, and what the provider answered.
    expect(seen.authorizations).toHaveLength(1);
    const asked = seen.authorizations[0].searchParams;
    expect(Object.fromEntries(asked)).toMatchObject({
      response_type: 'code',
      client_id: IDP_CLIENT_ID,
      redirect_uri: `${INDEPENDENT_APP_URL}/auth/callback`,
      code_challenge_method: 'S256',
      acr_values: ACR_SUBSTANTIAL,
    });
    expect(asked.get('scope')?.split(' ')).toContain('openid');
    expect(asked.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(asked.get('state')).toBeTruthy();
    expect(asked.get('nonce')).toBeTruthy();
    expect(seen.callbacks).toHaveLength(1);
    const answered = seen.callbacks[0].searchParams;
    expect(answered.get('iss'), 'the RFC 9207 iss parameter').toBe(IDP_URL);
    expect(answered.get('state')).toBe(asked.get('state'));
    expect(answered.get('code')).toBeTruthy();

    const session = (await page.context().cookies()).find((cookie) => cookie.name === SESSION_COOKIE);
    expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax' });
  });

  test('a level-4 letter steps up to level high at the provider', async ({ page }) => {
    const seen = watchLogin(page);
    const main = page.getByRole('main');

    await page.goto('/auth/login');
    await logInAtProvider(page, KARI.fnr, 'Betydelig', 'Betydelig');
    await expect(page).toHaveURL(`${INDEPENDENT_APP_URL}/innboks`);
    await arrived(page);
    await letterFrom(page, LETTERS.nav.sender).click();
    await expect(page).toHaveURL(/\/brev\/[0-9a-f-]{36}$/);
    await arrived(page);
    const letterPath = new URL(page.url()).pathname;
    await expect(main.getByRole('heading', { level: 2 })).toHaveText(['Brevet krever høyt sikkerhetsnivå', 'Ordne brevet', 'Tilgangslogg']);
    expect(await page.content()).not.toContain(LETTERS.nav.title);

    // The provider has a session at level substantial; asked for high, it makes her log in again.
    await followServerLink(page, main.getByRole('link', { name: 'Logg inn med høyere sikkerhetsnivå' }));
    await logInAtProvider(page, KARI.fnr, 'Høyt', 'Høyt');
    expect(seen.authorizations.map((url) => url.searchParams.get('acr_values'))).toEqual([ACR_SUBSTANTIAL, ACR_HIGH]);

    await expect(page).toHaveURL(`${INDEPENDENT_APP_URL}${letterPath}`);
    await arrived(page);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(LETTERS.nav.title);
    await expect(page.getByRole('banner')).toContainText(`Logget inn som ${KARI.name} (høyt nivå)`);
    const document = main.getByRole('region', { name: 'Dokumenter' }).getByRole('link');
    const pdf = await page.request.get((await document.getAttribute('href'))!);
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
  });

  test('a login at a lower level than asked for is refused', async ({ page }) => {
    await page.goto('/auth/login?level=high&return_to=/innboks');
    const status = callbackStatus(page);
    // The provider lets the tester pick a lower level than requested; its ID token then says so in acr.
    await logInAtProvider(page, KARI.fnr, 'Betydelig', 'Høyt');
    await expectRefusedLogin(page, status);
  });

  test('a pid that is not a valid national id is refused', async ({ page }) => {
    await page.goto('/auth/login');
    const status = callbackStatus(page);
    // Eleven digits satisfy the provider; the control digits do not satisfy Postkasse.
    await logInAtProvider(page, '14838510037', 'Betydelig', 'Betydelig');
    await expectRefusedLogin(page, status);
  });

  test('cancelling at the provider comes back as a failed login', async ({ page }) => {
    await page.goto('/auth/login');
    await expect(page).toHaveURL(new RegExp(`^${IDP_URL}/interaction/`));
    const status = callbackStatus(page);
    await page.getByRole('button', { name: 'Avbryt' }).click();
    await expectRefusedLogin(page, status);
    const back = page.getByRole('main').getByRole('link', { name: 'Prøv å logge inn på nytt' });
    await expect(back).toHaveAttribute('href', '/auth/login');
  });

  test('"Logg ut" ends Postkasse\'s own session', async ({ page }) => {
    await page.goto('/auth/login');
    await logInAtProvider(page, KARI.fnr, 'Betydelig', 'Betydelig');
    await expect(page).toHaveURL(`${INDEPENDENT_APP_URL}/innboks`);
    await arrived(page);
    const session = (await page.context().cookies()).find((cookie) => cookie.name === SESSION_COOKIE)!;

    await page.getByRole('banner').getByRole('button', { name: 'Logg ut' }).click();
    // Whatever the browser does next (see the test below), the server has ended the session.
    await expect.poll(async () => (await page.request.get('/innboks')).status()).toBe(401);
    expect((await page.context().cookies()).map((cookie) => cookie.name)).not.toContain(SESSION_COOKIE);
    const replayed = await page.request.get('/innboks', { headers: { cookie: `${SESSION_COOKIE}=${session.value}` } });
    expect(replayed.status()).toBe(401);
  });

  test('"Logg ut" ends the session here and at the provider', async ({ page }) => {
    await page.goto('/auth/login');
    await logInAtProvider(page, KARI.fnr, 'Betydelig', 'Betydelig');
    await expect(page).toHaveURL(`${INDEPENDENT_APP_URL}/innboks`);
    await arrived(page);

    await page.getByRole('banner').getByRole('button', { name: 'Logg ut' }).click();
    await expect(page).toHaveURL(new RegExp(`^${IDP_URL}/session/end`));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Vil du logge ut?');
    await page.getByRole('button', { name: 'Ja, logg meg ut' }).click();
    await expect(page).toHaveURL(`${INDEPENDENT_APP_URL}/`);
    await arrived(page);
    await expect(page.getByRole('banner').getByRole('link', { name: 'Logg inn' })).toBeVisible();
    expect((await page.request.get('/innboks')).status()).toBe(401);
    // The provider's session is over too: logging in again asks who you are.
    await page.goto('/auth/login');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Logg inn hos uavhengig testleverandør');
  });
});
