// A local OpenID Connect provider that looks like an Amazon Cognito user pool, for tests
// and `make run` only. It uses panva's oidc-provider (OpenID Certified) with its
// development login form: any login name and any password are accepted.
//
// Environment:
//   IDP_PORT            port on 127.0.0.1 (default 9000; 0 picks a free one)
//   IDP_CLIENTS         JSON list of {client_id, client_secret, redirect_uris}
//                       (default: the `make run` client below)
//   IDP_ACCOUNTS_FILE   JSON file {login: {claims...}}, read again on every sign-in so a
//                       test can change claims between requests (default: the demo
//                       accounts in demo-accounts.json). A login not in the file gets
//                       email=<login>, email_verified=true and no identities (a user of
//                       the pool itself).
//
// Like Cognito, the ID token carries the profile claims and `identities` as a list, while
// /oauth2/userInfo returns `identities` as a JSON string and `email_verified` as given.
// On start it prints one line "LISTENING <issuer>" so a supervisor knows it is ready.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

import Provider from 'oidc-provider';

const port = Number.parseInt(process.env.IDP_PORT ?? '9000', 10);
const accountsFile =
  process.env.IDP_ACCOUNTS_FILE ?? fileURLToPath(new URL('./demo-accounts.json', import.meta.url));

const webPort = process.env.WEB_PORT ?? '8000';
const defaultClients = [
  {
    client_id: 'portal-local',
    client_secret: 'portal-local-secret',
    redirect_uris: [
      `http://127.0.0.1:${webPort}/accounts/oidc/cognito/login/callback/`,
      `http://localhost:${webPort}/accounts/oidc/cognito/login/callback/`,
    ],
  },
];

function loadAccounts() {
  if (!accountsFile) return {};
  try {
    return JSON.parse(readFileSync(accountsFile, 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return {};
    throw err;
  }
}

function accountClaims(login) {
  const configured = loadAccounts()[login];
  const claims = configured ?? { email: login, email_verified: true };
  return { sub: claims.sub ?? `local-${login}`, 'cognito:username': login, ...claims };
}

const clients = (process.env.IDP_CLIENTS ? JSON.parse(process.env.IDP_CLIENTS) : defaultClients).map(
  (c) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    ...c,
  }),
);

function start(issuer) {
  const provider = new Provider(issuer, {
    clients,
    claims: {
      openid: ['sub', 'identities', 'cognito:username'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    // Cognito's ID token carries the scope claims, not only `sub`.
    conformIdTokenClaims: false,
    // Cognito lets the client name the federated IdP to use.
    extraParams: ['identity_provider', 'idp_identifier'],
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['local-idp-cookie-key-not-secret'] },
    routes: {
      authorization: '/oauth2/authorize',
      token: '/oauth2/token',
      userinfo: '/oauth2/userInfo',
      jwks: '/.well-known/jwks.json',
      end_session: '/logout',
      revocation: '/oauth2/revoke',
    },
    // First-party client: skip the consent screen, as Cognito's hosted UI does.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims(use) {
          const claims = accountClaims(id);
          if (use === 'userinfo' && Array.isArray(claims.identities)) {
            return { ...claims, identities: JSON.stringify(claims.identities) };
          }
          return claims;
        },
      };
    },
    ttl: { Session: 600, Interaction: 600, Grant: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
  });
  return provider;
}

// Bind first so port 0 works, then build the provider with the real issuer.
let handler = null;
const server = createServer((req, res) => handler(req, res));
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = start(issuer);
  handler = provider.callback();
  process.stdout.write(`LISTENING ${issuer}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
