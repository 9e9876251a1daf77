import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { OWN_PROVIDER, SEND_SCOPE, issueAgencyToken, postkasse, sendLetter } from './agency';
import { arrived, checkA11y, expect, test, visit } from './a11y';
import { type Citizen, syntheticCitizen } from './citizens';
import { runDataDir } from './servers';

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

/** Reserves the citizen against digital post and gives them a postal address. */
async function reserveWithAddress(citizen: Citizen, name: string): Promise<void> {
  const file = path.join(runDataDir(), `register-${citizen.fnr}.csv`);
  const now = new Date().toISOString();
  await writeFile(
    file,
    'personidentifikator,reservasjon,reservasjonstidspunkt,postkasseadresse,postkasseleverandoeradresse\n' +
      `${citizen.fnr},JA,${now},innbygger${citizen.fnr.slice(0, 6)}#E2E,${OWN_PROVIDER}\n`,
  );
  await postkasse(['krr', 'import', file]);
  await postkasse(['address', 'set', '--fnr', citizen.fnr, '--navn', name, '--adresselinje1', 'Storgata 1', '--postnummer', '0155', '--poststed', 'Oslo']);
}

/** The check code printed on the letter addressed to `name`, from the drop. */
async function printedCode(name: string): Promise<string> {
  const outgoing = path.join(runDataDir(), 'data', 'print-drop', 'outgoing');
  for (const batch of await readdir(outgoing)) {
    if (batch.startsWith('.')) continue;
    const manifest = JSON.parse(await readFile(path.join(outgoing, batch, 'manifest.json'), 'utf8')) as {
      letters: { file: string; address: { navn: string } }[];
    };
    const letter = manifest.letters.find((entry) => entry.address.navn === name);
    if (!letter) continue;
    const { stdout } = await promisify(execFile)('pdftotext', ['-f', '1', '-l', '1', path.join(outgoing, batch, letter.file), '-']);
    const match = /Kontrollkode: (\S+)/.exec(stdout);
    if (match) return match[1];
  }
  throw new Error(`no printed letter to ${name} in ${outgoing}`);
}

test.describe('checking a paper letter', () => {
  test('a printed letter is found by its code; a made-up code and nonsense are not', async ({ page, request }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();
    const name = `Papir Mottaker ${project}`;
    const title = `Vedtak på papir ${project}`;
    await reserveWithAddress(citizen, name);
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
