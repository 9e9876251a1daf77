import { SEND_SCOPE, issueAgencyToken, printedCode, registerWithMailboxHere, sendLetter } from './agency';
import { arrived, checkA11y, expect, test, visit } from './a11y';
import { type Citizen, syntheticCitizen } from './citizens';

// Runs in both projects: an operator signs in with the code `postkasse
// operator login-link` prints (a plain form, so without JavaScript too) and
// sees the notice a letter's sender ordered arrive in the development sink,
// addressed as the register says.

/** One citizen per project, used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1958, 5, 21),
  hydrate: syntheticCitizen(1961, 11, 3),
};

test.describe('the operator console', () => {
  test.slow();

  test("shows the sender-ordered notice the sink stored, after a single-use sign-in", async ({ page, request }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();
    const registered = `drift.${project}@eksempel.no`;
    const noticeText = `Du har fått et brev fra Brønnøysundregistrene (${project}).`;

    await test.step('an agency sends a letter with an e-mail notice', async () => {
      await registerWithMailboxHere(citizen.fnr, registered);
      const token = await issueAgencyToken([SEND_SCOPE]);
      await sendLetter(request, token, `e2e-drift-${project}`, {
        to: citizen.fnr,
        title: `Bekreftelse (${project})`,
        // The sender's address is not used: notices go to the register's.
        emailNotice: { address: `avsender-kjenner.${project}@eksempel.no`, text: noticeText },
      });
    });

    await test.step('the sink page asks for an operator sign-in first', async () => {
      const response = await visit(page, '/drift/varsler');
      expect(response?.status()).toBe(401);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Varsler i utviklingskanalen');
      await expect(page.getByText(registered)).toHaveCount(0);
      await page.getByRole('link', { name: 'Logg inn som driftsoperatør' }).click();
      await expect(page).toHaveURL('/drift/logg-inn');
      await arrived(page);
    });

    await test.step('a made-up code is refused beside the field', async () => {
      await page.getByLabel('Engangskode').fill('ikke-en-kode');
      await page.getByRole('button', { name: 'Logg inn', exact: true }).click();
      await expect(page).toHaveURL('/drift/logg-inn?feil=kode');
      await arrived(page);
      const field = page.getByLabel('Engangskode');
      await expect(field).toHaveAttribute('aria-invalid', 'true');
      await expect(field).toHaveAccessibleDescription(/ukjent, brukt eller utløpt/);
    });

    await test.step('the printed link signs in once', async () => {
      const code = await printedCode();
      await visit(page, `/drift/logg-inn?kode=${code}`);
      await expect(page.getByLabel('Engangskode')).toHaveValue(code);
      await page.getByRole('button', { name: 'Logg inn', exact: true }).click();
      await expect(page).toHaveURL('/drift/varsler');
      await arrived(page);
    });

    await test.step('the notice arrives, addressed as the register says', async () => {
      const row = page.getByRole('row').filter({ hasText: noticeText });
      // The workers poll every second; the page is reloaded until it is there.
      await expect(async () => {
        await page.reload();
        await expect(row).toHaveCount(1, { timeout: 1_000 });
      }).toPass({ timeout: 90_000 });
      await arrived(page);
      await expect(row).toContainText(registered);
      await expect(row).toContainText('E-post');
      await expect(page.getByText(`avsender-kjenner.${project}@eksempel.no`)).toHaveCount(0);
      await checkA11y(page);
    });

    await test.step('signing out ends the session', async () => {
      await page.getByRole('button', { name: 'Logg ut av driften' }).click();
      await expect(page).toHaveURL('/drift/logg-inn');
      const response = await page.goto('/drift/varsler');
      expect(response?.status()).toBe(401);
      await arrived(page);
    });
  });
});
