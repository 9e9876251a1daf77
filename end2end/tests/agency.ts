import type { APIRequestContext } from '@playwright/test';
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { appStorageEnv, runDataDir } from './servers';

/** The scope that lets an agency send letters and read its receipts. */
export const SEND_SCOPE = 'digitalpostinnbygger:send';

/** The scopes of the register lookup (`POST /rest/v1/personer`), as in KRR. */
export const KRR_SCOPES = {
  contact: 'krr:global/kontaktinformasjon.read',
  digitalPost: 'krr:global/digitalpost.read',
} as const;

/** Brønnøysundregistrene, the agency the specs look people up as. */
export const AGENCY_ORG_NR = '974760673';

/**
 * Issues an agency's access token the way an operator does: `postkasse token
 * issue`, run against the main server's database, which prints the token
 * alone on standard output (its logs go to standard error).
 */
export async function issueAgencyToken(scopes: string[]): Promise<string> {
  const binary = process.env.POSTKASSE_BIN;
  if (!binary) throw new Error('POSTKASSE_BIN is not set: playwright.config.ts requires it');
  const dataDir = runDataDir();
  const args = ['token', 'issue', '--client', 'e2e', '--org-nr', AGENCY_ORG_NR, ...scopes.flatMap((scope) => ['--scope', scope])];
  const { stdout } = await promisify(execFile)(path.resolve(binary), args, {
    // Relative paths in the settings (keys under data/) resolve as the server's do.
    cwd: dataDir,
    env: { ...process.env, ...appStorageEnv(dataDir) },
  });
  const token = stdout.trim();
  if (!/^\S+$/.test(token)) {
    throw new Error(`postkasse token issue printed something other than one token: ${JSON.stringify(stdout)}`);
  }
  return token;
}

/** Runs the `postkasse` command line against the main server's data, and returns what it printed. */
export async function postkasse(args: string[]): Promise<string> {
  const binary = process.env.POSTKASSE_BIN;
  if (!binary) throw new Error('POSTKASSE_BIN is not set: playwright.config.ts requires it');
  const dataDir = runDataDir();
  const { stdout } = await promisify(execFile)(path.resolve(binary), args, {
    cwd: dataDir,
    env: { ...process.env, ...appStorageEnv(dataDir) },
  });
  return stdout;
}

/** The single-use code at the end of the operator sign-in link the command line prints. */
export async function printedCode(): Promise<string> {
  const link = (await postkasse(['operator', 'login-link'])).trim();
  const match = /\/drift\/logg-inn\?kode=([A-Za-z0-9_-]{40,})$/.exec(link);
  if (!match) throw new Error(`not a sign-in link: ${link}`);
  return match[1];
}

/**
 * Puts the citizen in the register reserved against digital post, with a
 * postal address (`postkasse address set`): their letters go to paper.
 */
export async function reserveWithAddress(fnr: string, name: string): Promise<void> {
  const file = path.join(runDataDir(), `register-${fnr}.csv`);
  const now = new Date().toISOString();
  await writeFile(
    file,
    'personidentifikator,reservasjon,reservasjonstidspunkt,postkasseadresse,postkasseleverandoeradresse\n' +
      `${fnr},JA,${now},innbygger${fnr.slice(0, 6)}#E2E,${OWN_PROVIDER}\n`,
  );
  await postkasse(['krr', 'import', file]);
  await postkasse(['address', 'set', '--fnr', fnr, '--navn', name, '--adresselinje1', 'Storgata 1', '--postnummer', '0155', '--poststed', 'Oslo']);
}

/** A letter Postkasse batched for the print house, found in the drop by its recipient's name. */
export async function printedLetter(name: string): Promise<{ batch: string; letter: string; pdf: string }> {
  const outgoing = path.join(runDataDir(), 'data', 'print-drop', 'outgoing');
  for (const batch of await readdir(outgoing)) {
    if (batch.startsWith('.')) continue;
    const manifest = JSON.parse(await readFile(path.join(outgoing, batch, 'manifest.json'), 'utf8')) as {
      batch: string;
      letters: { letter: string; file: string; address: { navn: string } }[];
    };
    const letter = manifest.letters.find((entry) => entry.address.navn === name);
    if (letter) return { batch: manifest.batch, letter: letter.letter, pdf: path.join(outgoing, batch, letter.file) };
  }
  throw new Error(`no printed letter to ${name} in ${outgoing}`);
}

/** This Postkasse's organisation number as a mailbox provider (the default settings). */
export const OWN_PROVIDER = '999900003';

/**
 * Puts the citizen in the register, as `postkasse krr import` does: active,
 * not reserved, a current e-mail address, and a mailbox here.
 */
export async function registerWithMailboxHere(fnr: string, email: string): Promise<void> {
  const file = path.join(runDataDir(), `register-${fnr}.csv`);
  const now = new Date().toISOString();
  await writeFile(
    file,
    'personidentifikator,reservasjon,epostadresse,epostadresse_oppdatert,postkasseadresse,postkasseleverandoeradresse\n' +
      `${fnr},NEI,${email},${now},innbygger${fnr.slice(0, 6)}#E2E,${OWN_PROVIDER}\n`,
  );
  await postkasse(['krr', 'import', file]);
}

/**
 * Makes a one-page letter with `postkasse agency letter` and sends it through
 * the DPI API (`POST /messages/out?kanal=`), as an agency's system does.
 * Returns the message id.
 */
