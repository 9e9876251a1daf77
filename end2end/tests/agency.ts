import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { appStorageEnv, runDataDir } from './servers';

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
