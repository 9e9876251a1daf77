import { SEND_SCOPE, issueAgencyToken, registerWithMailboxHere, sendLetter } from './agency';
import { arrived, checkA11y, expect, javaScriptEnabled, test, visit, waitForHydration } from './a11y';
import { type Citizen, letterLinks, logInAtTestId, syntheticCitizen } from './citizens';

// Runs in both projects: a citizen gives a power of attorney, the delegate
// opens her mailbox as himself (a banner says whose it is), reads a letter,
// goes back and ends the power; with and without JavaScript.

/** A principal and a delegate per project, used by no other spec. */
const PEOPLE: Record<string, { principal: Citizen; delegate: Citizen }> = {
  ssr: { principal: syntheticCitizen(1964, 2, 17), delegate: syntheticCitizen(1966, 3, 5) },
  hydrate: { principal: syntheticCitizen(1967, 10, 21), delegate: syntheticCitizen(1969, 1, 30) },
};

/** `days` after today, as a date input takes it. */
function daysAhead(days: number): string {
  const date = new Date(Date.now() + days * 24 * 60 * 60 * 1000);
  return date.toISOString().slice(0, 10);
}

test.describe('a power of attorney', () => {
  test.slow();

  test('is given, used and ended', async ({ page, browser, request }) => {
    const project = test.info().project.name;
    const people = PEOPLE[project];
    expect(people, `people for the project ${project}`).toBeDefined();
    const { principal, delegate } = people;
    const title = `Vedtak om bostøtte (fullmakt, ${project})`;
    const delegateName = `Ola Fullmektig ${project}`;

    await test.step('the principal has a letter', async () => {
      await registerWithMailboxHere(principal.fnr, `fullmaktsgiver.${project}@eksempel.no`);
      await sendLetter(request, await issueAgencyToken([SEND_SCOPE]), `e2e-fullmakt-${project}`, { to: principal.fnr, title });
    });

    await test.step('she gives him a power over that sender, read only', async () => {
      await page.goto('/auth/login');
      await logInAtTestId(page, principal, 'substantial');
      await arrived(page);
      await page.getByRole('banner').getByRole('link', { name: 'Fullmakter' }).click();
      await expect(page).toHaveURL('/fullmakter');
      await arrived(page);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Fullmakter');
      await page.getByLabel('Fødselsnummer').fill(delegate.fnr);
      await page.getByLabel('Navn', { exact: true }).fill(delegateName);
      await page.getByRole('radio', { name: 'Kan lese brevene' }).check();
      await page.getByRole('radio', { name: 'Bare fra avsenderne jeg velger' }).check();
      const senders = page.getByRole('group', { name: 'Hvilke brev gjelder fullmakten?' });
      await senders.getByRole('checkbox').first().check();
      await page.getByLabel('Gjelder til og med').fill(daysAhead(30));
      await page.getByRole('button', { name: 'Gi fullmakt' }).click();
      const given = page.getByRole('region', { name: 'Fullmakter du har gitt' });
      await expect(given.getByRole('heading', { name: `Til ${delegateName}` })).toBeVisible();
      await expect(given).toContainText('Kan lese brevene');
      await expect(given).toContainText('Bare fra');
      await checkA11y(page);
    });

    const context = await browser.newContext({
      baseURL: test.info().project.use.baseURL,
      javaScriptEnabled: javaScriptEnabled(),
      locale: 'nb-NO',
    });
    const his = await context.newPage();
    const arrivedHis = async () => {
      if (javaScriptEnabled()) await waitForHydration(his);
      await checkA11y(his);
    };

    await test.step('he logs in as himself and opens her mailbox', async () => {
      await his.goto('/auth/login');
      await logInAtTestId(his, delegate, 'substantial');
      await expect(his).toHaveURL('/innboks');
      await his.goto('/fullmakter');
      await arrivedHis();
      const received = his.getByRole('region', { name: 'Fullmakter du har fått' });
      await received.getByRole('button', { name: /^Åpne postkassen til / }).click();
      await expect(his).toHaveURL('/innboks');
      await arrivedHis();
      const banner = his.getByRole('region', { name: 'Fullmakt', exact: true });
      await expect(banner).toContainText('Du leser posten til');
      await expect(banner).toContainText('Du kan lese brevene.');
      await expect(banner).toContainText('Alt du åpner, står i loggen');
      // Her own menu is not his.
      await expect(his.getByRole('banner').getByRole('link', { name: 'Innstillinger' })).toHaveCount(0);
    });

    await test.step('he reads her letter, and nothing more is offered', async () => {
      await expect(letterLinks(his)).toHaveCount(1);
      await letterLinks(his).first().click();
      await expect(his).toHaveURL(/\/brev\//);
      await arrivedHis();
      await expect(his.getByRole('heading', { level: 1 })).toHaveText(title);
      await expect(his.getByRole('region', { name: `${title}, side for side` })).toBeVisible();
      await expect(his.getByRole('button', { name: 'Merk som ulest' })).toHaveCount(0);
    });

    await test.step('he goes back to his own mailbox and ends the power', async () => {
      await his.getByRole('button', { name: 'Tilbake til din egen postkasse' }).click();
      await expect(his).toHaveURL('/fullmakter');
      await arrivedHis();
      await expect(his.getByRole('region', { name: 'Fullmakt', exact: true })).toHaveCount(0);
      const received = his.getByRole('region', { name: 'Fullmakter du har fått' });
      await received.getByRole('button', { name: /^Avslutt fullmakten for / }).click();
      await expect(received).toContainText('Avsluttet av deg');
      await expect(received.getByRole('button', { name: /^Åpne postkassen til / })).toHaveCount(0);
      await arrivedHis();
    });

    await test.step('she sees it ended, and his reading in her letter\'s log', async () => {
      await visit(page, '/fullmakter');
      await expect(page.getByRole('region', { name: 'Fullmakter du har gitt' })).toContainText('Avsluttet av den andre');
      await visit(page, '/innboks');
      await letterLinks(page).first().click();
      await expect(page).toHaveURL(/\/brev\//);
      await arrived(page);
      await expect(page.locator('table')).toContainText(`av ${delegateName} med fullmakt`);
    });
    await context.close();
  });
});
