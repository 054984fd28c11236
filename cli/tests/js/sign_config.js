// sigstore-js (@sigstore/sign, as the `sigstore` package installs it) signing through a
// signing config, as sigstore-js chooses its services from one: the CA, the transparency log
// (Rekor v1 or v2, the newest `validFor.start` first) and the TSA. Used by
// cli/tests/rekor_v2_write.rs.
//
// Usage: node sign_config.js SIGNING_CONFIG TOKEN_FILE ARTIFACT sign|attest OUT
//   sign    a message signature over ARTIFACT (hashedRekordRequestV002 to a v2 log)
//   attest  a DSSE envelope with ARTIFACT as its payload (sigstore-js sends dsseRequestV002
//           to a v2 log)
// Writes the bundle JSON to OUT; on failure prints the error and exits 1.
const fs = require('node:fs');
const { bundleBuilderFromSigningConfig } = require('@sigstore/sign');
const { SigningConfig } = require('@sigstore/protobuf-specs');
const { bundleToJSON } = require('@sigstore/bundle');

const [configPath, tokenFile, artifact, mode, out] = process.argv.slice(2);

(async () => {
  const signingConfig = SigningConfig.fromJSON(JSON.parse(fs.readFileSync(configPath, 'utf8')));
  const token = fs.readFileSync(tokenFile, 'utf8').trim();
  const builder = bundleBuilderFromSigningConfig({
    signingConfig,
    identityProvider: { getToken: async () => token },
    bundleType: mode === 'attest' ? 'dsseEnvelope' : 'messageSignature',
  });
  const data = fs.readFileSync(artifact);
  const bundle = await builder.create(
    mode === 'attest' ? { data, type: 'application/vnd.in-toto+json' } : { data },
  );
  fs.writeFileSync(out, JSON.stringify(bundleToJSON(bundle)));
})().catch((e) => {
  console.error(String(e.stack ?? e));
  if (e.cause) console.error('cause:', String(e.cause.stack ?? e.cause));
  process.exit(1);
});
