import { SEND_SCOPE, issueAgencyToken, receiptKinds, registerWithMailboxHere, sendLetter } from './agency';
import { arrived, checkA11y, expect, javaScriptEnabled, test, visit } from './a11y';
import { type Citizen, letterLinks, logInAtTestId, syntheticCitizen } from './citizens';
import { APP_URL } from './servers';

// Runs in both projects: agreeing to an opening receipt must work without
// JavaScript (the form posts and the browser is sent back to the letter) and
// hydrated (the action runs and the letter reloads in place).

/** One citizen and one receipt channel per project, used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1971, 2, 11),
  hydrate: syntheticCitizen(1974, 8, 29),
};

test.describe('a letter whose sender asked for an opening receipt', () => {
  test.slow();

  test('stays closed until the citizen agrees, and the sender gets one receipt', async ({ page, request }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();
    const kanal = `e2e-${project}`;
    const title = `Innkalling til møte (${project})`;
    const token = await issueAgencyToken([SEND_SCOPE]);

    await test.step('the agency sends it through the DPI API', async () => {
      await registerWithMailboxHere(citizen.fnr, `innbygger.${project}@eksempel.no`);
      await sendLetter(request, token, kanal, { to: citizen.fnr, title, openingReceipt: true });
      expect(await receiptKinds(request, token, kanal)).toEqual(['leveringskvittering']);
    });

    await test.step('the citizen is told before opening that the sender will know', async () => {
      await page.goto('/auth/login');
      await logInAtTestId(page, citizen, 'substantial');
      await expect(page).toHaveURL('/innboks');
      await arrived(page);
      await expect(letterLinks(page)).toHaveCount(1);
      const href = await letterLinks(page).first().getAttribute('href');
      expect(href).toMatch(/^\/brev\//);
      expect((await visit(page, href!))?.status()).toBe(200);
      const notice = page.getByRole('region', { name: 'Avsenderen vil vite når du åpner brevet' });
      await expect(notice).toContainText('får Brønnøysundregistrene beskjed om at det er åpnet');
      await expect(page.getByRole('region', { name: 'Dokumenter' })).toHaveCount(0);
      await checkA11y(page);
    });

    await test.step('she agrees, and the letter opens', async () => {
      const answered = page.waitForResponse(
        (response) =>
          response.request().method() === 'POST' && new URL(response.url()).pathname === '/api/accept_opening_receipt',
      );
      await page.getByRole('button', { name: 'Åpne brevet og gi beskjed' }).click();
      const answer = await answered;
      if (javaScriptEnabled()) {
        expect(answer.status()).toBe(200);
      } else {
        expect(answer.status(), 'posted without JavaScript, the browser is sent back').toBe(302);
        expect(new URL(answer.headers()['location'], APP_URL).pathname).toMatch(/^\/brev\//);
      }
      const documents = page.getByRole('region', { name: 'Dokumenter' });
      await expect(documents.getByRole('link', { name: title })).toBeVisible();
      await expect(page.getByRole('region', { name: 'Avsenderen vil vite når du åpner brevet' })).toHaveCount(0);
      // Her views are in the letter's access log, with her login level.
      const log = page.getByRole('region', { name: 'Tilgangslogg' });
      await expect(log.getByRole('row').nth(1)).toContainText('Brevet ble vist');
      await expect(log.getByRole('row').nth(1)).toContainText('Betydelig');
      await checkA11y(page);
    });

    await test.step("the opening receipt waits in the agency's queue, once", async () => {
      expect(await receiptKinds(request, token, kanal)).toEqual(['leveringskvittering', 'aapningskvittering']);
    });
  });
});
