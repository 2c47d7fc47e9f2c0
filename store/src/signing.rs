//! Signing electronic documents with the configured certificate (XAdES-EPES, as DIAN's annex
//! asks; `vereda_documents::xades`). Without one, documents are produced unsigned and marked
//! so. With one, a document is never stored unsigned: a certificate that has expired stops
//! production (the sweep logs why and tries again once it is renewed).

use vereda_contracts::time;
use vereda_documents::xades::{self, SignerRole};

use crate::config::Settings;

/// `xml` signed now, and whether it was: unsigned when no certificate is configured.
pub fn sign(settings: &Settings, xml: String) -> anyhow::Result<(String, bool)> {
    let Some(certificate) = &settings.einvoice.certificate else {
        return Ok((xml, false));
    };
    let now = time::now();
    if certificate.not_after() < now {
        anyhow::bail!(
            "the signing certificate {} expired on {}: record a new one \
             (VEREDA_EINVOICE_CERTIFICATE) before more documents can be issued",
            certificate.subject(),
            certificate.not_after()
        );
    }
    // Vereda issues every document it signs (it is the documento soporte's issuer too).
    let signed = xades::sign(&xml, certificate, SignerRole::Supplier, now)?;
    Ok((signed, true))
}
