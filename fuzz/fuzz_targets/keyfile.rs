//! Fuzzes the encrypted key-file parser (encrypted PKCS#8, cosign's scrypt + secretbox JSON and
//! Signet's two older formats):
//! parsing never panics, a parsed file's derivation cost is within the bounds, and files of
//! cheap cost are decrypted with a fixed password (any error is fine; no panic, and a
//! successful decryption (other than cosign's) yields a PrivateKeyInfo that re-encrypts and decrypts to itself).
#![no_main]
use aws_lc_rs::rand::SystemRandom;
use libfuzzer_sys::fuzz_target;
use signet_proto::keyfile::{
    decrypt_pem, encrypt_pem, EncryptedKeyFile, KeyFileFormat, ScryptCost,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = EncryptedKeyFile::parse(text) else {
        return;
    };
    if let Some((log_n, r, p)) = file.scrypt_cost() {
        assert!(u64::from(r) * (128u64 << log_n) <= 1 << 30);
        assert!(p <= 16);
        // Only cheap derivations: the fuzzer should not spend its time in scrypt.
        if log_n > 10 || r > 8 || p > 1 {
            return;
        }
    } else {
        // PBKDF2: iteration count is not exposed; keep to scrypt files.
        return;
    }
    if let Ok(der) = file.decrypt(b"pw") {
        // cosign's plaintext is only authenticated, not parsed (it may be SEC1, not PKCS#8).
        if file.format() == KeyFileFormat::Cosign {
            return;
        }
        let again = encrypt_pem(&der, b"pw", ScryptCost::TEST_ONLY, &SystemRandom::new())
            .expect("a decrypted PrivateKeyInfo re-encrypts");
        assert_eq!(decrypt_pem(&again, b"pw").expect("round trip").0, der);
    }
});
