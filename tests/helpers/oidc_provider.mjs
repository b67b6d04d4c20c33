// A real OpenID provider for the sign-in tests: the certified `oidc-provider` package (npm),
// on 127.0.0.1, with its development login form (any password) and three people whose claims
// carry a role group and skills. Usage: node oidc_provider.mjs PORT CLIENT_ID SECRET REDIRECT_URI
// Prints "ready" once it listens.
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);

// What the company's directory says about each person (groups map to otodesk roles).
const PEOPLE = {
  olivia: { name: 'Olivia Sso', email: 'olivia@example.com', groups: ['otodesk-agents'], otodesk_skills: ['sales'] },
  sven: { name: 'Sven Sso', email: 'sven@example.com', groups: ['otodesk-supervisors'], otodesk_skills: [] },
  nobody: { name: 'No Access', email: 'nobody@example.com', groups: ['finance'], otodesk_skills: [] },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'groups', 'otodesk_skills'],
    email: ['email', 'email_verified'],
  },
  // The claims go into the ID token itself, not only the userinfo endpoint.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['otodesk-test-only-cookie-key'] },
  async findAccount(ctx, sub) {
    const person = PEOPLE[sub];
    if (!person) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, preferred_username: sub, email_verified: true, ...person };
      },
    };
  },
  // Consent is implied for our one first-party client.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email');
    grant.addOIDCClaims(['name', 'preferred_username', 'groups', 'otodesk_skills', 'email', 'email_verified']);
    await grant.save();
    return grant;
  },
});

provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
