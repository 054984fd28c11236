// Mock OIDC provider for signet-ca tests (oauth2-mock-server, pinned in package-lock.json).
//
// Usage: node oidc.mjs PORT [ALG]        (ALG: ES256 | RS256 | EdDSA; default ES256)
// Prints "READY <issuer url> <kid>" once listening.
//
// POST /token with grant_type=client_credentials and any of these form fields copies them into
// the JWT payload: sub, email, email_verified ("true"/"false"), aud, and claims=<JSON object>
// (merged last, so it can override iss/exp/nbf/iat). A "header_kid" field overrides the kid in
// the JWT header (the token is still signed by a real key: used for unknown-kid tests).
//
// Commands on stdin, one per line:
//   rotate ALG   add a new signing key (the keystore then signs round-robin); prints "ROTATED <kid>"
import { OAuth2Server } from 'oauth2-mock-server';
import readline from 'node:readline';

const port = Number(process.argv[2] ?? 0);
const alg = process.argv[3] ?? 'ES256';
const server = new OAuth2Server();
const first = await server.issuer.keys.generate(alg);
server.issuer.url = `http://127.0.0.1:${port}`;
server.service.on('beforeTokenSigning', (token, req) => {
  const b = req.body ?? {};
  for (const k of ['sub', 'email', 'aud']) if (b[k] !== undefined) token.payload[k] = b[k];
  if (b.email_verified !== undefined) token.payload.email_verified = String(b.email_verified) === 'true';
  if (b.claims) Object.assign(token.payload, JSON.parse(b.claims));
  if (b.header_kid) token.header.kid = b.header_kid;
});
await server.start(port, '127.0.0.1');
console.log(`READY ${server.issuer.url} ${first.kid}`);

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === 'rotate') {
    const jwk = await server.issuer.keys.generate(arg ?? alg);
    console.log(`ROTATED ${jwk.kid}`);
  }
});
rl.on('close', async () => { await server.stop(); process.exit(0); });
process.on('SIGTERM', async () => { await server.stop(); process.exit(0); });
