import { arrived, checkA11y, expect, test, visit } from './a11y';
import { pdfText } from './pdf';
import {
  FNR_LABEL,
  KARI,
  LETTERS,
  OLA,
  SESSION_COOKIE,
  followServerLink,
  letterFrom,
  letterLinks,
  letterPaths,
  logInAtTestId,
  loggedInElsewhere,
} from './citizens';

// Runs in both projects: logging in, reading and logging out must work without JavaScript too.

test.describe('a citizen', () => {
  // Logs in (twice) and reads several pages, each checked by axe: more than the default 30 s.
  test.slow();

  test('logs in, reads her letters, steps up to read a level-4 letter and logs out', async ({ page, request }) => {
    // Twelve pages, each checked by axe (through a twin page without JavaScript): about a minute.
    test.setTimeout(180_000);
    const banner = page.getByRole('banner');
    const main = page.getByRole('main');

    await test.step('the front page offers to log in', async () => {
      await visit(page, '/');
      await expect(banner.getByRole('button', { name: 'Logg ut' })).toHaveCount(0);
      await followServerLink(page, banner.getByRole('link', { name: 'Logg inn' }));
    });

    await test.step('TestID at level substantial lands her on her inbox', async () => {
      await logInAtTestId(page, KARI, 'substantial');
      await expect(page).toHaveURL('/innboks');
      await arrived(page);
      await expect(page).toHaveTitle('Innboks – Postkasse');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Innboks');
      await expect(banner).toContainText(`Logget inn som ${KARI.name}`);
      await expect(banner.getByText(KARI.name)).toHaveJSProperty('tagName', 'STRONG');
      await expect(banner).not.toContainText('høyt nivå');
      await expect(banner.getByRole('link', { name: 'Innboks' })).toHaveAttribute('href', '/innboks');
      await expect(banner.getByRole('button', { name: 'Logg ut' })).toBeVisible();
      await expect(banner.getByRole('link', { name: 'Logg inn' })).toHaveCount(0);
    });

    await test.step('the session cookie is __Host-, Secure, HttpOnly and SameSite=Lax', async () => {
      const cookies = await page.context().cookies();
      const session = cookies.find((cookie) => cookie.name === SESSION_COOKIE);
      expect(session, `a ${SESSION_COOKIE} cookie among ${cookies.map((cookie) => cookie.name).join(', ')}`).toBeDefined();
      expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
      // The login cookie has done its job and is gone.
      expect(cookies.map((cookie) => cookie.name)).not.toContain('__Host-postkasse-login');
    });

    await test.step('the inbox lists her four letters, the level-4 one under its non-sensitive title', async () => {
      await expect(letterLinks(page)).toHaveCount(4);
      for (const letter of [LETTERS.skatt, LETTERS.barnehage, LETTERS.brreg]) {
        await expect(letterFrom(page, letter.sender)).toContainText(letter.title);
      }
      await expect(letterFrom(page, LETTERS.nav.sender)).toContainText(
        `${LETTERS.nav.nonSensitiveTitle} (krever høyt sikkerhetsnivå)`,
      );
      // Not on the page, and not in the data the page carries for hydration either.
      expect(await page.content()).not.toContain(LETTERS.nav.title);
    });

    let documentHref = '';
    await test.step('she opens the Skatteetaten letter and its PDF', async () => {
      await letterFrom(page, LETTERS.skatt.sender).click();
      await expect(page).toHaveURL(/\/brev\/[0-9a-f-]{36}$/);
      await arrived(page);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(LETTERS.skatt.title);
      await expect(page).toHaveTitle(`${LETTERS.skatt.title} – Postkasse`);
      const facts = main.locator('dl');
      await expect(facts.locator('dt')).toHaveText(['Fra', 'Mottatt']);
      // The demo's senders are registered DPI agencies, so they are labelled public bodies.
      await expect(facts.locator('dd').first()).toHaveText(`${LETTERS.skatt.sender} (offentlig virksomhet)`);
      const documents = main.getByRole('region', { name: 'Dokumenter' });
      await expect(documents.getByRole('heading', { level: 2 })).toHaveText('Dokumenter');
      const letterId = new URL(page.url()).pathname.split('/').pop();
      const link = documents.getByRole('link');
      await expect(link).toHaveCount(1);
      await expect(link).toHaveAttribute('href', `/dokumenter/${letterId}/0`);
      documentHref = (await link.getAttribute('href'))!;

      // page.request shares the browser's cookies, so this is what clicking the link fetches.
      const pdf = await page.request.get(documentHref);
      expect(pdf.status()).toBe(200);
      expect(pdf.headers()['content-type']).toBe('application/pdf');
      expect(pdf.headers()['cache-control']).toBe('no-store');
      expect(pdf.headers()['content-disposition']).toMatch(/^inline;/);
      const bytes = await pdf.body();
      expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      // Her letter: the demo writes the addressee's name into the PDF.
      expect(await pdfText(bytes)).toContain(`Til: ${KARI.name}`);
      // Without her cookies, nobody gets it.
      expect((await request.get(documentHref)).status()).toBe(401);
    });

    let navPath = '';
    await test.step('the NAV letter is locked at level substantial, its title and documents withheld', async () => {
      await main.getByRole('link', { name: 'Tilbake til innboksen' }).click();
      await expect(page).toHaveURL('/innboks');
      await arrived(page);
      await letterFrom(page, LETTERS.nav.sender).click();
      await expect(page).toHaveURL(/\/brev\/[0-9a-f-]{36}$/);
      await arrived(page);
      navPath = new URL(page.url()).pathname;
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(LETTERS.nav.nonSensitiveTitle);
      await expect(main.getByRole('heading', { level: 2 })).toHaveText(['Brevet krever høyt sikkerhetsnivå', 'Ordne brevet', 'Tilgangslogg']);
      await expect(main.getByRole('region', { name: 'Dokumenter' })).toHaveCount(0);
      await expect(main.locator('a[href^="/dokumenter/"]')).toHaveCount(0);
      expect(await page.content()).not.toContain(LETTERS.nav.title);
      // Asking for the document directly does not help either.
      expect((await page.request.get(`/dokumenter/${navPath.split('/').pop()}/0`)).status()).toBe(403);
    });

    await test.step('the step-up logs her in at level high and brings her back to the letter', async () => {
      const stepUp = main.getByRole('link', { name: 'Logg inn med høyere sikkerhetsnivå' });
      await expect(stepUp).toHaveAttribute('href', `/auth/login?level=high&return_to=${navPath}`);
      await followServerLink(page, stepUp);
      await logInAtTestId(page, KARI, 'high');
      await expect(page).toHaveURL(navPath);
      await arrived(page);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(LETTERS.nav.title);
      await expect(banner).toContainText(`Logget inn som ${KARI.name} (høyt nivå)`);
      const link = main.getByRole('region', { name: 'Dokumenter' }).getByRole('link');
      await expect(link).toHaveAttribute('href', `/dokumenter/${navPath.split('/').pop()}/0`);
      const pdf = await page.request.get((await link.getAttribute('href'))!);
      expect(pdf.status()).toBe(200);
      expect(pdf.headers()['content-type']).toBe('application/pdf');
    });

    await test.step('the inbox now shows the level-4 title', async () => {
      await main.getByRole('link', { name: 'Tilbake til innboksen' }).click();
      await expect(page).toHaveURL('/innboks');
      await arrived(page);
      await expect(letterFrom(page, LETTERS.nav.sender)).toContainText(LETTERS.nav.title);
      await expect(letterFrom(page, LETTERS.nav.sender)).not.toContainText('krever høyt sikkerhetsnivå');
    });

    await test.step('"Logg ut" ends the session here and at TestID', async () => {
      const session = (await page.context().cookies()).find((cookie) => cookie.name === SESSION_COOKIE)!;
      await banner.getByRole('button', { name: 'Logg ut' }).click();
      await expect(page).toHaveURL(/\/testid\/endsession\?/);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Du er logget ut');
      await checkA11y(page);
      // TestID's page frames our front-channel logout endpoint, for its own issuer and session.
      const frame = page.locator('iframe[title="Utlogging fra tjenesten"]');
      await expect(frame).toHaveAttribute('src', /\/auth\/frontchannel-logout\?iss=.+&sid=.+/);
      expect((await page.context().cookies()).map((cookie) => cookie.name)).not.toContain(SESSION_COOKIE);
      // The old cookie is dead on the server too, not just gone from the browser.
      const replayed = await request.get('/innboks', { headers: { cookie: `${SESSION_COOKIE}=${session.value}` } });
      expect(replayed.status()).toBe(401);
      expect((await request.get(documentHref, { headers: { cookie: `${SESSION_COOKIE}=${session.value}` } })).status()).toBe(401);

      await page.getByRole('link', { name: 'Gå tilbake til tjenesten' }).click();
      await expect(page).toHaveURL('/');
      await arrived(page);
      await expect(banner.getByRole('link', { name: 'Logg inn' })).toBeVisible();
      await expect(banner.getByRole('button', { name: 'Logg ut' })).toHaveCount(0);
    });

    await test.step('the inbox asks her to log in again', async () => {
      const response = await visit(page, '/innboks');
      expect(response?.status()).toBe(401);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Du må logge inn');
      await expect(main.getByRole('link', { name: 'Logg inn' })).toHaveAttribute('href', '/auth/login');
      await expect(letterLinks(page)).toHaveCount(0);
    });
  });

  test("sees only his own letters, and another citizen's letter does not exist for him", async ({ page, browser }) => {
    const kari = await loggedInElsewhere(browser, KARI);
    const karisLetters = await letterPaths(kari);
    expect(karisLetters).toHaveLength(4);
    const karisDocument = `/dokumenter/${karisLetters[0].split('/').pop()}/0`;
    expect((await kari.request.get(karisDocument)).status(), 'Kari reads her own document').toBe(200);
    await kari.context().close();

    await page.goto('/auth/login');
    await logInAtTestId(page, OLA, 'substantial');
    await expect(page).toHaveURL('/innboks');
    await arrived(page);
    await expect(page.getByRole('banner')).toContainText(`Logget inn som ${OLA.name}`);
    const olasLetters = await letterPaths(page);
    expect(olasLetters).toHaveLength(4);
    expect(olasLetters.filter((path) => karisLetters.includes(path)), "Kari's letters in Ola's inbox").toEqual([]);

    const response = await visit(page, karisLetters[0]);
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Fant ikke siden');
    await expect(page.getByRole('main')).not.toContainText(LETTERS.skatt.sender);
    // Her document is as unknown to him as her letter.
    expect((await page.request.get(karisDocument)).status()).toBe(404);
  });
});

