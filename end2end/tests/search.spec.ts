import { SEND_SCOPE, issueAgencyToken, registerWithMailboxHere, sendLetter } from './agency';
import { arrived, checkA11y, expect, javaScriptEnabled, test, visit } from './a11y';
import { type Citizen, logInAtTestId, syntheticCitizen } from './citizens';

// Runs in both projects: without JavaScript the search is a plain GET form
// (the inbox's box, then /sok with its filters and sender links); hydrated,
// results follow the typing, the last word as a prefix.

/** One citizen per project, used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1968, 4, 17),
  hydrate: syntheticCitizen(1969, 9, 23),
};

test.describe('searching the archive', () => {
  test.slow();

  test('finds a letter by a word in it, with the word marked', async ({ page, request }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();
    const title = `Vedtak om bostøtte (${project})`;

    await test.step('an agency sends a letter', async () => {
      const token = await issueAgencyToken([SEND_SCOPE]);
      await registerWithMailboxHere(citizen.fnr, `sok.${project}@eksempel.no`);
      await sendLetter(request, token, `e2e-sok-${project}`, { to: citizen.fnr, title: title });
      await sendLetter(request, token, `e2e-sok-${project}`, { to: citizen.fnr, title: `Skattemelding (${project})` });
    });

    await test.step('she searches from the inbox', async () => {
      await page.goto('/auth/login');
      await logInAtTestId(page, citizen, 'substantial');
      await expect(page).toHaveURL('/innboks');
      await arrived(page);
      const box = page.getByRole('search').getByLabel('Søk i brevene');
      await box.fill('bostøtte');
      await box.press('Enter');
      await expect(page).toHaveURL(/\/sok\?q=bost%C3%B8tte/);
      // The letter is searchable within moments of arriving; look again until it is.
      await expect(async () => {
        await page.reload();
        await expect(page.getByRole('link', { name: new RegExp(title.replace(/[()]/g, '\\$&')) })).toBeVisible({ timeout: 1000 });
      }).toPass({ timeout: 15_000 });
      await arrived(page);
      await expect(page.getByRole('status')).toHaveText('1 treff');
      await expect(page.locator('mark', { hasText: 'bostøtte' }).first()).toBeVisible();
      await checkA11y(page);
    });

    await test.step('the sender counts are links that narrow the search', async () => {
      await visit(page, '/sok?sortering=nyeste');
      await expect(page.getByRole('status')).toHaveText('2 treff');
      const senders = page.getByRole('navigation', { name: 'Avsendere' });
      await senders.getByRole('link', { name: 'Brønnøysundregistrene (2)' }).click();
      await expect(page).toHaveURL(/avsender=Br%C3%B8nn%C3%B8ysundregistrene/);
      await arrived(page);
      await expect(page.getByRole('status')).toHaveText('2 treff');
    });

    if (javaScriptEnabled()) {
      await test.step('hydrated, results follow the typing', async () => {
        await visit(page, '/sok');
        const box = page.getByRole('searchbox', { name: 'Søkeord' });
        await box.pressSequentially('skattem', { delay: 30 });
        await expect(page).toHaveURL(/prefiks=1/);
        await expect(page.getByRole('status')).toHaveText('1 treff');
        await expect(page.getByRole('link', { name: /Skattemelding/ })).toBeVisible();
        await checkA11y(page);
      });
    } else {
      await test.step('without JavaScript, the filter form is a GET', async () => {
        await visit(page, '/sok?q=skattemelding');
        await page.getByLabel('Fra år').fill('1990');
        await page.getByLabel('Til år').fill('1999');
        await page.getByRole('button', { name: 'Bruk avgrensning' }).click();
        await expect(page).toHaveURL(/fra=1990&til=1999/);
        await arrived(page);
        await expect(page.getByRole('status')).toHaveText('Ingen treff');
      });
    }
  });
});
