import { SEND_SCOPE, issueAgencyToken, postkasse, printedLetter, reserveWithAddress, sendLetter } from './agency';
import { arrived, checkA11y, expect, test, visit } from './a11y';
import { type Citizen, syntheticCitizen } from './citizens';
import { pdfText } from './pdf';

// The public check of a paper letter (/kontroll), without JavaScript and
// hydrated: a reserved citizen's letter goes to print, is batched into the
// print house's drop, and the code printed on it (read from the PDF with
// poppler's pdftotext) shows the sender and title; a made-up code and
// nonsense are told apart.

/** One reserved citizen per project, used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1961, 3, 14),
  hydrate: syntheticCitizen(1964, 9, 23),
};

/** The check code printed on the letter addressed to `name` (poppler's pdftotext reads it). */
async function printedCode(name: string): Promise<string> {
  const { pdf } = await printedLetter(name);
  const text = await pdfText(pdf, 1);
  const match = /Kontrollkode: (\S+)/.exec(text);
  if (!match) throw new Error(`no check code on the letter to ${name}: ${text}`);
  return match[1];
}

test.describe('checking a paper letter', () => {
  test('a printed letter is found by its code; a made-up code and nonsense are not', async ({ page, request }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();
    const name = `Papir Mottaker ${project}`;
    const title = `Vedtak på papir ${project}`;
    await reserveWithAddress(citizen.fnr, name);
    const token = await issueAgencyToken([SEND_SCOPE]);
    await sendLetter(request, token, '', { to: citizen.fnr, title });
    await postkasse(['print', 'batch']);
    const code = await printedCode(name);

    await test.step('the page asks for the code', async () => {
      expect((await visit(page, '/kontroll'))?.status()).toBe(200);
      await expect(page.getByRole('heading', { level: 1, name: 'Sjekk et brev på papir' })).toBeVisible();
      await arrived(page);
      await checkA11y(page);
    });

    await test.step('the printed code shows the sender and title', async () => {
      await page.getByLabel('Kontrollkode').fill(code.toLowerCase());
      await page.getByRole('button', { name: 'Sjekk brevet' }).click();
      const result = page.getByRole('status');
      await expect(result.getByRole('heading', { name: 'Brevet er ekte' })).toBeVisible();
      await expect(result).toContainText('Brønnøysundregistrene');
      await expect(result).toContainText(title);
      await arrived(page);
      await checkA11y(page);
    });

    await test.step('a made-up code shows nothing but a warning', async () => {
      expect((await visit(page, '/kontroll?kode=7K3QD-M9X2P'))?.status()).toBe(200);
      await expect(page.getByRole('heading', { name: 'Vi finner ikke noe brev med denne koden' })).toBeVisible();
      await expect(page.getByText(title)).toHaveCount(0);
      await arrived(page);
      await checkA11y(page);
    });

    await test.step('nonsense is said to be no code', async () => {
      await visit(page, '/kontroll?kode=hei');
      await expect(page.getByRole('alert')).toHaveText('Kontrollkoden har ti bokstaver og tall, for eksempel 7K3QD-M9X2P.');
      await arrived(page);
      await checkA11y(page);
    });
  });
});