export async function sendLetter(
  request: APIRequestContext,
  token: string,
  kanal: string,
  options: {
    to: string;
    title: string;
    openingReceipt?: boolean;
    emailNotice?: { address: string; text: string };
    /** A reply form (docs/replies.md), put in the package as the main document's extension. */
    replyForm?: object;
    /** An order to sign the letter's PDF (docs/signing.md), as the main document's extension. */
    signingOrder?: object;
  },
): Promise<string> {
  const out = path.join(runDataDir(), `letter-${options.to}-${Date.now()}`);
  const args = ['agency', 'letter', '--from', AGENCY_ORG_NR, '--to', options.to, '--title', options.title, '--out', out];
  if (options.openingReceipt) args.push('--opening-receipt');
  if (options.replyForm) {
    const form = `${out}-svarskjema.json`;
    await writeFile(form, JSON.stringify(options.replyForm));
    args.push('--reply-form', form);
  }
  if (options.signingOrder) {
    const order = `${out}-signeringsoppdrag.json`;
    await writeFile(order, JSON.stringify(options.signingOrder));
    args.push('--signing-order', order);
  }
  if (options.emailNotice) args.push('--email-notice', options.emailNotice.address, '--notice-text', options.emailNotice.text);
  const messageId = (await postkasse(args)).trim();
  const response = await request.post(`/messages/out?kanal=${kanal}`, {
    headers: { Authorization: `Bearer ${token}` },
    multipart: {
      forretningsmelding: {
        name: 'forretningsmelding.json',
        mimeType: 'application/json',
        buffer: await readFile(path.join(out, 'forretningsmelding.json')),
      },
      dokumentpakke: {
        name: 'dokumentpakke.asice',
        mimeType: 'application/vnd.etsi.asic-e+zip',
        buffer: await readFile(path.join(out, 'dokumentpakke.asice')),
      },
    },
  });
  if (response.status() !== 201) {
    throw new Error(`POST /messages/out answered ${response.status()}: ${await response.text()}`);
  }
  return messageId;
}

/** The kinds of the unacknowledged receipts on `kanal` (`leveringskvittering`, ...). */
export async function receiptKinds(request: APIRequestContext, token: string, kanal: string): Promise<string[]> {
  const response = await request.get(`/messages/in?kanal=${kanal}`, { headers: { Authorization: `Bearer ${token}` } });
  if (response.status() === 204) return [];
  const receipts = (await response.json()) as {
    forretningsmelding: { standardBusinessDocument: { standardBusinessDocumentHeader: { documentIdentification: { type: string } } } };
  }[];
  return receipts.map((receipt) => receipt.forretningsmelding.standardBusinessDocument.standardBusinessDocumentHeader.documentIdentification.type);
}

/** The answers of the unacknowledged replies (`svar` messages) on `kanal`. */
export async function repliesWaiting(
  request: APIRequestContext,
  token: string,
  kanal: string,
): Promise<{ svar: Record<string, any> }[]> {
  const response = await request.get(`/messages/in?kanal=${kanal}`, { headers: { Authorization: `Bearer ${token}` } });
  if (response.status() === 204) return [];
  const waiting = (await response.json()) as { forretningsmelding: { standardBusinessDocument: { svar?: { svar: Record<string, any> } } } }[];
  return waiting.flatMap((entry) => {
    const reply = entry.forretningsmelding.standardBusinessDocument.svar;
    return reply ? [{ svar: reply.svar }] : [];
  });
}

/** The texts of the unacknowledged messages citizens wrote (`melding`) on `kanal`. */
export async function messagesWaiting(request: APIRequestContext, token: string, kanal: string): Promise<string[]> {
  const response = await request.get(`/messages/in?kanal=${kanal}`, { headers: { Authorization: `Bearer ${token}` } });
  if (response.status() === 204) return [];
  const waiting = (await response.json()) as { forretningsmelding: { standardBusinessDocument: { melding?: { tekst: string } } } }[];
  return waiting.flatMap((entry) => {
    const message = entry.forretningsmelding.standardBusinessDocument.melding;
    return message ? [message.tekst] : [];
  });
}

/** The statuses of the unacknowledged `signeringsstatus` receipts on `kanal` (`COMPLETED_SUCCESSFULLY`, ...). */
export async function signingStatuses(request: APIRequestContext, token: string, kanal: string): Promise<string[]> {
  const response = await request.get(`/messages/in?kanal=${kanal}`, { headers: { Authorization: `Bearer ${token}` } });
  if (response.status() === 204) return [];
  const waiting = (await response.json()) as {
    forretningsmelding: { standardBusinessDocument: { signeringsstatus?: { signeringsoppdrag: { status: string } } } };
  }[];
  return waiting.flatMap((entry) => {
    const status = entry.forretningsmelding.standardBusinessDocument.signeringsstatus;
    return status ? [status.signeringsoppdrag.status] : [];
  });
}

/**
 * The six-digit code in the newest message to `address` that the notice
 * sink holds, as `postkasse notices` prints it (newest first).
 */
export async function codeSentTo(address: string): Promise<string> {
  const printed = await postkasse(['notices', '--limit', '500']);
  const line = printed.split('\n').find((line) => line.includes(`  ${address}: `));
  const match = line === undefined ? null : /: .*?\b(\d{6})\b/.exec(line);
  if (!match) throw new Error(`no code to ${address} in:\n${printed}`);
  return match[1];
}
