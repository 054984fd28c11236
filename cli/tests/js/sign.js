// sigstore-js (npm `sigstore`, which drives @sigstore/sign) signing against a Fulcio v2 CA and a
// Rekor v1 log given by URL; used by cli/tests/peer_signers.rs.
//
// Usage: node sign.js FULCIO_URL REKOR_URL TOKEN_FILE ARTIFACT sign|attest OUT [legacy]
//   sign    a message signature over ARTIFACT (hashedrekord entry; sigstore-js 4 writes it as
//           a bundle v0.2 with the whole chain)
//   attest  a DSSE envelope with ARTIFACT as the in-toto statement (dsse entry, bundle v0.3)
//   legacy  sigstore-js's `legacyCompatibility`: for attest, an `intoto` 0.0.2 entry instead
//           of `dsse` 0.0.1, and a bundle v0.2 with the whole chain
// Writes the bundle JSON to OUT; on failure prints the error and exits 1.
const fs = require('node:fs');
const sigstore = require('sigstore');

const [fulcioURL, rekorURL, tokenFile, artifact, mode, out, legacy] = process.argv.slice(2);
const options = {
  fulcioURL,
  rekorURL,
  identityToken: fs.readFileSync(tokenFile, 'utf8').trim(),
  tlogUpload: true,
  legacyCompatibility: legacy === 'legacy',
};

(async () => {
  const data = fs.readFileSync(artifact);
  const bundle = mode === 'attest'
    ? await sigstore.attest(data, 'application/vnd.in-toto+json', options)
    : await sigstore.sign(data, options);
  fs.writeFileSync(out, JSON.stringify(bundle));
})().catch((e) => {
  console.error(String(e.stack ?? e));
  if (e.cause) console.error('cause:', String(e.cause));
  process.exit(1);
});
