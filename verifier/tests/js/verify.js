// sigstore-js (@sigstore/verify 3.x) runner for signet-verifier's interop tests.
// usage: node verify.js BUNDLE TRUSTED_ROOT ARTIFACT IDENTITY ISSUER
// Prints "OK ..." and exits 0 when sigstore-js accepts the bundle; prints "FAIL ..." and exits 1 otherwise.
'use strict';
const fs = require('fs');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const [bundlePath, rootPath, artifactPath, identity, issuer] = process.argv.slice(2);
if (!issuer) {
  console.error('usage: node verify.js BUNDLE TRUSTED_ROOT ARTIFACT IDENTITY ISSUER');
  process.exit(2);
}
// sigstore-js matches subjectAlternativeName as a regular expression: anchor and escape it.
const exact = (s) => '^' + s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$';
try {
  const trustedRoot = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath, 'utf8')));
  const verifier = new Verifier(toTrustMaterial(trustedRoot), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 0 });
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const artifact = bundle.content.$case === 'dsseEnvelope' ? undefined : fs.readFileSync(artifactPath);
  const signer = verifier.verify(toSignedEntity(bundle, artifact), {
    subjectAlternativeName: exact(identity),
    extensions: { issuer },
  });
  console.log('OK', signer.identity.subjectAlternativeName);
} catch (e) {
  console.log('FAIL', e.code || '', e.message, e.cause ? '| cause: ' + e.cause.message : '');
  process.exit(1);
}
