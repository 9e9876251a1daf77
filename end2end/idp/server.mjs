// An OpenID provider that is not Postkasse's own: panva's `oidc-provider`
// (certified by the OpenID Foundation), configured the way ID-porten behaves
// towards a client like Postkasse. The end-to-end suite runs a second Postkasse
// against it (TestID disabled) to prove the relying party follows the standard,
// not TestID's particular habits.
//
//   IDP_PORT=3102 IDP_CLIENT_BASE_URL=http://127.0.0.1:3101 \
//   IDP_CLIENT_SECRET=… node idp/server.mjs
//
// Like ID-porten, it
//   - registers one confidential client authenticating with client_secret_basic;
//   - requires PKCE with S256 (the only method oidc-provider implements);
//   - offers acr values idporten-loa-substantial and idporten-loa-high, puts the
//     level the citizen logged in at in `acr`, and asks again when a client
//     requests a higher level than the session has (step-up);
//   - signs ID tokens with RS256 only;
//   - gives the national id in a `pid` claim and a pairwise `sub`;
//   - includes `sid` in ID tokens;
//   - sends `iss` with the authorization response (RFC 9207), which its
//     discovery announces with authorization_response_iss_parameter_supported;
//   - ends its session at its end_session_endpoint (RP-initiated logout).
// It has no front-channel logout: oidc-provider no longer implements that draft.
//
// The login page is this script's own, minimal and in Norwegian: a national id
// field and the level, no password (oidc-provider's development login form
// cannot set `acr`). It needs no JavaScript.

import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider, { interactionPolicy } from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`idp/server.mjs: ${name} must be set`);
    process.exit(2);
  }
  return value;
}

const port = Number(process.env.IDP_PORT ?? '3102');
const host = process.env.IDP_HOST ?? '127.0.0.1';
const issuer = (process.env.IDP_ISSUER ?? `http://${host}:${port}`).replace(/\/$/, '');
const clientBaseUrl = required('IDP_CLIENT_BASE_URL').replace(/\/$/, '');
const clientId = process.env.IDP_CLIENT_ID ?? 'postkasse-e2e';
const clientSecret = required('IDP_CLIENT_SECRET');

const ACR_SUBSTANTIAL = 'idporten-loa-substantial';
const ACR_HIGH = 'idporten-loa-high';
const ACR_RANK = { [ACR_SUBSTANTIAL]: 1, [ACR_HIGH]: 2 };

/** The lowest level the client accepts: the lowest of its acr_values, ID-porten's reading. */
function requestedAcr(acrValues) {
  const known = (acrValues ?? '').split(' ').filter((value) => value in ACR_RANK);
  if (known.length === 0) return ACR_SUBSTANTIAL;
  return known.reduce((lowest, value) => (ACR_RANK[value] < ACR_RANK[lowest] ? value : lowest));
}

const pairwiseSalt = randomBytes(16).toString('hex');

// A fresh RSA key per run: the relying party must take keys from jwks_uri.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `e2e-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' };

