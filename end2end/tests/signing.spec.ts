import { SEND_SCOPE, issueAgencyToken, registerWithMailboxHere, sendLetter, signingStatuses } from './agency';
import { arrived, checkA11y, expect, test, visit } from './a11y';
import { type Citizen, followServerLink, letterLinks, logInAtTestId, syntheticCitizen } from './citizens';

// Runs in both projects: signing and declining are plain forms posted to the
// server, the same with JavaScript off and hydrated.

/** One citizen per project, used by no other spec. */
const CITIZENS: Record<string, Citizen> = {
  ssr: syntheticCitizen(1959, 6, 21),
  hydrate: syntheticCitizen(1983, 2, 9),
};

/** A recipient and the citizen who signs after them, per project. */
const PAIRS: Record<string, [Citizen, Citizen]> = {
  ssr: [syntheticCitizen(1961, 4, 3), syntheticCitizen(1962, 5, 4)],
  hydrate: [syntheticCitizen(1971, 8, 5), syntheticCitizen(1972, 9, 6)],
};

/** The name the agency gives the signer (from the population register, in real life). */
const SIGNER_NAME = 'Signe Signatar';

function signingOrder(citizen: Citizen): object {
  return {
    versjon: 1,
    tittel: 'Arbeidsavtale',
    frist: new Date(Date.now() + 14 * 24 * 3600 * 1000).toISOString(),
    signatarer: [{ personidentifikator: citizen.fnr, navn: SIGNER_NAME }],
  };
}

