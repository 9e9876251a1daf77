import { SEND_SCOPE, issueAgencyToken, registerWithMailboxHere, sendLetter } from './agency';
import { arrived, expect, test, visit } from './a11y';
import { type Citizen, followServerLink, logInAtTestId, syntheticCitizen } from './citizens';

// Runs in both projects: the switch is a plain form post, so it must work
// without JavaScript, and hydrated pages must come up in the chosen language.
// Every page visited is checked with axe (lang attributes included).

/** One citizen per project, used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1971, 6, 2),
  hydrate: syntheticCitizen(1979, 12, 11),
};

test.describe('the language switch', () => {
  test.slow();

  test('shows every page in English or nynorsk once chosen, and in bokmål again', async ({ page, request }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();
    const title = `Vedtak om bostøtte (språk ${project})`;
    await registerWithMailboxHere(citizen.fnr, `sprak.${project}@eksempel.no`);
    await sendLetter(request, await issueAgencyToken([SEND_SCOPE]), `e2e-sprak-${project}`, {
      to: citizen.fnr,
      title,
    });

    await test.step('bokmål until the citizen chooses', async () => {
      await visit(page, '/');
      await expect(page.locator('html')).toHaveAttribute('lang', 'nb');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Din digitale postkasse');
    });

    await test.step('English from the switch, on the same page', async () => {
      const english = page.getByRole('banner').getByRole('button', { name: 'English' });
      await expect(english, 'the choice is named in its own language').toHaveAttribute('lang', 'en');
      await english.click();
      await expect(page).toHaveURL('/');
      await arrived(page);
      await expect(page.locator('html')).toHaveAttribute('lang', 'en');
      await expect(page).toHaveTitle('Home – Postkasse');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your digital mailbox');
      await expect(page.getByRole('link', { name: 'Skip to main content' })).toHaveAttribute('href', '#hovedinnhold');
      await expect(page.getByRole('contentinfo')).toContainText('Digital Mailbox for Citizens');
    });

    await test.step('the inbox and a letter in English', async () => {
      await followServerLink(page, page.getByRole('banner').getByRole('link', { name: 'Log in' }));
      await logInAtTestId(page, citizen, 'substantial');
      await expect(page).toHaveURL('/innboks');
      await arrived(page);
      await expect(page).toHaveTitle('Inbox – Postkasse');
      await expect(page.getByRole('banner')).toContainText('Logged in as');
      const letter = page.getByRole('list', { name: 'Letters' }).getByRole('link');
      await expect(letter).toHaveCount(1);
      await expect(letter).toContainText('Unread');
      await expect(letter).toContainText('Public agency');
      await expect(letter).toContainText(/\d\d\.\d\d\.\d{4} at \d\d:\d\d/);
      await letter.click();
      await arrived(page);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
      await expect(page.getByRole('region', { name: 'Documents' }).getByRole('link', { name: title })).toBeVisible();
      await expect(page.getByRole('region', { name: 'Organise the letter' })).toContainText('The letter is in Inbox');
      await expect(page.getByRole('region', { name: 'Access log' })).toContainText('The letter was shown');
    });

    await test.step('a refusal in English beside its field', async () => {
      await visit(page, '/mapper');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Folders');
      await page.getByLabel('Name of the folder').fill('');
      await page.getByRole('button', { name: 'Make the folder' }).click();
      await expect(page.locator('#ny-mappe-feil')).toHaveText('The name must be filled in.');
      await arrived(page);
    });

    await test.step('settings and search in English', async () => {
      await visit(page, '/innstillinger');
      await expect(page.getByRole('heading', { level: 2, name: 'Contact information' })).toBeVisible();
      await visit(page, '/sok?fra=tjue');
      await expect(page.getByRole('alert')).toHaveText('From year: must be a year');
    });

    await test.step('nynorsk from the switch, on the same page', async () => {
      await visit(page, '/innstillinger');
      const nynorsk = page.getByRole('banner').getByRole('button', { name: 'Norsk (nynorsk)' });
      await expect(nynorsk, 'the choice is named in its own language').toHaveAttribute('lang', 'nn');
      await nynorsk.click();
      await expect(page).toHaveURL('/innstillinger');
      await arrived(page);
      await expect(page.locator('html')).toHaveAttribute('lang', 'nn');
      await expect(page).toHaveTitle('Innstillingar – Postkasse');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Innstillingar');
      await expect(page.getByRole('banner')).toContainText('Logga inn som');
      await visit(page, '/');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Den digitale postkassa di');
      await expect(page.getByRole('link', { name: 'Hopp til hovudinnhaldet' })).toHaveAttribute('href', '#hovedinnhold');
    });

    await test.step('back to bokmål, on the same page', async () => {
      await visit(page, '/mapper');
      const bokmaal = page.getByRole('banner').getByRole('button', { name: 'Norsk (bokmål)' });
      await expect(bokmaal).toHaveAttribute('lang', 'nb');
      await bokmaal.click();
      await expect(page).toHaveURL('/mapper');
      await arrived(page);
      await expect(page.locator('html')).toHaveAttribute('lang', 'nb');
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mapper');
      await expect(page.getByRole('banner').getByRole('button', { name: 'English' })).toBeVisible();
    });
  });
});
