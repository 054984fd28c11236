#!/usr/bin/env python3
"""Re-checks the cosign fixtures in this folder with python3 + cryptography only.

Usage: python3 testdata/cosign/check_fixtures.py   (prints one line per check, exits 1 on a failure)
Written for Signet; no upstream code. Each fixture folder has a fixture.json saying what to check.
"""
import base64, hashlib, json, os, sys
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, padding

HERE = os.path.dirname(os.path.abspath(__file__))
FAILED = []
EXPECTED = {}  # fixture -> check-name prefixes that must fail (tamper fixtures)
SEEN_FAIL = {}

def report(fx, what, ok, detail=''):
    expected = any(what.startswith(e) for e in EXPECTED.get(fx, []))
    if expected:
        print(f"{'UNEXPECTED PASS' if ok else 'ok (fails as expected)'} {fx}: {what}{' - ' + detail if detail else ''}")
        if ok:
            FAILED.append((fx, what))
        else:
            SEEN_FAIL.setdefault(fx, set()).add(what)
        return
    print(f"{'ok  ' if ok else 'FAIL'} {fx}: {what}{' - ' + detail if detail else ''}")
    if not ok:
        FAILED.append((fx, what))

def verify_sig(pub, sig, data):
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            h = {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[pub.curve.key_size]
            pub.verify(sig, data, ec.ECDSA(h))
        elif isinstance(pub, ed25519.Ed25519PublicKey):
            pub.verify(sig, data)
        elif isinstance(pub, rsa.RSAPublicKey):
            pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False

def load_pub(pem):
    return serialization.load_pem_public_key(pem)

def certs_from_pem(text):
    return x509.load_pem_x509_certificates(text.encode() if isinstance(text, str) else text)

def cert_identity(c):
    san = []
    try:
        ext = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        san = [str(v.value) for v in ext]
    except x509.ExtensionNotFound:
        pass
    issuer = None
    for oid, der in (('1.3.6.1.4.1.57264.1.8', True), ('1.3.6.1.4.1.57264.1.1', False)):
        try:
            v = c.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid)).value.value
            issuer = v[2:].decode() if der else v.decode()
            break
        except x509.ExtensionNotFound:
            continue
    return san, issuer

