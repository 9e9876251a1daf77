import { expect, test, visit } from './a11y';

// What a citizen whose browser runs no JavaScript gets: the server-rendered page alone.
test.skip(({ javaScriptEnabled }) => javaScriptEnabled, 'only meaningful with JavaScript disabled (the ssr project)');

test.describe('without JavaScript', () => {
  test('the front page is fully readable and never hydrates', async ({ page }) => {
    const response = await visit(page, '/');

    expect(response?.status()).toBe(200);
    // The whole page came from the server: header, every section, footer.
    await expect(page.getByRole('link', { name: 'Hopp til hovedinnhold' })).toHaveAttribute('href', '#hovedinnhold');
    await expect(page.getByRole('banner').getByRole('link', { name: 'Postkasse' })).toBeVisible();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Din digitale postkasse');
    await expect(page.getByRole('heading', { level: 2 })).toHaveText([
      'Slik fungerer det',
      'Vil du heller ha brev på papir?',
    ]);
    await expect(page.getByRole('heading', { level: 3 })).toHaveCount(3);
    await expect(page.getByRole('main')).toContainText('ID-porten');
    await expect(page.getByRole('contentinfo')).toBeVisible();
    // The stylesheet applies without JavaScript: the skip link sits off-screen until focused.
    await expect(page.getByRole('link', { name: 'Hopp til hovedinnhold' })).not.toBeInViewport();

    // No wasm ran, so nothing marked the document as hydrated.
    await expect(page.locator('html')).not.toHaveAttribute('data-hydrated');
  });

  test('the not-found page is readable and links home', async ({ page }) => {
    const response = await visit(page, '/finnes-ikke');

    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Fant ikke siden');
    await expect(page.getByRole('main').getByRole('link', { name: 'forsiden' })).toHaveAttribute('href', '/');
    await expect(page.locator('html')).not.toHaveAttribute('data-hydrated');
  });
});