// Step-up: a session at a lower level than the client now asks for must log in again.
const { Check, base } = interactionPolicy;
const policy = base();
policy.get('login').checks.add(
  new Check('acr_too_low', 'the session is at a lower level than requested', (ctx) => {
    const { oidc } = ctx;
    if (!oidc.session.accountId) return Check.NO_NEED_TO_PROMPT; // no_session asks already
    // Just logged in: the level chosen stands, even a lower one. Like TestID, the
    // provider lets a tester do that, so that the client's own acr check is tested.
    if (oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
    const wanted = requestedAcr(oidc.params.acr_values);
    return (ACR_RANK[oidc.acr] ?? 0) >= ACR_RANK[wanted] ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
  }),
);

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** A page in Norwegian bokmål, with no script and no resource from elsewhere. */
function page(title, body) {
  return `<!DOCTYPE html>
<html lang="nb">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – Uavhengig testleverandør</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 36rem; padding: 0 1rem; color: #1a1a1a; background: #fff; line-height: 1.5; }
label, legend { font-weight: 600; display: block; }
input[type=text] { font-size: 1rem; padding: .4rem; width: 14rem; }
fieldset { border: 1px solid #666; margin: 1rem 0; }
.field-error { color: #a00; font-weight: 600; }
button { font-size: 1rem; padding: .5rem 1rem; margin-right: .5rem; }
</style>
</head>
<body>
<header><p>Uavhengig testleverandør (oidc-provider)</p></header>
<main>
${body}
</main>
</body>
</html>`;
}

function loginForm(uid, { pid = '', error, acr }) {
  const checked = (value) => (value === acr ? ' checked' : '');
  const invalid = error ? ' aria-invalid="true"' : '';
  const describedBy = error ? ' aria-describedby="pid-feil"' : '';
  return page(
    'Logg inn',
    `<h1>Logg inn hos uavhengig testleverandør</h1>
<p>Dette er ikke TestID, men en annen OpenID-leverandør. Skriv inn et syntetisk fødselsnummer og velg sikkerhetsnivå.</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<p>
<label for="pid">Fødselsnummer (11 siffer)</label>
<input id="pid" name="pid" type="text" inputmode="numeric" autocomplete="off" required value="${escapeHtml(pid)}"${describedBy}${invalid}>
${error ? `<span class="field-error" id="pid-feil">${escapeHtml(error)}</span>` : ''}
</p>
<fieldset>
<legend>Sikkerhetsnivå</legend>
<input type="radio" id="substantial" name="acr" value="${ACR_SUBSTANTIAL}"${checked(ACR_SUBSTANTIAL)}><label for="substantial" style="display:inline">Betydelig</label><br>
<input type="radio" id="high" name="acr" value="${ACR_HIGH}"${checked(ACR_HIGH)}><label for="high" style="display:inline">Høyt</label>
</fieldset>
<button type="submit">Logg inn</button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort"><button type="submit">Avbryt</button></form>`,
  );
}

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [`${clientBaseUrl}/auth/callback`],
      post_logout_redirect_uris: [`${clientBaseUrl}/`],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      id_token_signed_response_alg: 'RS256',
      subject_type: 'pairwise',
    },
  ],
  clientAuthMethods: ['client_secret_basic'],
  responseTypes: ['code'],
  pkce: { required: () => true },
  acrValues: [ACR_SUBSTANTIAL, ACR_HIGH],
  scopes: ['openid'],
  // `pid` comes with the openid scope, and goes into the ID token even though
  // an access token is issued too (conformIdTokenClaims would keep it for userinfo).
  claims: { openid: ['sub', 'pid'] },
  conformIdTokenClaims: false,
  subjectTypes: ['pairwise'],
  // ID-porten's `sub` differs per client so that clients cannot join on it.
  pairwiseIdentifier: async (_ctx, accountId, client) =>
    createHash('sha256').update(`${pairwiseSalt}:${client.sectorIdentifier}:${accountId}`).digest('base64url'),
  findAccount: async (_ctx, accountId) => ({
    accountId,
    claims: async () => ({ sub: accountId, pid: accountId }),
  }),
  jwks: { keys: [signingKey] },
  enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  ttl: { IdToken: 120, AccessToken: 120, AuthorizationCode: 60, Interaction: 600, Session: 7200, Grant: 7200 },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page(
          'Logg ut',
          `<h1>Vil du logge ut?</h1>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Ja, logg meg ut</button><button type="submit" form="op.logoutForm">Nei, forbli innlogget</button>`,
        );
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Logget ut', '<h1>Du er logget ut</h1><p>Du er logget ut hos testleverandøren.</p>');
      },
    },
  },
  interactions: {
    policy,
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  // First-party client: no consent screen, as ID-porten asks none of Postkasse's users.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid');
    grant.addOIDCClaims(['pid']);
    await grant.save();
    return grant;
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page(
      'Feil',
      `<h1>Innloggingen kan ikke fortsette</h1><dl>${Object.entries(out)
        .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd>`)
        .join('')}</dl>`,
    );
  },
};

const provider = new Provider(issuer, configuration);

// ID-porten always tells its clients the session (`sid`); oidc-provider does so
// only for back-channel logout clients or when the claims parameter asks for it.
provider.Client.prototype.includeSid = () => true;

// What each ID token said, for whoever reads the suite's output.
provider.on('grant.success', (ctx) => {
  const idToken = ctx.body?.id_token;
  if (idToken) console.log('idp issued an id token:', Buffer.from(idToken.split('.')[1], 'base64url').toString());
});
provider.on('server_error', (_ctx, error) => console.error('idp server_error', error));
provider.on('grant.error', (_ctx, error) => console.error('idp grant.error', error.message, error.error_description ?? ''));
provider.on('authorization.error', (_ctx, error) =>
  console.error('idp authorization.error', error.message, error.error_description ?? ''),
);

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // form-action also governs the redirects after a submission: the login form's
    // ends at the client's callback.
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${new URL(clientBaseUrl).origin}; frame-ancestors 'none'`,
  });
  res.end(html);
}

/** The login interaction: GET shows the form, POST …/login finishes it, POST …/abort refuses. */
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Feil', '<h1>Ukjent innlogging</h1>'));
  const acr = requestedAcr(details.params.acr_values);
  if (req.method === 'GET' && !action) {
    return send(res, 200, loginForm(uid, { acr }));
  }
  if (req.method !== 'POST') return send(res, 405, page('Feil', '<h1>Metoden er ikke tillatt</h1>'));
  if (action === 'abort') {
    return provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the citizen cancelled the login' },
      { mergeWithLastSubmission: false },
    );
  }
  const form = await readForm(req);
  const pid = (form.get('pid') ?? '').trim();
  const chosen = form.get('acr') in ACR_RANK ? form.get('acr') : acr;
  if (!/^\d{11}$/.test(pid)) {
    // Only the form's shape: whether it is a valid national id is for the client to judge.
    return send(res, 422, loginForm(uid, { pid, acr: chosen, error: 'Fødselsnummeret må være 11 siffer.' }));
  }
  return provider.interactionFinished(
    req,
    res,
    { login: { accountId: pid, acr: chosen, amr: ['e2e'], remember: true } },
    { mergeWithLastSubmission: false },
  );
}

const handle = provider.callback();
const server = http.createServer(async (req, res) => {
  const { pathname } = new URL(req.url ?? '/', issuer);
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(pathname);
  if (!match) return handle(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (error) {
    console.error('idp interaction failed', error);
    if (!res.headersSent) send(res, 400, page('Feil', `<h1>Innloggingen kan ikke fortsette</h1><p>${escapeHtml(error.message)}</p>`));
  }
});

server.listen(port, host, () => {
  console.log(`independent OpenID provider (oidc-provider) at ${issuer}, client ${clientId} -> ${clientBaseUrl}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