def check_sct(fx, leaf, issuer, ct_root_path):
    import struct
    tr = json.load(open(ct_root_path))
    keys = {base64.b64decode(l['logId']['keyId']): serialization.load_der_public_key(base64.b64decode(l['publicKey']['rawBytes']))
            for l in tr.get('ctlogs', [])}
    scts = leaf.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
    tbs = leaf.tbs_precertificate_bytes
    ikh = hashlib.sha256(issuer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
    for sct in scts:
        ts = int(round(sct.timestamp.replace(tzinfo=__import__('datetime').timezone.utc).timestamp() * 1000))
        ext = sct.extension_bytes
        data = struct.pack('>BBQH', 0, 0, ts, 1) + ikh + len(tbs).to_bytes(3, 'big') + tbs + struct.pack('>H', len(ext)) + ext
        key = keys.get(sct.log_id)
        report(fx, 'SCT from CT log ' + base64.b64encode(sct.log_id).decode() + ' verifies',
               key is not None and verify_sig(key, sct.signature, data))

def check_chain(fx, leaf, chain, roots, at):
    """leaf signed by chain[0] ... last signed by a root; all valid at time `at` (unix)."""
    import datetime
    t = datetime.datetime.fromtimestamp(at, datetime.timezone.utc)
    path = [leaf] + chain
    ok = True
    for i, c in enumerate(path):
        if not (c.not_valid_before_utc <= t <= c.not_valid_after_utc):
            ok = False
            report(fx, f'cert {i} valid at {t.isoformat()}', False)
        nxt = path[i + 1] if i + 1 < len(path) else None
        if nxt is None:
            match = [r for r in roots if r.subject == c.issuer]
            good = []
            for r in match:
                try:
                    c.verify_directly_issued_by(r); good.append(r)
                except Exception:
                    pass
            if not good:
                report(fx, 'chain ends at a trusted root', False, str(c.issuer)); return False
            if any(c.fingerprint(hashes.SHA256()) == r.fingerprint(hashes.SHA256()) for r in good):
                break
            nxt = good[0]
        try:
            c.verify_directly_issued_by(nxt)
        except Exception as e:
            report(fx, f'cert {i} issued by {nxt.subject.rfc4514_string()}', False, str(e)); ok = False
    report(fx, f'certificate chain to a trusted root, valid at {at}', ok)
    return ok

def check_set(fx, bundle, rekor_keys):
    """Cosign's dev.sigstore.cosign/bundle: SET over canonical JSON of Payload."""
    p = bundle['Payload']
    canon = json.dumps({'body': p['body'], 'integratedTime': p['integratedTime'], 'logID': p['logID'],
                        'logIndex': p['logIndex']}, sort_keys=True, separators=(',', ':')).encode()
    key = rekor_keys.get(p['logID'])
    if key is None:
        report(fx, 'Rekor key for logID ' + p['logID'], False); return None
    report(fx, f"Rekor SET verifies (logIndex {p['logIndex']}, integratedTime {p['integratedTime']})",
           verify_sig(key, base64.b64decode(bundle['SignedEntryTimestamp']), canon))
    return json.loads(base64.b64decode(p['body']))

def rekor_keys_from(paths):
    keys = {}
    for path in paths:
        if path.endswith('.json'):
            tr = json.load(open(path))
            for l in tr.get('tlogs', []):
                k = serialization.load_der_public_key(base64.b64decode(l['publicKey']['rawBytes']))
                keys[base64.b64decode(l['logId']['keyId']).hex()] = k
        else:
            der = open(path, 'rb').read()
            k = load_pub(der)
            spki = k.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            keys[hashlib.sha256(spki).hexdigest()] = k
    return keys

def roots_from(paths):
    roots = []
    for path in paths:
        if path.endswith('.json'):
            tr = json.load(open(path))
            for ca in tr.get('certificateAuthorities', []):
                for c in ca['certChain']['certificates']:
                    roots.append(x509.load_der_x509_certificate(base64.b64decode(c['rawBytes'])))
        else:
            roots += x509.load_pem_x509_certificates(open(path, 'rb').read())
    return roots

def check_layer(fx, d, spec, layer):
    payload = open(os.path.join(d, layer['payload']), 'rb').read()
    ann = json.load(open(os.path.join(d, layer['annotations'])))
    if 'layer_digest' in layer:
        report(fx, 'layer digest = sha256(payload bytes)', 'sha256:' + hashlib.sha256(payload).hexdigest() == layer['layer_digest'])
    att = layer['media_type'] == 'application/vnd.dsse.envelope.v1+json'
    if att:
        env = json.loads(payload)
        body = base64.b64decode(env['payload'])
        pae = b'DSSEv1 %d %s %d %s' % (len(env['payloadType']), env['payloadType'].encode(), len(body), body)
        signed, sig = pae, base64.b64decode(env['signatures'][0]['sig'])
        stmt = json.loads(body)
        digests = ['sha256:' + s['digest']['sha256'] for s in stmt['subject']]
        report(fx, 'in-toto subject names the image digest', spec['image_digest'] in digests, ','.join(digests))
        if 'predicateType' in ann:
            report(fx, 'predicateType annotation = statement predicateType', ann['predicateType'] == stmt['predicateType'], stmt['predicateType'])
        report(fx, 'signature annotation is empty for an attestation', ann.get('dev.cosignproject.cosign/signature') == '')
    else:
        signed, sig = payload, base64.b64decode(ann['dev.cosignproject.cosign/signature'])
        crit = json.loads(payload)['critical']
        report(fx, 'payload critical.image.docker-manifest-digest = image digest',
               crit['image']['docker-manifest-digest'] == spec['image_digest'], crit['image']['docker-manifest-digest'])
        report(fx, 'payload critical.type', crit['type'] == 'cosign container image signature')
    cert = None
    if 'public_key' in spec:
        pub = load_pub(open(os.path.join(d, spec['public_key']), 'rb').read())
        if 'wrong_public_key' in spec:
            wrong = load_pub(open(os.path.join(d, spec['wrong_public_key']), 'rb').read())
            report(fx, 'signature does NOT verify with ' + spec['wrong_public_key'], not verify_sig(wrong, sig, signed))
    else:
        cert = certs_from_pem(ann['dev.sigstore.cosign/certificate'])[0]
        pub = cert.public_key()
        san, iss = cert_identity(cert)
        exp = spec.get('identity', {})
        report(fx, f'certificate identity {san} issuer {iss}', san == exp.get('san') and iss == exp.get('issuer'))
    report(fx, 'signature over ' + ('DSSE PAE' if att else 'payload bytes') + ' verifies with ' +
           ('the public key' if cert is None else 'the certificate key'), verify_sig(pub, sig, signed))
    if 'dev.sigstore.cosign/bundle' in ann:
        rk = rekor_keys_from([os.path.join(d, p) for p in spec['rekor_keys']])
        bundle = json.loads(ann['dev.sigstore.cosign/bundle'])
        body = check_set(fx, bundle, rk)
        if body is not None:
            check_body(fx, body, payload, signed, sig, cert, pub, env if att else None)
    if cert is not None:
        chain = certs_from_pem(ann['dev.sigstore.cosign/chain']) if ann.get('dev.sigstore.cosign/chain') else []
        roots = roots_from([os.path.join(d, p) for p in spec['ca_roots']])
        if 'dev.sigstore.cosign/bundle' in ann:
            at = json.loads(ann['dev.sigstore.cosign/bundle'])['Payload']['integratedTime']
        else:
            at = spec['verify_time']
        inter = [c for c in chain if c.issuer != c.subject]
        check_chain(fx, cert, inter, roots, at)
        if 'ct_keys' in spec:
            issuer = (inter + [r for r in roots if r.subject == cert.issuer])[0]
            check_sct(fx, cert, issuer, os.path.join(d, spec['ct_keys']))

def pub_matches(content_b64, cert, pub):
    pem = base64.b64decode(content_b64)
    if cert is not None and b'CERTIFICATE' in pem:
        return certs_from_pem(pem)[0] == cert
    other = load_pub(pem)
    f = serialization.PublicFormat.SubjectPublicKeyInfo
    return other.public_bytes(serialization.Encoding.DER, f) == pub.public_bytes(serialization.Encoding.DER, f)

def check_body(fx, body, payload, signed, sig, cert, pub, env):
    kind = body['kind']; spec = body['spec']
    if kind == 'hashedrekord':
        ok = (spec['data']['hash']['value'] == hashlib.sha256(payload).hexdigest()
              and base64.b64decode(spec['signature']['content']) == sig
              and pub_matches(spec['signature']['publicKey']['content'], cert, pub))
        report(fx, 'Rekor entry body (hashedrekord) names sha256(payload), the signature and the key', ok)
    elif kind == 'rekord':
        sp = spec['signature']
        ok = (spec['data']['hash']['value'] == hashlib.sha256(payload).hexdigest()
              and base64.b64decode(sp['content']) == sig and pub_matches(sp['publicKey']['content'], cert, pub))
        report(fx, 'Rekor entry body (rekord 0.0.1, ' + sp['format'] + ') names sha256(payload), the signature and the key', ok)
    elif kind == 'intoto':
        c = spec['content']
        ok = c['hash']['value'] == hashlib.sha256(payload).hexdigest() and \
             c['payloadHash']['value'] == hashlib.sha256(base64.b64decode(env['payload'])).hexdigest() and \
             pub_matches(spec['publicKey'], cert, pub)
        report(fx, 'Rekor entry body (intoto 0.0.1) names sha256(envelope), sha256(statement) and the key', ok)
    else:
        report(fx, 'Rekor entry kind ' + kind + ' understood', False)

def check_inclusion(e, pr):
    h = lambda b: hashlib.sha256(b).digest()
    node = h(b'\x00' + base64.b64decode(e['canonicalizedBody']))
    fn, sn = int(pr['logIndex']), int(pr['treeSize']) - 1
    for p in pr['hashes']:
        p = base64.b64decode(p)
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            node = h(b'\x01' + p + node)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1; sn >>= 1
        else:
            node = h(b'\x01' + node + p)
        fn >>= 1; sn >>= 1
    return sn == 0 and node == base64.b64decode(pr['rootHash'])

def check_bundle(fx, d, spec):
    raw = open(os.path.join(d, spec['bundle']), 'rb').read()
    if 'bundle_digest' in spec:
        report(fx, 'sha256(bundle bytes) = referrer layer digest', 'sha256:' + hashlib.sha256(raw).hexdigest() == spec['bundle_digest'])
    b = json.loads(raw)
    vm = b['verificationMaterial']
    if 'certificate' in vm:
        cert = x509.load_der_x509_certificate(base64.b64decode(vm['certificate']['rawBytes']))
        san, iss = cert_identity(cert)
        exp = spec.get('identity', {})
        report(fx, f'certificate identity {san} issuer {iss}', san == exp.get('san') and iss == exp.get('issuer'))
        signer = cert.public_key()
    else:
        cert = None
        signer = load_pub(open(os.path.join(d, spec['public_key']), 'rb').read())
        spki = signer.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        report(fx, 'publicKey hint = base64(sha256(SPKI of ' + spec['public_key'] + '))',
               vm['publicKey']['hint'] == base64.b64encode(hashlib.sha256(spki).digest()).decode())
    if 'referrer_manifest' in spec:
        rm_raw = open(os.path.join(d, spec['referrer_manifest']), 'rb').read()
        rm = json.loads(rm_raw)
        report(fx, 'sha256(referrer manifest) = served digest', 'sha256:' + hashlib.sha256(rm_raw).hexdigest() == spec['referrer_manifest_digest'])
        report(fx, 'referrer subject = image digest, artifactType = bundle v0.3, layer = bundle',
               rm['subject']['digest'] == spec['image_digest'] and rm['artifactType'] == 'application/vnd.dev.sigstore.bundle.v0.3+json'
               and rm['layers'][0]['digest'] == spec['bundle_digest'] and rm['layers'][0]['size'] == len(raw))
    tr = [os.path.join(d, p) for p in spec['trusted_root']]
    rk = rekor_keys_from(tr)
    for e in vm['tlogEntries']:
        canon = json.dumps({'body': e['canonicalizedBody'], 'integratedTime': int(e['integratedTime']),
                            'logID': base64.b64decode(e['logId']['keyId']).hex(), 'logIndex': int(e['logIndex'])},
                           sort_keys=True, separators=(',', ':')).encode()
        key = rk.get(base64.b64decode(e['logId']['keyId']).hex())
        report(fx, f"Rekor SET verifies (logIndex {e['logIndex']})",
               key is not None and verify_sig(key, base64.b64decode(e['inclusionPromise']['signedEntryTimestamp']), canon))
        pr = e.get('inclusionProof')
        if pr:
            report(fx, 'inclusion proof reaches rootHash (RFC 6962)', check_inclusion(e, pr))
        body = json.loads(base64.b64decode(e['canonicalizedBody']))
        if body['kind'] == 'dsse' and 'dsseEnvelope' in b:
            env = b['dsseEnvelope']
            sp = body['spec']
            ok = sp['payloadHash']['value'] == hashlib.sha256(base64.b64decode(env['payload'])).hexdigest() and \
                 base64.b64decode(sp['signatures'][0]['signature']) == base64.b64decode(env['signatures'][0]['sig']) and \
                 pub_matches(sp['signatures'][0]['verifier'], cert, signer)
            report(fx, 'Rekor entry body (dsse 0.0.1) names sha256(statement), the signature and the signer', ok)
        if cert is None:
            continue
        roots = roots_from(tr)
        # intermediates and roots from the trusted root; leaf issued by one of them
        inter = [r for r in roots if r.subject == cert.issuer]
        ok = False
        for i in inter:
            try:
                cert.verify_directly_issued_by(i); ok = True
            except Exception:
                pass
        import datetime
        t = datetime.datetime.fromtimestamp(int(e['integratedTime']), datetime.timezone.utc)
        report(fx, 'leaf issued by a CA certificate of the trusted root', ok)
        report(fx, f'leaf valid at integratedTime {t.isoformat()}', cert.not_valid_before_utc <= t <= cert.not_valid_after_utc)
        if ok and spec.get('check_sct', True):
            check_sct(fx, cert, [i for i in inter][0], tr[0])
    if 'dsseEnvelope' in b:
        env = b['dsseEnvelope']
        body = base64.b64decode(env['payload'])
        pae = b'DSSEv1 %d %s %d %s' % (len(env['payloadType']), env['payloadType'].encode(), len(body), body)
        report(fx, 'DSSE signature verifies with the ' + ('certificate key' if cert else 'public key'),
               verify_sig(signer, base64.b64decode(env['signatures'][0]['sig']), pae))
        if 'predicate_type' in spec:
            report(fx, 'statement predicateType', json.loads(body)['predicateType'] == spec['predicate_type'], spec['predicate_type'])
        stmt = json.loads(body)
        digests = ['sha256:' + s['digest']['sha256'] for s in stmt['subject']]
        report(fx, 'in-toto subject names the image digest', spec['image_digest'] in digests, ','.join(digests))

# --- cosign encrypted keys: scrypt + NaCl secretbox (XSalsa20-Poly1305), written for this check ---
import struct
from cryptography.hazmat.primitives import poly1305
def _rotl(v, c): return ((v << c) & 0xffffffff) | (v >> (32 - c))
def _qr(x, a, b, c, d):
    x[b] ^= _rotl((x[a] + x[d]) & 0xffffffff, 7)
    x[c] ^= _rotl((x[b] + x[a]) & 0xffffffff, 9)
    x[d] ^= _rotl((x[c] + x[b]) & 0xffffffff, 13)
    x[a] ^= _rotl((x[d] + x[c]) & 0xffffffff, 18)
def _rounds(x):
    for _ in range(10):
        _qr(x, 0, 4, 8, 12); _qr(x, 5, 9, 13, 1); _qr(x, 10, 14, 2, 6); _qr(x, 15, 3, 7, 11)
        _qr(x, 0, 1, 2, 3); _qr(x, 5, 6, 7, 4); _qr(x, 10, 11, 8, 9); _qr(x, 15, 12, 13, 14)
SIGMA = struct.unpack('<4I', b'expand 32-byte k')
def _state(key, inp16):
    k = struct.unpack('<8I', key); n = struct.unpack('<4I', inp16)
    return [SIGMA[0], k[0], k[1], k[2], k[3], SIGMA[1], n[0], n[1], n[2], n[3], SIGMA[2], k[4], k[5], k[6], k[7], SIGMA[3]]
def hsalsa20(key, n16):
    x = _state(key, n16); _rounds(x)
    return struct.pack('<8I', *[x[i] for i in (0, 5, 10, 15, 6, 7, 8, 9)])
def salsa20_stream(key, n8, length):
    out = b''; ctr = 0
    while len(out) < length:
        j = _state(key, n8 + struct.pack('<Q', ctr)); x = list(j); _rounds(x)
        out += struct.pack('<16I', *[(x[i] + j[i]) & 0xffffffff for i in range(16)]); ctr += 1
    return out[:length]
def secretbox_open(box, nonce, key):
    sub = hsalsa20(key, nonce[:16])
    stream = salsa20_stream(sub, nonce[16:], 32 + len(box) - 16)
    tag, c = box[:16], box[16:]
    poly1305.Poly1305.verify_tag(stream[:32], c, tag)
    return bytes(a ^ b for a, b in zip(c, stream[32:]))

def decrypt_key(pem_text, password):
    body = ''.join(l for l in pem_text.strip().splitlines() if not l.startswith('-----'))
    j = json.loads(base64.b64decode(body))
    kdf = j['kdf']; p = kdf['params']
    assert kdf['name'] == 'scrypt' and j['cipher']['name'] == 'nacl/secretbox'
    key = hashlib.scrypt(password, salt=base64.b64decode(kdf['salt']), n=p['N'], r=p['r'], p=p['p'], maxmem=1 << 30, dklen=32)
    der = secretbox_open(base64.b64decode(j['ciphertext']), base64.b64decode(j['cipher']['nonce']), key)
    return j, der


def check_keys(d):
    from cryptography.hazmat.primitives.asymmetric import ed25519 as ed
    fx = 'keys'
    for e in json.load(open(os.path.join(d, 'keys.json'))):
        pem = open(os.path.join(d, e['file'])).read()
        if e['password'] is None:
            try:
                decrypt_key(pem, b'')
                report(fx, e['file'] + ': empty password is refused', False)
            except Exception:
                report(fx, e['file'] + ': empty password is refused (secretbox MAC)', True)
            continue
        _, der = decrypt_key(pem, e['password'].encode())
        try:
            pk = serialization.load_der_private_key(der, None).public_key()
        except ValueError:
            pk = ed.Ed25519PrivateKey.from_private_bytes(der[16:48]).public_key()
        want = open(os.path.join(d, e['public_key']), 'rb').read()
        got = pk.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        report(fx, f"{e['file']}: password {e['password']!r} decrypts; public key = {e['public_key']}", got == want)
        try:
            decrypt_key(pem, b'wrong-password')
            report(fx, e['file'] + ': a wrong password is refused', False)
        except Exception:
            report(fx, e['file'] + ': a wrong password is refused', True)

def main():
    for name in sorted(os.listdir(HERE)):
        d = os.path.join(HERE, name)
        f = os.path.join(d, 'fixture.json')
        if not os.path.isfile(f):
            continue
        spec = json.load(open(f))
        EXPECTED[name] = spec.get('expect_failures', [])
        if 'image_manifest' in spec:
            m = open(os.path.join(d, spec['image_manifest']), 'rb').read()
            report(name, 'sha256(image manifest) = image digest', 'sha256:' + hashlib.sha256(m).hexdigest() == spec['image_digest'])
        if 'image_config' in spec:
            m = json.loads(open(os.path.join(d, spec['image_manifest']), 'rb').read())
            blobs = [spec['image_config']] + spec.get('image_layers', [])
            descs = [m['config']] + m['layers']
            ok = len(blobs) == len(descs) and all('sha256:' + hashlib.sha256(open(os.path.join(d, f), 'rb').read()).hexdigest() == x['digest'] for f, x in zip(blobs, descs))
            report(name, 'image config/layer blobs match the image manifest (pushable as is)', ok)
        for kind in ('sig', 'att'):
            if kind + '_manifest_digest' in spec:
                raw = open(os.path.join(d, spec[kind + '_manifest']), 'rb').read()
                m = json.loads(raw)
                cfg = open(os.path.join(d, spec[kind + '_config']), 'rb').read()
                pl = open(os.path.join(d, spec['layers'][0]['payload']), 'rb').read()
                ann = json.load(open(os.path.join(d, spec['layers'][0]['annotations'])))
                ok = ('sha256:' + hashlib.sha256(raw).hexdigest() == spec[kind + '_manifest_digest']
                      and m['config']['digest'] == 'sha256:' + hashlib.sha256(cfg).hexdigest()
                      and m['layers'][0]['digest'] == 'sha256:' + hashlib.sha256(pl).hexdigest()
                      and m['layers'][0]['annotations'] == ann)
                report(name, f'.{kind} manifest bytes = served digest; its config, layer and annotations are the files here', ok)
        if spec['format'] == 'sigstore-bundle':
            check_bundle(name, d, spec)
        for layer in spec.get('layers', []):
            check_layer(name, d, spec, layer)
    if os.path.isfile(os.path.join(HERE, 'keys', 'keys.json')):
        check_keys(os.path.join(HERE, 'keys'))
    for fx, exp in EXPECTED.items():
        for e in exp:
            if not any(w.startswith(e) for w in SEEN_FAIL.get(fx, ())):
                print(f'FAIL {fx}: expected failure not seen: {e}'); FAILED.append((fx, e))
    print('FAILED: %d' % len(FAILED) if FAILED else 'all checks passed')
    sys.exit(1 if FAILED else 0)

if __name__ == '__main__':
    main()
