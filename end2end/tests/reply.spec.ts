import { SEND_SCOPE, issueAgencyToken, messagesWaiting, registerWithMailboxHere, repliesWaiting, sendLetter } from './agency';
import { arrived, checkA11y, expect, javaScriptEnabled, test, visit } from './a11y';
import { type Citizen, letterLinks, logInAtTestId, syntheticCitizen } from './citizens';

// Runs in both projects: answering a reply form is a plain multipart form,
// the review and the send work with JavaScript off (posted, then sent back to
// the letter) and hydrated.

/** One citizen and one channel per project, used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1968, 3, 14),
  hydrate: syntheticCitizen(1977, 10, 2),
};

/** A one-page PDF a browser would upload. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

function courseForm(): object {
  const deadline = new Date(Date.now() + 5 * 24 * 3600 * 1000).toISOString();
  return {
    versjon: 1,
    tittel: 'Påmelding til kurs',
    ingress: 'Svar før fristen, så vi kan planlegge.',
    svarfrist: deadline,
    fritekst: true,
    spoersmaal: [
      {
        id: 'dag',
        type: 'ETT_VALG',
        tekst: 'Hvilken dag passer?',
        paakrevd: true,
        alternativer: [
          { verdi: 'man', tekst: 'Mandag' },
          { verdi: 'tir', tekst: 'Tirsdag' },
        ],
      },
      { id: 'allergi', type: 'KORT_TEKST', tekst: 'Allergier', hjelpetekst: 'La stå tom om du ikke har noen.' },
      { id: 'antall', type: 'TALL', tekst: 'Hvor mange følger deg?', min: 0, maks: 3 },
      { id: 'attest', type: 'VEDLEGG', tekst: 'Legeattest', paakrevd: true },
    ],
  };
}

test.describe('a letter with a reply form', () => {
  test.slow();

  test('the citizen answers with a choice, a text and an attachment, reviews and sends it once, then writes a message', async ({ page, request }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();
    const kanal = `e2e-svar-${project}`;
    const title = `Innkalling til kurs (${project})`;
    const token = await issueAgencyToken([SEND_SCOPE]);

    await test.step('the agency sends it with a form', async () => {
      await registerWithMailboxHere(citizen.fnr, `svar.${project}@eksempel.no`);
      await sendLetter(request, token, kanal, { to: citizen.fnr, title, replyForm: courseForm() });
    });

    await test.step('the letter shows the form and its deadline', async () => {
      await page.goto('/auth/login');
      await logInAtTestId(page, citizen, 'substantial');
      await arrived(page);
      const href = await letterLinks(page).first().getAttribute('href');
      await visit(page, href!);
      const form = page.getByRole('region', { name: 'Påmelding til kurs' });
      await expect(form).toContainText('Svar innen');
      await expect(form.getByRole('group', { name: /Hvilken dag passer\?/ })).toBeVisible();
    });

    await test.step('a number out of range and a missing file are named beside their questions', async () => {
      await page.getByRole('radio', { name: 'Tirsdag' }).check();
      await page.getByLabel(/^Allergier/).fill('Nøtter');
      await page.getByLabel(/^Hvor mange følger deg\?/).fill('7');
      await page.getByRole('button', { name: 'Se over svarene' }).click();
      await expect(page).toHaveURL(/\?utkast=/);
      await arrived(page);
      const summary = page.getByRole('alert').filter({ hasText: 'Noen svar må rettes' });
      await expect(summary).toContainText('Tallet kan være høyst 3.');
      await expect(summary).toContainText('Du må svare på dette spørsmålet.');
      const count = page.getByLabel(/^Hvor mange følger deg\?/);
      await expect(count).toHaveAttribute('aria-invalid', 'true');
      await expect(count).toHaveAccessibleDescription(/Tallet kan være høyst 3\./);
      await expect(page.getByLabel(/^Allergier/)).toHaveValue('Nøtter');
    });

    await test.step('corrected, the review shows what is sent', async () => {
      await page.getByLabel(/^Hvor mange følger deg\?/).fill('2');
      await page.getByLabel(/^Legeattest/).setInputFiles({ name: 'legeattest.pdf', mimeType: 'application/pdf', buffer: PDF });
      await page.getByRole('button', { name: 'Se over svarene' }).click();
      await arrived(page);
      await expect(page.getByRole('heading', { name: 'Se over før du sender' })).toBeVisible();
      const answers = page.locator('dl.answers');
      await expect(answers).toContainText('Tirsdag');
      await expect(answers).toContainText('Nøtter');
      await expect(answers).toContainText('legeattest.pdf');
      expect(await repliesWaiting(request, token, kanal)).toHaveLength(0);
    });

    await test.step('sent, the letter shows the reply, and the agency gets it once', async () => {
      const sent = page.waitForResponse(
        (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/api/send_reply',
      );
      await page.getByRole('button', { name: 'Send svaret' }).click();
      const answer = await sent;
      expect(answer.status()).toBe(javaScriptEnabled() ? 200 : 302);
      await expect(page.getByRole('heading', { name: 'Ditt svar' })).toBeVisible();
      await expect(page.getByRole('status').filter({ hasText: 'Sendt' })).toBeVisible();
      await expect(page.getByRole('link', { name: /Kvittering for svaret \(PDF, forseglet av Postkasse\)/ })).toBeVisible();
      await checkA11y(page);
      const replies = await repliesWaiting(request, token, kanal);
      expect(replies).toHaveLength(1);
      expect(replies[0].svar).toMatchObject({ dag: 'tir', allergi: 'Nøtter', antall: 2 });
      expect(replies[0].svar.attest.filnavn).toBe('legeattest.pdf');
    });

    await test.step('she writes a follow-up message in the letter\'s conversation', async () => {
      const conversation = page.getByRole('region', { name: 'Samtale med avsenderen' });
      await conversation.getByLabel('Skriv en melding til Brønnøysundregistrene').fill('Kan jeg ta med en ledsager?');
      await conversation.getByLabel('Vedlegg (valgfritt)').setInputFiles({ name: 'timeplan.pdf', mimeType: 'application/pdf', buffer: PDF });
      await conversation.getByRole('button', { name: 'Send meldingen' }).click();
      await expect(page).toHaveURL(/melding=sendt/);
      await arrived(page);
      const thread = page.getByRole('region', { name: 'Samtale med avsenderen' });
      await expect(thread.getByRole('status')).toHaveText('Meldingen er sendt.');
      await expect(thread.getByRole('listitem').filter({ hasText: 'Kan jeg ta med en ledsager?' })).toContainText('timeplan.pdf');
      await expect(thread.getByRole('listitem').filter({ hasText: 'Du svarte på skjemaet.' })).toHaveCount(1);
      expect(await messagesWaiting(request, token, kanal)).toEqual(['Kan jeg ta med en ledsager?']);
    });
  });
});
