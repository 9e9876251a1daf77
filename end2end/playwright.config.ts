import { defineConfig, devices } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { APP_URL, IDP_CLIENT_ID, IDP_CLIENT_SECRET, IDP_URL, INDEPENDENT_APP_URL, appStorageEnv, ports } from './tests/servers';

/**
 * End-to-end tests for Postkasse, run against a real `postkasse demo` server
 * built by `cargo leptos build`.
 *
 *   POSTKASSE_BIN=../target/debug/postkasse \
 *   POSTKASSE_SITE_ROOT=../target/site \
 *   npx playwright test
 *
 * Three servers run (see tests/servers.ts): Postkasse with its built-in TestID
 * provider; a second Postkasse, TestID disabled, whose citizens log in through
 * an independent OpenID provider; and that provider (idp/server.mjs, on
 * panva's oidc-provider).
 *
 * Two projects run the same specs:
 *   - `ssr`: JavaScript disabled, so what a citizen gets from the server alone;
 *     specs named `*hydrate*.spec.ts` are left out;
 *   - `hydrate`: JavaScript enabled, so the wasm bundle takes the page over.
 */

function required(name: string, hint: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: ${hint}\n` +
        'Run for example: POSTKASSE_BIN=../target/debug/postkasse ' +
        'POSTKASSE_SITE_ROOT=../target/site npx playwright test',
    );
  }
  return path.resolve(value);
}

const serverBinary = required('POSTKASSE_BIN', 'the path of the postkasse server binary built by `cargo leptos build`');
const siteRoot = required(
  'POSTKASSE_SITE_ROOT',
  'the site directory built by `cargo leptos build` (the one holding pkg/postkasse.js)',
);
if (!fs.existsSync(serverBinary)) {
  throw new Error(`POSTKASSE_BIN points at ${serverBinary}, which does not exist: run \`cargo leptos build\` first`);
}
if (!fs.existsSync(path.join(siteRoot, 'pkg', 'postkasse.js'))) {
  throw new Error(`POSTKASSE_SITE_ROOT (${siteRoot}) has no pkg/postkasse.js: run \`cargo leptos build\` first`);
}

const baseURL = APP_URL;

// One fresh directory per run for the SQLite database and the blobs. Playwright
// loads this file again in every worker; they inherit the variable and so reuse
// the directory the main process made instead of making their own.
const dataDir = (process.env.POSTKASSE_E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'postkasse-e2e-')));
if (process.env.TEST_WORKER_INDEX === undefined) {
  // The main process owns the directory; Playwright has stopped the server by the time it exits.
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
}

// The second Postkasse's database and blobs.
const independentDir = path.join(dataDir, 'independent');
fs.mkdirSync(independentDir, { recursive: true });

const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: './tests',
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  fullyParallel: true,
  reporter: 'list',
  timeout: 60_000,
  expect: { timeout: 5_000 },
  use: {
    ...devices['Desktop Chrome'],
    baseURL,
    locale: 'nb-NO',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: chromiumArgs,
    },
  },
  projects: [
    {
      name: 'ssr',
      use: { javaScriptEnabled: false },
      testIgnore: /.*hydrate.*\.spec\.ts/,
    },
    {
      name: 'hydrate',
      use: { javaScriptEnabled: true },
    },
  ],
  webServer: [
    {
      command: `${shellQuote(serverBinary)} demo`,
      // Whatever the server writes to relative paths (data/...) lands in the temporary directory too.
      cwd: dataDir,
      env: {
        POSTKASSE__APPLICATION__HOST: '127.0.0.1',
        POSTKASSE__APPLICATION__PORT: String(ports.app),
        ...appStorageEnv(dataDir),
        // Notices may go out at any hour, so a spec can see one arrive in the
        // sink whenever the suite runs (the default window is 09:00-17:00).
        POSTKASSE__NOTIFY__WINDOW_OPENS: '00:00',
        POSTKASSE__NOTIFY__WINDOW_CLOSES: '23:59',
        // Every spec checks paper letters from 127.0.0.1: room for all of them.
        POSTKASSE__LIMITS__PAPER_CHECK__BURST: '120',
        // Every spec logs in from 127.0.0.1 too.
        POSTKASSE__LIMITS__LOGIN__BURST: '5000',
        POSTKASSE__LIMITS__TESTID__BURST: '5000',
        LEPTOS_SITE_ROOT: siteRoot,
      },
      url: `${APP_URL}/readyz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      // The relying party against a provider that is not TestID. It fetches the
      // provider's discovery at the first login, so the start order does not matter.
      command: `${shellQuote(serverBinary)} demo`,
      cwd: independentDir,
      env: {
        POSTKASSE__APPLICATION__HOST: '127.0.0.1',
        POSTKASSE__APPLICATION__PORT: String(ports.independentApp),
        POSTKASSE__DATABASE__URL: `sqlite://${path.join(independentDir, 'e2e.db')}`,
        POSTKASSE__BLOBS__DIRECTORY: path.join(independentDir, 'blobs'),
        POSTKASSE__SEARCH__INDEX_DIRECTORY: path.join(independentDir, 'index'),
        POSTKASSE__TESTID__ENABLED: 'false',
        POSTKASSE__OIDC__ISSUER_URL: IDP_URL,
        POSTKASSE__OIDC__CLIENT_ID: IDP_CLIENT_ID,
        POSTKASSE__OIDC__CLIENT_SECRET: IDP_CLIENT_SECRET,
        LEPTOS_SITE_ROOT: siteRoot,
      },
      url: `${INDEPENDENT_APP_URL}/readyz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: 'node idp/server.mjs',
      env: {
        IDP_HOST: '127.0.0.1',
        IDP_PORT: String(ports.idp),
        IDP_CLIENT_ID,
        IDP_CLIENT_SECRET,
        IDP_CLIENT_BASE_URL: INDEPENDENT_APP_URL,
      },
      url: `${IDP_URL}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'pipe',
      stderr: 'pipe',
    },
  ],
});
