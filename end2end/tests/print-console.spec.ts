import { SEND_SCOPE, issueAgencyToken, postkasse, printedCode, printedLetter, reserveWithAddress, sendLetter } from './agency';
import { arrived, checkA11y, expect, test, visit } from './a11y';
import { type Citizen, syntheticCitizen } from './citizens';

// The print service in the operators' console, without JavaScript and
// hydrated: an operator opens the queue, the chart of letters per day, a
// batch and a letter's timeline, each page checked with axe.

/** One reserved citizen per project, used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1957, 4, 2),
  hydrate: syntheticCitizen(1959, 8, 17),
};

test.describe('the print console', () => {
  test.slow();

  test('an operator opens the queue, a batch and a letter, and the chart renders', async ({ page, request }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();
    const name = `Konsoll Mottaker ${project}`;
    await reserveWithAddress(citizen.fnr, name);
    const token = await issueAgencyToken([SEND_SCOPE]);
    await sendLetter(request, token, '', { to: citizen.fnr, title: `Vedtak til konsollen ${project}` });

    await test.step('the page asks for an operator sign-in first', async () => {
      expect((await visit(page, '/drift/utskrift'))?.status()).toBe(401);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Utskrift');
      await expect(page.getByText(name)).toHaveCount(0);
    });

    await test.step('signed in, the operator sees the queue and the chart', async () => {
      await visit(page, `/drift/logg-inn?kode=${await printedCode()}`);
      await page.getByRole('button', { name: 'Logg inn', exact: true }).click();
      await arrived(page);
      expect((await visit(page, '/drift/utskrift'))?.status()).toBe(200);
      await expect(page.getByRole('heading', { level: 1, name: 'Utskrift' })).toBeVisible();
      const chart = page.getByRole('img', { name: /Søylediagram: brev mottatt/ });
      await expect(chart).toBeVisible();
      await expect(chart.locator('svg rect').first()).toBeAttached();
      const box = await chart.locator('svg').boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(300);
      await expect(page.getByRole('table', { name: 'Brev per dag etter kanal, de siste 14 dagene' })).toBeVisible();
      await expect(page.getByRole('heading', { name: 'Køen' })).toBeVisible();
      await arrived(page);
      await checkA11y(page);
    });

    await test.step('the letters are batched, and the operator opens the batch', async () => {
      await postkasse(['print', 'batch']);
      const { batch } = await printedLetter(name);
      await visit(page, '/drift/utskrift');
      await page.getByRole('region', { name: 'Bunker' }).locator(`a[href="/drift/utskrift/bunke/${batch}"]`).click();
      await expect(page).toHaveURL(`/drift/utskrift/bunke/${batch}`);
      await expect(page.getByRole('heading', { level: 1, name: /Utskriftsbunke/ })).toBeVisible();
      await expect(page.getByRole('link', { name: 'Last ned bunken (zip)' })).toBeVisible();
      await arrived(page);
      await checkA11y(page);
    });

    await test.step("a letter's timeline shows what its sender sees", async () => {
      const row = page.getByRole('row').filter({ hasText: name });
      await row.getByRole('link').click();
      await expect(page).toHaveURL(/\/drift\/utskrift\/brev\//);
      await expect(page.getByRole('table', { name: 'Statusene avsenderen ser' })).toContainText('lagt i utskriftskøen');
      await arrived(page);
      await checkA11y(page);
    });
  });
});
