import { KRR_SCOPES, issueAgencyToken } from './agency';
import { arrived, expect, test } from './a11y';
import { type Citizen, logInAtTestId, syntheticCitizen } from './citizens';
import { APP_URL } from './servers';

// Runs in both projects: "Min aktivitet" is a plain page, read the same with
// JavaScript off and hydrated.

/** One citizen per project, used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1966, 7, 12),
  hydrate: syntheticCitizen(1976, 11, 27),
};

test.describe('my activity', () => {
  test('lists the citizen\'s logins and an agency\'s lookup, newest first', async ({ page, request }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();

    await page.goto('/auth/login');
    await logInAtTestId(page, citizen, 'substantial');
    await expect(page).toHaveURL('/innboks');
    await arrived(page);

    // An agency looks her contact details up in the register.
    const token = await issueAgencyToken([KRR_SCOPES.contact]);
    const lookup = await request.post(`${APP_URL}/rest/v1/personer`, {
      headers: { Authorization: `Bearer ${token}` },
      data: { personidentifikatorer: [citizen.fnr] },
    });
    expect(lookup.status(), await lookup.text()).toBe(200);

    await page.getByRole('banner').getByRole('link', { name: 'Min aktivitet' }).click();
    await expect(page).toHaveURL('/aktivitet');
    await arrived(page);
    await expect(page).toHaveTitle('Min aktivitet – Postkasse');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Min aktivitet');
    const table = page.getByRole('table', { name: 'Aktivitet, de nyeste først' });
    await expect(table.getByRole('columnheader')).toHaveText(['Tidspunkt', 'Hva', 'Detaljer']);
    const rows = table.locator('tbody tr');
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(0).getByRole('cell').nth(1)).toHaveText('Oppslag i Kontakt- og reservasjonsregisteret');
    await expect(rows.nth(0).getByRole('cell').nth(2)).toHaveText('e2e (974760673)');
    await expect(rows.nth(1).getByRole('cell').nth(1)).toHaveText('Innlogging');
    await expect(rows.nth(1).getByRole('cell').nth(2)).toContainText('Betydelig sikkerhetsnivå, ');
    await expect(rows.nth(1).locator('time')).toHaveText(/^\d\d\.\d\d\.\d{4} kl\. \d\d:\d\d$/);
  });
});
