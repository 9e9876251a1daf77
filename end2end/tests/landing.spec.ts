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

  test('offers keyboard users a skip link to the main content first', async ({ page }) => {
    await visit(page, '/'); // waits for hydration when JavaScript is on
    const skipLink = page.getByRole('link', { name: 'Hopp til hovedinnhold' });

    // Hidden off-screen until the first Tab reaches it; then it shows itself.
    await expect(skipLink).not.toBeInViewport();
    await page.keyboard.press('Tab');
    await expect(skipLink).toBeFocused();
    await expect(skipLink).toBeInViewport();

    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/#hovedinnhold$/);
    await expect(page.locator('#hovedinnhold')).toHaveRole('main');
  });

  test('moves keyboard focus into the main content when the skip link is used', async ({ page }) => {
    await visit(page, '/');

    await page.keyboard.press('Tab');
    await expect(page.getByRole('link', { name: 'Hopp til hovedinnhold' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/#hovedinnhold$/);

    await expect(page.getByRole('main')).toBeFocused();
    // The next Tab continues from the main content, not back in the header.
    await page.keyboard.press('Tab');
    await expect(page.getByRole('main')).not.toBeFocused();
    await expect(page.getByRole('banner').locator(':focus')).toHaveCount(0);
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
  test('serves every file the page links from /pkg/', async ({ request }) => {
    const html = await (await request.get('/')).text();
    const linked = [...new Set([...html.matchAll(/(?:href|src)="(\/pkg\/[^"]+)"/g)].map((match) => match[1]))];

    // The stylesheet, the JS glue and the wasm bundle, under the names this binary asks for.
    expect(linked.filter((path) => /\.css$/.test(path)), 'stylesheets linked from /pkg/').toHaveLength(1);
    expect(linked.filter((path) => /\.js$/.test(path)), 'scripts linked from /pkg/').toHaveLength(1);
    expect(linked.filter((path) => /\.wasm$/.test(path)), 'wasm bundles linked from /pkg/').toHaveLength(1);
    for (const path of linked) {
      const response = await request.get(path);
      expect(
        response.status(),
        `${path}: a 404 here means POSTKASSE_BIN and POSTKASSE_SITE_ROOT come from different builds ` +
          '(run `cargo leptos build` last)',
      ).toBe(200);
    }
  });

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
