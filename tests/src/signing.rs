//! A throw-away signing certificate made with the `openssl` command, and signature checks by
//! an independent tool (`xmlsec1`), for the product's signed electronic documents.

use std::path::Path;
use std::process::{Command, Output};

fn run(tool: &str, install: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(tool)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} runs ({install}; .ci/run installs it): {e}"))
}

/// In `dir`: `c.pem` (the certificate) and `c.p12` (it with its key, under `password`). A
/// 64-bit serial, as DIAN's examples have (the UBL schema's integers stop at 24 digits).
pub fn throwaway_certificate(dir: &Path, password: &str) -> Vec<u8> {
    let openssl = |args: &[&str]| {
        let out = run("openssl", "Debian: apt-get install openssl", dir, args);
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=Vereda Pruebas/O=Vereda S.A.S./C=CO",
        "-days",
        "2",
        "-set_serial",
        "0x5e3b7a0c71e2f468",
        "-keyout",
        "k.pem",
        "-out",
        "c.pem",
    ]);
    let pass = format!("pass:{password}");
    openssl(&[
        "pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-passout", &pass, "-out", "c.p12",
    ]);
    std::fs::read(dir.join("c.p12")).expect("c.p12 written")
}

/// `xmlsec1 --verify` of `xml` against the certificate in `dir` (all three references).
pub fn xmlsec1_verifies(dir: &Path, xml: &[u8]) -> Result<(), String> {
    std::fs::write(dir.join("signed.xml"), xml).unwrap();
    let out = run(
        "xmlsec1",
        "Debian: apt-get install xmlsec1",
        dir,
        &[
            "--verify",
            "--id-attr:Id",
            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
            "--id-attr:Id",
            "http://www.w3.org/2000/09/xmldsig#:KeyInfo",
            "--trusted-pem",
            "c.pem",
            "signed.xml",
        ],
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && said.contains("References (ok/all): 3/3") {
        Ok(())
    } else {
        Err(said)
    }
}
