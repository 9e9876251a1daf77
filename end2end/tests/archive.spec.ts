import { readFile } from 'node:fs/promises';
import { SEND_SCOPE, issueAgencyToken, registerWithMailboxHere, sendLetter } from './agency';
import { arrived, checkA11y, expect, javaScriptEnabled, test, visit } from './a11y';
import { type Citizen, letterLinks, logInAtTestId, syntheticCitizen } from './citizens';
import { readZip } from './zip';

// Runs in both projects: the citizen's archive must work without JavaScript
// (forms post and the browser is sent back) and hydrated (actions run and the
// page reloads its data in place).

/** One citizen per project, used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1965, 3, 14),
  hydrate: syntheticCitizen(1983, 10, 5),
};

/** A small but real PDF: what the upload checks is the signature at its start. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

type IndexFile = { fil: string; navn: string };
type IndexLetter = { id: string; tittel: string; plassering: string; mappe: string | null; dokumenter: IndexFile[] };

test.describe("the citizen's archive", () => {
  test.slow();

  test('read a letter, file it in a new folder, upload a PDF, export everything, see the access log', async ({
    page,
    request,
  }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();
    const title = `Vedtak om bostøtte (${project})`;
    const folder = `Bolig ${project}`;
    let letterPath = '';

    await test.step('an agency sends her a letter, and she reads it', async () => {
      await registerWithMailboxHere(citizen.fnr, `arkiv.${project}@eksempel.no`);
      await sendLetter(request, await issueAgencyToken([SEND_SCOPE]), `e2e-arkiv-${project}`, {
        to: citizen.fnr,
        title,
      });
      await page.goto('/auth/login');
      await logInAtTestId(page, citizen, 'substantial');
      await expect(page).toHaveURL('/innboks');
      await arrived(page);
      const letter = letterLinks(page);
      await expect(letter).toHaveCount(1);
      await expect(letter).toContainText('Ulest');
      await expect(letter).toContainText('Offentlig virksomhet');
      letterPath = (await letter.getAttribute('href'))!;
      await visit(page, letterPath);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(title);
      await expect(page.getByRole('region', { name: 'Dokumenter' }).getByRole('link', { name: title })).toBeVisible();
      await expect(page.getByRole('region', { name: 'Ordne brevet' })).toContainText('Brevet ligger i Innboks');
    });

    await test.step('she makes a folder', async () => {
      await visit(page, '/mapper');
      await page.getByLabel('Navn på mappen').fill(folder);
      await page.getByRole('button', { name: 'Lag mappen' }).click();
      const folders = page.getByRole('region', { name: 'Mappene dine' });
      await expect(folders.getByRole('link', { name: folder })).toBeVisible();
      await arrived(page);
    });

    await test.step('she files the letter in it', async () => {
      await visit(page, letterPath);
      const tools = page.getByRole('region', { name: 'Ordne brevet' });
      await tools.getByLabel('Flytt til', { exact: true }).selectOption({ label: folder });
      await tools.getByRole('button', { name: 'Flytt', exact: true }).click();
      await expect(tools).toContainText(`Brevet ligger i mappen ${folder}`);
      await arrived(page);
      await visit(page, '/innboks');
      await expect(letterLinks(page)).toHaveCount(0);
      await page.getByRole('navigation', { name: 'Mapper' }).getByRole('link', { name: folder }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(folder);
      await expect(letterLinks(page)).toHaveCount(1);
      await expect(letterLinks(page)).toContainText(title);
      await arrived(page);
    });

    await test.step('a text file named .pdf is refused beside the field, and nothing is stored', async () => {
      await visit(page, '/mine-dokumenter');
      const field = page.getByLabel('Dokument', { exact: true });
      await field.setInputFiles({ name: 'brev.pdf', mimeType: 'application/pdf', buffer: Buffer.from('Dette er bare tekst.') });
      await page.getByRole('button', { name: 'Last opp' }).click();
      await expect(page).toHaveURL('/mine-dokumenter?feil=feil-type');
      await expect(page.locator('.field').filter({ has: field }).locator('#fil-feil')).toHaveText(
        'Filen må være en PDF-, PNG- eller JPEG-fil.',
      );
      await expect(field).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByRole('region', { name: 'Dokumentene dine' })).toContainText('Du har ikke lastet opp noe ennå.');
      await arrived(page);
    });

    await test.step('she uploads a PDF', async () => {
      await page.getByLabel('Dokument', { exact: true }).setInputFiles({ name: 'husleieavtale.pdf', mimeType: 'application/pdf', buffer: PDF });
      await page.getByRole('button', { name: 'Last opp' }).click();
      await expect(page).toHaveURL('/mine-dokumenter?lagret=1');
      await expect(page.getByRole('status')).toHaveText('Dokumentet er lastet opp.');
      await expect(page.getByRole('region', { name: 'Dokumentene dine' }).getByRole('link', { name: 'husleieavtale.pdf' })).toBeVisible();
      await arrived(page);
    });

    await test.step('she exports the archive and finds the letter and the upload in the zip', async () => {
      await visit(page, '/innboks');
      const downloading = page.waitForEvent('download');
      await page.getByRole('link', { name: 'Last ned hele arkivet (zip)' }).click();
      const download = await downloading;
      expect(download.suggestedFilename()).toBe('postkasse.zip');
      const entries = readZip(await readFile((await download.path())!));
      const index = JSON.parse(entries.get('index.json')!.toString('utf8')) as {
        brev: IndexLetter[];
        opplastinger: IndexFile[];
      };
      const letter = index.brev.find((entry) => entry.tittel === title);
      expect(letter, 'the letter is in index.json').toBeDefined();
      expect(letter!.plassering).toBe('mappe');
      expect(letter!.mappe).toBe(folder);
      const main = entries.get(letter!.dokumenter[0].fil);
      expect(main?.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const upload = index.opplastinger.find((entry) => entry.navn === 'husleieavtale.pdf');
      expect(upload, 'the upload is in index.json').toBeDefined();
      expect(entries.get(upload!.fil)).toEqual(PDF);
    });

    await test.step("the export is in the letter's access log", async () => {
      await visit(page, letterPath);
      const log = page.getByRole('region', { name: 'Tilgangslogg' });
      await expect(log).toContainText('Hoveddokumentet ble lastet ned');
      await expect(log.getByRole('row').nth(1)).toContainText('Brevet ble vist');
      await checkA11y(page);
      if (javaScriptEnabled()) await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
    });
  });
});
