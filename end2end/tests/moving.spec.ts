import { SEND_SCOPE, issueAgencyToken, registerWithMailboxHere, sendLetter } from './agency';
import { arrived, checkA11y, expect, test, visit } from './a11y';
import { type Citizen, logInAtTestId, syntheticCitizen } from './citizens';

// Moving letters to another mailbox provider from the settings page, without
// JavaScript and hydrated. The demo's other provider does not answer, so the
// move stays in progress: what the citizen sees is the offer, the request
// and its progress.

/** One citizen per project, with letters here and used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1979, 2, 11),
  hydrate: syntheticCitizen(1983, 6, 29),
};
const OTHER_PROVIDER = 'Eksempel Postkasse AS';
const LETTERS = 3;

test.describe('moving letters', () => {
  test.slow();

  test('a citizen who chooses another provider is offered to move her letters, and sees the progress', async ({
    page,
    request,
  }) => {
    const citizen = CITIZENS[test.info().project.name];
    expect(citizen, `a citizen for the project ${test.info().project.name}`).toBeDefined();
    await registerWithMailboxHere(citizen.fnr, `flytter.${test.info().project.name}@eksempel.no`);
    const token = await issueAgencyToken([SEND_SCOPE]);
    for (let index = 0; index < LETTERS; index++) {
      await sendLetter(request, token, '', { to: citizen.fnr, title: `Brev som flyttes ${index}` });
    }
    const mailbox = page.getByRole('main').getByRole('region', { name: 'Digital postkasse' });

    await test.step('with her mailbox here there is nothing to move', async () => {
      await page.goto('/auth/login');
      await logInAtTestId(page, citizen, 'substantial');
      await arrived(page);
      expect((await visit(page, '/innstillinger'))?.status()).toBe(200);
      await expect(mailbox.getByRole('heading', { name: 'Flytte brevene dine' })).toHaveCount(0);
    });

    await test.step('she chooses the other provider and is offered the move', async () => {
      await mailbox.getByLabel(OTHER_PROVIDER).check();
      await mailbox.getByRole('button', { name: 'Lagre valg av postkasse' }).click();
      await expect(mailbox.getByText(`Du har ${LETTERS} brev her som kan flyttes til ${OTHER_PROVIDER}.`, { exact: false })).toBeVisible();
      await arrived(page);
      await checkA11y(page);
    });

    await test.step('she moves them and sees how far it has come', async () => {
      await mailbox.getByRole('button', { name: `Flytt brevene til ${OTHER_PROVIDER}` }).click();
      await expect(mailbox.getByText(`0 av ${LETTERS} brev er flyttet til ${OTHER_PROVIDER}.`)).toBeVisible();
      const progress = mailbox.locator('progress');
      await expect(progress).toHaveAttribute('max', String(LETTERS));
      await expect(progress).toHaveAccessibleName(`0 av ${LETTERS} brev er flyttet til ${OTHER_PROVIDER}.`);
      await expect(mailbox.getByRole('button', { name: `Flytt brevene til ${OTHER_PROVIDER}` })).toHaveCount(0);
      await arrived(page);
      await checkA11y(page);
    });
  });
});
