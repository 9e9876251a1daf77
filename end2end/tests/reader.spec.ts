import { SEND_SCOPE, issueAgencyToken, registerWithMailboxHere, sendLetter } from './agency';
import { arrived, checkA11y, expect, javaScriptEnabled, test, visit } from './a11y';
import { type Citizen, letterLinks, logInAtTestId, syntheticCitizen } from './citizens';

// Runs in both projects: a PDF letter is read in its page without JavaScript
// (pictures the server drew, and each page's text), and hydrated the reader
// also zooms.

/** One citizen per project, used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1962, 5, 8),
  hydrate: syntheticCitizen(1963, 7, 19),
};

test.describe('a PDF letter', () => {
  test.slow();

  test('is read in the page, page by page, with its text', async ({ page, request }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();
    const title = `Vedtak om bostøtte (${project})`;

    await test.step('the agency sends it through the DPI API', async () => {
      await registerWithMailboxHere(citizen.fnr, `leser.${project}@eksempel.no`);
      await sendLetter(request, await issueAgencyToken([SEND_SCOPE]), `e2e-leser-${project}`, { to: citizen.fnr, title });
    });

    await test.step('she opens it and sees the page drawn, not only a link', async () => {
      await page.goto('/auth/login');
      await logInAtTestId(page, citizen, 'substantial');
      await arrived(page);
      const href = await letterLinks(page).first().getAttribute('href');
      expect((await visit(page, href!))?.status()).toBe(200);
      const reader = page.getByRole('region', { name: `${title}, side for side` });
      await expect(reader).toBeVisible();
      const picture = reader.getByRole('img', { name: /^Side 1 av 1\./ });
      await expect(picture).toBeVisible();
      await expect
        .poll(() => picture.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth), {
          message: 'the page picture loaded',
        })
        .toBeGreaterThan(0);
      // The original is still there to download.
      await expect(page.getByRole('link', { name: title, exact: true })).toHaveAttribute('href', /^\/dokumenter\//);
    });

    await test.step("the page's text is there for copying and screen readers", async () => {
      await page.getByText('Teksten på side 1').click();
      await expect(page.locator('.page-text-body')).toContainText(title);
      await checkA11y(page);
    });

    if (javaScriptEnabled()) {
      await test.step('hydrated, the reader zooms', async () => {
        const zoom = page.getByRole('group', { name: 'Forstørrelse' });
        await expect(zoom.locator('output')).toHaveText('100 %');
        await zoom.getByRole('button', { name: 'Forstørr' }).click();
        await expect(zoom.locator('output')).toHaveText('125 %');
        await expect(page.locator('.reader-page img')).toHaveAttribute('style', /width: 125%/);
        await zoom.getByRole('button', { name: 'Forminsk' }).click();
        await zoom.getByRole('button', { name: 'Forminsk' }).click();
        await expect(zoom.locator('output')).toHaveText('75 %');
        await checkA11y(page);
      });
    } else {
      await test.step('without JavaScript there is nothing to zoom with', async () => {
        await expect(page.getByRole('group', { name: 'Forstørrelse' })).toHaveCount(0);
      });
    }
  });
});
