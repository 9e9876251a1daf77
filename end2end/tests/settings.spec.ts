import type { Locator, Page } from '@playwright/test';
import { KRR_SCOPES, codeSentTo, issueAgencyToken } from './agency';
import { arrived, checkA11y, expect, javaScriptEnabled, test, visit } from './a11y';
import { type Citizen, logInAtTestId, syntheticCitizen } from './citizens';
import { APP_URL } from './servers';

// Runs in both projects: every form on the settings page must work without
// JavaScript (the browser posts it and is redirected back) and hydrated (the
// action calls the server function and the page stays loaded).

/**
 * One citizen per project, unknown to the demo's register and used by no
 * other spec: the projects run at the same time against one server, and each
 * must start from a blank register entry.
 */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1992, 4, 17),
  hydrate: syntheticCitizen(1988, 9, 23),
};

const SECTIONS = [
  'Kontaktinformasjon',
  'Varsler fra Postkasse',
  'Reservasjon mot digital post',
  'Digital postkasse',
  'Språk',
  'Endringslogg',
];
const LOCAL_TIME = /^\d\d\.\d\d\.\d{4} kl\. \d\d:\d\d$/;

/** Marks the loaded document, so a later check can tell whether the browser loaded another. */
async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as { __samePage: boolean }).__samePage = true));
}

async function sameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage === true);
}

/**
 * Clicks a form's submit button and waits for the server function's answer.
 * Without JavaScript the browser posts the form itself and must be sent back
 * to the page with a redirect; with JavaScript the action calls the server
 * function and the document stays (`failing`: with the refusal's status 422).
 */
