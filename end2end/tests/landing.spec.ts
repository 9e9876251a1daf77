import { expect, test, visit } from './a11y';

test.describe('the front page', () => {
  test('is in Norwegian bokmål, with its title and heading', async ({ page }) => {
    const response = await visit(page, '/');

    expect(response?.status()).toBe(200);
    await expect(page.locator('html')).toHaveAttribute('lang', 'nb');
    await expect(page).toHaveTitle('Forside – Postkasse');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Din digitale postkasse');
    await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1);
    await expect(page.getByRole('link', { name: 'Postkasse', exact: true })).toHaveAttribute('href', '/');
    await expect(page.getByRole('contentinfo')).toContainText('Digital postkasse til innbyggere');
  });

  test('lets a keyboard user skip straight to the main content', async ({ page }) => {
    await visit(page, '/');
    const skipLink = page.getByRole('link', { name: 'Hopp til hovedinnhold' });
    const main = page.getByRole('main');

    // The skip link is the first thing Tab reaches, and it shows itself when focused.
    await page.keyboard.press('Tab');
    await expect(skipLink).toBeFocused();
    await expect(skipLink).toBeInViewport();

    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/#hovedinnhold$/);
    await expect(main).toHaveAttribute('id', 'hovedinnhold');
    await expect(main).toBeFocused();
    await expect(skipLink).not.toBeFocused();
  });
});

test.describe('an unknown page', () => {
  test('answers 404 and offers the way back to the front page', async ({ page }) => {
    const response = await visit(page, '/finnes-ikke');

    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Fant ikke siden');
    await expect(page).toHaveTitle('Fant ikke siden – Postkasse');

    await page.getByRole('main').getByRole('link', { name: 'forsiden' }).click();
    await expect(page).toHaveURL('/');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Din digitale postkasse');
    await expect(page).toHaveTitle('Forside – Postkasse');
    // The fixture checks the front page's accessibility once the test ends.
  });
});

test.describe('the server', () => {
  test('answers its liveness probe with ok', async ({ request }) => {
    const response = await request.get('/healthz');

    expect(response.status()).toBe(200);
    expect((await response.text()).trim()).toBe('ok');
  });

  test('answers its readiness probe once the database is reachable', async ({ request }) => {
    const response = await request.get('/readyz');

    expect(response.status()).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ready', database: 'ok' });
  });
});