test.describe('a letter with a signing order', () => {
  test.slow();

  test('the citizen steps up to level 4, signs, and sees the signature checked', async ({ page, request }) => {
    const project = test.info().project.name;
    const citizen = CITIZENS[project];
    expect(citizen, `a citizen for the project ${project}`).toBeDefined();
    const kanal = `e2e-signering-${project}`;
    const title = `Arbeidsavtale til signering (${project})`;
    const token = await issueAgencyToken([SEND_SCOPE]);

    await test.step('the agency sends a PDF to be signed', async () => {
      await registerWithMailboxHere(citizen.fnr, `signering.${project}@eksempel.no`);
      await sendLetter(request, token, kanal, { to: citizen.fnr, title, signingOrder: signingOrder(citizen) });
    });

    await test.step('at level 3 the letter asks for a login at level 4', async () => {
      await page.goto('/auth/login');
      await logInAtTestId(page, citizen, 'substantial');
      await arrived(page);
      const href = await letterLinks(page).filter({ hasText: title }).first().getAttribute('href');
      await visit(page, href!);
      const order = page.getByRole('region', { name: 'Til signering', exact: true });
      await expect(order).toContainText('Arbeidsavtale');
      await expect(order).toContainText('Dokumentets SHA-256');
      await expect(order.getByRole('button', { name: 'Signer dokumentet' })).toHaveCount(0);
      await checkA11y(page);
      await followServerLink(page, order.getByRole('link', { name: /Logg inn/ }));
      await logInAtTestId(page, citizen, 'high');
      await arrived(page);
    });

    await test.step('at level 4 she signs, once', async () => {
      const order = page.getByRole('region', { name: 'Til signering', exact: true });
      await expect(order.getByRole('button', { name: 'Signer dokumentet' })).toBeVisible();
      await checkA11y(page);
      await order.getByRole('button', { name: 'Signer dokumentet' }).click();
      await arrived(page);
      await expect(page.getByRole('region', { name: 'Til signering', exact: true })).toContainText('Du signerte dokumentet');
      await expect.poll(() => signingStatuses(request, token, kanal)).toEqual(['COMPLETED_SUCCESSFULLY']);
    });

    await test.step('the page shows the signature, checked, and the signed PDF', async () => {
      const signatures = page.getByRole('region', { name: 'Signaturer i dokumentene' });
      await expect(signatures).toContainText(SIGNER_NAME);
      await expect(signatures).toContainText('Gyldig');
      await expect(signatures).toContainText('(med tidsstempel)');
      await expect(page.getByRole('link', { name: 'Last ned det signerte dokumentet (PDF)' })).toHaveAttribute('href', /^\/opplastinger\//);
      await checkA11y(page);
    });
  });

  test('a second citizen signs after the recipient, on a page of their own', async ({ page, request }) => {
    const project = test.info().project.name;
    const [recipient, cosigner] = PAIRS[project];
    const kanal = `e2e-medsignering-${project}`;
    const title = `Kjøpekontrakt til signering (${project})`;
    const token = await issueAgencyToken([SEND_SCOPE]);

    await test.step('the agency asks both to sign, the recipient first', async () => {
      await registerWithMailboxHere(recipient.fnr, `mottaker.${project}@eksempel.no`);
      await registerWithMailboxHere(cosigner.fnr, `medsignatar.${project}@eksempel.no`);
      const order = {
        versjon: 1,
        tittel: 'Kjøpekontrakt',
        frist: new Date(Date.now() + 14 * 24 * 3600 * 1000).toISOString(),
        signatarer: [
          { personidentifikator: recipient.fnr, navn: 'Mona Mottaker' },
          { personidentifikator: cosigner.fnr, navn: 'Mads Medsignatar' },
        ],
      };
      await sendLetter(request, token, kanal, { to: recipient.fnr, title, signingOrder: order });
    });

    await test.step('the recipient signs in the letter, which lists who signs next', async () => {
      await page.goto('/auth/login?level=high');
      await logInAtTestId(page, recipient, 'high');
      await arrived(page);
      const href = await letterLinks(page).filter({ hasText: title }).first().getAttribute('href');
      await visit(page, href!);
      const order = page.getByRole('region', { name: 'Til signering', exact: true });
      await expect(order.getByRole('list').filter({ hasText: 'Mads Medsignatar' })).toContainText('venter');
      await order.getByRole('button', { name: 'Signer dokumentet' }).click();
      await arrived(page);
      await expect(page.getByRole('region', { name: 'Til signering', exact: true })).toContainText('Du signerte dokumentet');
      await expect.poll(() => signingStatuses(request, token, kanal)).toEqual(['IN_PROGRESS']);
    });

    await test.step('the second signer finds it under Til signering, and sees only the document', async () => {
      await page.context().clearCookies();
      await page.goto('/auth/login?level=high');
      await logInAtTestId(page, cosigner, 'high');
      await arrived(page);
      await page.getByRole('link', { name: 'Til signering' }).click();
      await arrived(page);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Til signering');
      await checkA11y(page);
      await page.getByRole('link', { name: 'Kjøpekontrakt' }).click();
      await arrived(page);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kjøpekontrakt');
      const order = page.getByRole('region', { name: 'Til signering', exact: true });
      await expect(order).toContainText('Mads Medsignatar');
      await expect(order.getByRole('link', { name: /\.pdf$/ })).toHaveAttribute('href', /\/signering\/[0-9a-f-]{36}\/dokument$/);
      const signatures = page.getByRole('region', { name: 'Signaturer i dokumentene' });
      await expect(signatures).toContainText('Mona Mottaker');
      await expect(signatures).toContainText('Gyldig');
      await checkA11y(page);
    });

    await test.step('the second signer signs, which completes the job', async () => {
      const order = page.getByRole('region', { name: 'Til signering', exact: true });
      await order.getByRole('button', { name: 'Signer dokumentet' }).click();
      await arrived(page);
      const done = page.getByRole('region', { name: 'Til signering', exact: true });
      await expect(done).toContainText('Du signerte dokumentet');
      await expect(done).toContainText('Alle har signert dokumentet.');
      await expect(page.getByRole('region', { name: 'Signaturer i dokumentene' })).toContainText('Mads Medsignatar');
      await checkA11y(page);
      await expect.poll(() => signingStatuses(request, token, kanal)).toEqual(['IN_PROGRESS', 'COMPLETED_SUCCESSFULLY']);
    });
  });
});