test.describe("TestID's login form", () => {
  test('shows an invalid number next to the field and keeps the citizen on the form', async ({ page }) => {
    const response = await page.goto('/auth/login');
    expect(response?.status()).toBe(200);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Logg inn med TestID');
    await checkA11y(page);

    const field = page.getByLabel(FNR_LABEL);
    await expect(field).not.toHaveAttribute('aria-invalid');
    await field.fill('12345678901');
    const answer = page.waitForResponse(
      (candidate) => candidate.request().method() === 'POST' && new URL(candidate.url()).pathname === '/testid/authorize',
    );
    await page.getByRole('button', { name: 'Logg inn' }).click();
    expect((await answer).status()).toBe(422);

    await expect(page).toHaveURL(/\/testid\/authorize$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Logg inn med TestID');
    await expect(field, 'what was typed is kept').toHaveValue('12345678901');
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    const error = page.locator('#pid-feil');
    await expect(error).toBeVisible();
    await expect(error).toHaveText(/^Fødselsnummeret .+\.$/);
    // Screen readers read the error with the field: it is part of its description.
    await expect(field).toHaveAccessibleDescription(new RegExp((await error.innerText()).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    // The error sits right after the field, inside the same group.
    await expect(page.locator('.field').filter({ has: field }).locator('#pid-feil')).toHaveCount(1);
    await checkA11y(page);
    expect(await page.context().cookies().then((cookies) => cookies.map((cookie) => cookie.name))).not.toContain(
      SESSION_COOKIE,
    );

    // The form still carries the login: a valid number now goes through.
    await field.fill(KARI.fnr);
    await page.getByRole('button', { name: 'Logg inn' }).click();
    await expect(page).toHaveURL('/innboks');
    await arrived(page);
    await expect(page.getByRole('banner')).toContainText(`Logget inn som ${KARI.name}`);
  });
});

test.describe('words people read', () => {
  test("TestID's error says what is wrong in Norwegian", async ({ page }) => {
    await page.goto('/auth/login');
    const field = page.getByLabel(FNR_LABEL);
    for (const [number, norwegian] of [
      ['12345678901', 'Fødselsnummeret inneholder ikke en gyldig fødselsdato.'],
      ['14838510037', 'Fødselsnummeret har feil kontrollsiffer.'],
    ]) {
      await field.fill(number);
      await page.getByRole('button', { name: 'Logg inn' }).click();
      await expect(page.locator('#pid-feil')).toHaveText(norwegian);
    }
  });

  test('inbox links give screen readers sender, title and date as separate words', async ({ page }) => {
    await page.goto('/auth/login');
    await logInAtTestId(page, KARI, 'substantial');
    await expect(page).toHaveURL('/innboks');
    await arrived(page);
    await expect(letterFrom(page, LETTERS.skatt.sender)).toHaveAccessibleName(
      // Chrome puts a space before the hidden punctuation; screen readers pause either way.
      /^Skatteetaten ?, Offentlig virksomhet ?: (Ulest )?Skatteoppgjør for inntektsåret 2025 ?, mottatt \d\d\.\d\d\.\d{4} kl\. \d\d:\d\d$/,
    );
  });
});

test.describe('logged out', () => {
  test('the inbox answers 401 and offers to log in', async ({ page }) => {
    const response = await visit(page, '/innboks');

    expect(response?.status()).toBe(401);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Du må logge inn');
    await expect(page).toHaveTitle('Logg inn – Postkasse');
    await expect(page.getByRole('banner').getByRole('link', { name: 'Logg inn' })).toHaveAttribute('href', '/auth/login');
  });

  test('a document answers 401 and no letter page leaks anything', async ({ page, request }) => {
    expect((await request.get('/dokumenter/00000000-0000-4000-8000-000000000000/0')).status()).toBe(401);
    const response = await visit(page, '/brev/00000000-0000-4000-8000-000000000000');
    expect(response?.status()).toBe(401);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Du må logge inn');
  });
});