async function submit(page: Page, button: Locator, serverFn: string, failing = false): Promise<void> {
  const answered = page.waitForResponse(
    (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === `/api/${serverFn}`,
  );
  if (javaScriptEnabled()) await markDocument(page);
  await button.click();
  const answer = await answered;
  if (javaScriptEnabled()) {
    expect(answer.status(), `${serverFn} through JavaScript`).toBe(failing ? 422 : 200);
  } else {
    expect(answer.status(), `${serverFn} posted without JavaScript redirects back to the page`).toBe(302);
    expect(new URL(answer.headers()['location'], APP_URL).pathname).toBe('/innstillinger');
    await page.waitForURL(/\/innstillinger(\?|$)/);
  }
}

/** After a submission has shown its result: the page is still the one it was, with JavaScript. */
async function expectNoReload(page: Page): Promise<void> {
  if (javaScriptEnabled()) expect(await sameDocument(page), 'the hydrated page submitted without reloading').toBe(true);
}

test.describe('the settings page', () => {
  // Several form submissions, axe after each: more than the default 30 s.
  test.slow();

  test('a citizen changes her e-mail address and reserves herself, and agencies see it', async ({ page, request }) => {
    const citizen = CITIZENS[test.info().project.name];
    expect(citizen, `a citizen for the project ${test.info().project.name}`).toBeDefined();
    const main = page.getByRole('main');
    const contact = main.getByRole('region', { name: 'Kontaktinformasjon' });
    const reservation = main.getByRole('region', { name: 'Reservasjon mot digital post' });
    const emailField = contact.getByLabel('E-postadresse', { exact: true });
    const saveEmail = contact.getByRole('button', { name: 'Lagre e-postadresse' });
    const email = `innbygger.${test.info().project.name}@eksempel.no`;
    const complaints: string[] = [];

    await test.step('she logs in and opens Innstillinger from the header', async () => {
      await page.goto('/auth/login');
      await logInAtTestId(page, citizen, 'substantial');
      await expect(page).toHaveURL('/innboks');
      await arrived(page);
      await expect(page.getByRole('banner')).toContainText(`Logget inn som ${citizen.name}`);
      await page.getByRole('banner').getByRole('link', { name: 'Innstillinger' }).click();
      await expect(page).toHaveURL('/innstillinger');
      await arrived(page);
    });

    await test.step('the page, loaded afresh, shows her blank register entry', async () => {
      // From here on our pages must run without a panic or console error (a
      // hydration mismatch is one); Chromium logs the 422 of the refusal below.
      page.on('pageerror', (error) => complaints.push(`${error.name}: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        const expected422 =
          message.text().includes('status of 422') &&
          ['/api/change_email', '/api/prove_email'].some((path) => message.location().url.endsWith(path));
        if (!expected422) complaints.push(`[console] ${message.text()} (${message.location().url})`);
      });
      // The header's link navigated in the browser; the server must render the page too.
      expect((await visit(page, '/innstillinger'))?.status()).toBe(200);
      await expect(page).toHaveTitle('Innstillinger – Postkasse');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Innstillinger');
      await expect(main.getByRole('heading', { level: 2 })).toHaveText(SECTIONS);
      await expect(contact.locator('dt')).toHaveText(['E-postadresse', 'Mobilnummer']);
      await expect(contact.locator('dd')).toHaveText(['Ikke registrert', 'Ikke registrert']);
      await expect(main.locator('.notify-status')).toContainText('kan ikke varsle deg nå');
      await expect(emailField).toHaveAttribute('type', 'email');
      await expect(emailField).toHaveAttribute('autocomplete', 'email');
      await expect(emailField).toHaveAccessibleDescription(/La feltet stå tomt og lagre for å fjerne e-postadressen/);
      await expect(emailField).not.toHaveAttribute('aria-invalid');
      await expect(contact.getByLabel('Mobilnummer', { exact: true })).toHaveAttribute('type', 'tel');
      // Nothing to confirm yet.
      await expect(contact.getByRole('button', { name: 'Bekreft at opplysningene stemmer' })).toHaveCount(0);
      await expect(main.getByRole('region', { name: 'Endringslogg' })).toContainText('Ingen endringer er registrert ennå.');
    });

    await test.step('an invalid address is refused beside the field', async () => {
      await emailField.fill('kari.eksempel.no');
      await submit(page, saveEmail, 'change_email', true);
      const error = contact.locator('#email-feil');
      await expect(error).toHaveText('E-postadresse er ikke en gyldig e-postadresse (eksempel: navn@eksempel.no).');
      await expect(error).toHaveClass(/\bfield-error\b/);
      // Beside the field: right after it, in its group.
      await expect(contact.locator('.field > #email + #email-feil')).toHaveCount(1);
      await expect(emailField).toHaveAttribute('aria-invalid', 'true');
      await expect(emailField).toHaveAttribute('aria-describedby', 'email-hint email-feil');
      await expect(emailField).toHaveAccessibleDescription(/E-postadresse er ikke en gyldig e-postadresse/);
      // Only that form shows an error, and nothing was saved.
      await expect(main.locator('.field-error')).toHaveCount(1);
      await expect(contact.getByLabel('Mobilnummer', { exact: true })).not.toHaveAttribute('aria-invalid');
      await expect(contact.locator('dd').first()).toHaveText('Ikke registrert');
      if (!javaScriptEnabled()) {
        // The redirect carried the refusal in the address, for this form only.
        expect(new URL(page.url()).searchParams.get('__path')).toBe('/api/change_email');
      }
      await expectNoReload(page);
      await arrived(page);
    });

    await test.step('a valid address gets a code, and only the code saves it', async () => {
      await emailField.fill(email);
      await submit(page, saveEmail, 'change_email');
      const proof = contact.getByRole('group', { name: 'Bekreft den nye e-postadressen' });
      const codeField = proof.getByLabel('Kode fra e-posten');
      await expect(codeField).toHaveAccessibleDescription(new RegExp(`^Vi sendte en kode til ${email.replace(/\./g, '\\.')}\\. `));
      await expect(codeField).toHaveAttribute('autocomplete', 'one-time-code');
      await expect(codeField).toHaveAttribute('inputmode', 'numeric');
      // Not in the register until the code comes back.
      await expect(contact.locator('dd').first()).toHaveText('Ikke registrert');
      if (javaScriptEnabled()) {
        await expect(page.getByRole('status')).toHaveText(
          'Vi har sendt en kode til den nye e-postadressen. Skriv den inn nedenfor.',
        );
      }
      await expectNoReload(page);
      await arrived(page);

      const code = await codeSentTo(email);
      const prove = proof.getByRole('button', { name: 'Bekreft e-postadressen' });
      await codeField.fill(code === '000000' ? '000001' : '000000');
      await submit(page, prove, 'prove_email', true);
      await expect(proof.locator('#email-kode-feil')).toHaveText('Kode fra e-posten er feil; du har 4 forsøk igjen.');
      await expect(codeField).toHaveAttribute('aria-invalid', 'true');
      await expect(codeField).toHaveAttribute('aria-describedby', 'email-kode-hint email-kode-feil');
      await expect(contact.locator('dd').first()).toHaveText('Ikke registrert');
      await expectNoReload(page);
      await arrived(page);

      await codeField.fill(code);
      await submit(page, prove, 'prove_email');
      await expect(proof).toHaveCount(0);
      await expect(contact.locator('dd').first()).toContainText(email);
      await expect(contact.locator('dd').first().locator('time')).toHaveText([LOCAL_TIME, LOCAL_TIME]);
      await expect(contact.locator('dd').first()).toContainText('sist bekreftet');
      await expect(contact.locator('#email-feil')).toHaveCount(0);
      await expect(emailField).not.toHaveAttribute('aria-invalid');
      await expect(emailField).toHaveValue(email);
      await expect(main.locator('.notify-status')).toContainText('kan varsle deg på e-post eller SMS');
      await expect(contact.getByRole('button', { name: 'Bekreft at opplysningene stemmer' })).toBeVisible();
      if (javaScriptEnabled()) {
        await expect(page.getByRole('status')).toHaveText('E-postadressen er bekreftet og lagret.');
      } else {
        // Success sends the browser back without the earlier refusal.
        expect(new URL(page.url()).search).toBe('');
      }
      await expectNoReload(page);
      await arrived(page);
    });

    await test.step('she reserves herself against digital post', async () => {
      await expect(reservation).toContainText('Du er ikke reservert mot digital post.');
      await expect(reservation).toContainText('på papir til adressen din i Folkeregisteret');
      await expect(reservation).toContainText('varsler fra dem på e-post eller SMS');
      await submit(page, reservation.getByRole('button', { name: 'Reserver meg mot digital post' }), 'reserve');
      await expect(reservation).toContainText(
        /Du er reservert mot digital post siden \d\d\.\d\d\.\d{4} kl\. \d\d:\d\d\./,
      );
      await expect(reservation.getByRole('button', { name: 'Opphev reservasjonen' })).toBeVisible();
      await expect(reservation.getByRole('button', { name: 'Reserver meg mot digital post' })).toHaveCount(0);
      await expect(main.locator('.notify-status')).toContainText('fordi du er reservert mot digital post');
      await expectNoReload(page);
      await arrived(page);
    });

    await test.step('the change log lists both changes, newest first', async () => {
      const log = main
        .getByRole('region', { name: 'Endringslogg' })
        .getByRole('table', { name: 'Endringer i opplysningene dine, de nyeste først' });
      await expect(log.getByRole('columnheader')).toHaveText(['Tidspunkt', 'Endring', 'Ny verdi', 'Endret av']);
      const rows = log.locator('tbody tr');
      await expect(rows).toHaveCount(2);
      await expect(rows.nth(0).getByRole('cell')).toHaveText([LOCAL_TIME, 'Reservasjon', 'Reservert', 'Deg']);
      await expect(rows.nth(1).getByRole('cell')).toHaveText([LOCAL_TIME, 'E-postadresse', email, 'Deg']);
    });

    await test.step('an agency looking her up sees the reservation and the new address', async () => {
      const token = await issueAgencyToken([KRR_SCOPES.contact, KRR_SCOPES.digitalPost]);
      const response = await request.post(`${APP_URL}/rest/v1/personer`, {
        headers: { Authorization: `Bearer ${token}` },
        data: { personidentifikatorer: [citizen.fnr] },
      });
      expect(response.status(), await response.text()).toBe(200);
      const { personer } = await response.json();
      expect(personer).toHaveLength(1);
      expect(personer[0].personidentifikator).toBe(citizen.fnr);
      expect(personer[0].reservasjon).toBe('JA');
      expect(personer[0].varslingsstatus).toBe('KAN_IKKE_VARSLES');
      expect(personer[0].kontaktinformasjon?.epostadresse).toBe(email);
    });

    expect(complaints, 'uncaught exceptions, wasm panics or console errors').toEqual([]);
  });
});

test.describe('logged out', () => {
  test('the settings page answers 401 and offers to log in', async ({ page }) => {
    const response = await visit(page, '/innstillinger');

    expect(response?.status()).toBe(401);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Du må logge inn');
    await expect(page.getByRole('main').getByRole('link', { name: 'Logg inn' })).toHaveAttribute('href', '/auth/login');
    await expect(page.getByRole('main').locator('form')).toHaveCount(0);
  });
});
