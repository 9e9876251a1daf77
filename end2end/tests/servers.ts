import path from 'node:path';

/**
 * The servers the suite runs (started by playwright.config.ts), shared by the
 * config and the specs. Ports follow E2E_PORT (default 3100):
 *
 * - E2E_PORT: `postkasse demo` logging in through its built-in TestID;
 * - E2E_PORT + 1: a second `postkasse demo`, TestID disabled, logging in
 *   through the independent OpenID provider;
 * - E2E_PORT + 2: that provider, panva's oidc-provider (`idp/server.mjs`).
 *
 * Everything listens on 127.0.0.1: Chromium counts http://127.0.0.1 as a
 * secure context and keeps the app's `Secure` `__Host-` cookies there, as it
 * does on http://localhost.
 */
const port = Number(process.env.E2E_PORT ?? '3100');

export const APP_URL = `http://127.0.0.1:${port}`;
export const INDEPENDENT_APP_URL = `http://127.0.0.1:${port + 1}`;
export const IDP_URL = `http://127.0.0.1:${port + 2}`;

/** The client the independent provider knows the second Postkasse as. */
export const IDP_CLIENT_ID = 'postkasse-e2e';
export const IDP_CLIENT_SECRET = 'postkasse-e2e-client-secret-not-for-production';

export const ports = { app: port, independentApp: port + 1, idp: port + 2 };

/**
 * The run's temporary data directory, made by playwright.config.ts; workers
 * inherit the variable naming it.
 */
export function runDataDir(): string {
  const dataDir = process.env.POSTKASSE_E2E_DATA_DIR;
  if (!dataDir) throw new Error('POSTKASSE_E2E_DATA_DIR is not set: playwright.config.ts sets it for every run');
  return dataDir;
}

/**
 * Where the main Postkasse (E2E_PORT) keeps its database and documents, as
 * the `postkasse` binary reads it from its environment. The server and any
 * command a spec runs against it (`postkasse token issue`) share it.
 */
export function appStorageEnv(dataDir: string): Record<string, string> {
  return {
    POSTKASSE__DATABASE__URL: `sqlite://${path.join(dataDir, 'e2e.db')}`,
    POSTKASSE__BLOBS__DIRECTORY: path.join(dataDir, 'blobs'),
    POSTKASSE__SEARCH__INDEX_DIRECTORY: path.join(dataDir, 'index'),
  };
}
