//! XAdES-EPES signatures for the electronic documents [`crate::ubl`] writes, as DIAN's technical
//! annex 1.9 (factura electrónica de venta, Resolución 000165 de 2023, chapter on the digital
//! signature) asks for them:
//!
//! - an enveloped XMLDSig `ds:Signature` in a second `ext:UBLExtension/ext:ExtensionContent`;
//! - inclusive C14N 1.0, RSA-SHA256, SHA-256 digests;
//! - three references, as in the annex's example: the whole document (`URI=""`, enveloped
//!   transform), the `ds:KeyInfo` (the signing certificate) and the XAdES `SignedProperties`;
//! - `SignedProperties` with the signing time (Bogotá, -05:00), the certificate's SHA-256 digest
//!   with its issuer (RFC 4514) and serial number (decimal), DIAN's signature policy v2 with its
//!   published SHA-256 hash, and the signer's claimed role (`supplier` or `third party`).
//!
//! The policy's identifier, description and hash are those of the annex's example and of the
//! signed documents that circulate through DIAN's platform (an `AttachedDocument` returned by
//! it carries the same three); the hash, of `politicadefirmav2.pdf`, was not recomputed here.
//! Pure Rust: the PKCS#12 file is read with `p12-keystore`, the RSA signature made with `rsa`,
//! and the canonical XML written here over a `roxmltree` parse.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use roxmltree::{Document, Node, NodeId, NodeType};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::sha2::{Digest, Sha256};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::{PrivateKey, PublicKey, pkcs1v15};
use vereda_contracts::time::BOGOTA;
use x509_cert::Certificate;
use x509_cert::der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use x509_cert::der::{Decode, Encode, Tag, Tagged};
use x509_cert::name::Name;

use crate::ubl::escape;

const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const XADES: &str = "http://uri.etsi.org/01903/v1.3.2#";
const EXT: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2";
const XML: &str = "http://www.w3.org/XML/1998/namespace";
const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SIGNED_PROPERTIES: &str = "http://uri.etsi.org/01903#SignedProperties";
const POLICY: &str =
    "https://facturaelectronica.dian.gov.co/politicadefirma/v2/politicadefirmav2.pdf";
const POLICY_DESCRIPTION: &str =
    "Política de firma para facturas electrónicas de la República de Colombia";
/// SHA-256 of `politicadefirmav2.pdf`, base64, as DIAN publishes it in its examples.
const POLICY_HASH: &str = "dMoMvtcG5aIzgYo0tIsSQeVJBDnUnfSOfBpxXrmor0Y=";

/// Why a certificate could not be loaded or a document signed (in Spanish: it reaches admins).
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("la contraseña del certificado de firma (PKCS#12) no es correcta")]
    WrongPassword,
    #[error("el archivo del certificado no es un PKCS#12 que se pueda leer: {0}")]
    Pkcs12(String),
    #[error("el archivo PKCS#12 no trae una clave privada con su certificado")]
    NoPrivateKey,
    #[error("la clave privada no es RSA: la DIAN exige firmas RSA-SHA256")]
    NotRsa,
    #[error("la clave privada no corresponde al certificado del archivo")]
    KeyMismatch,
    #[error("el certificado de firma no se puede leer: {0}")]
    Certificate(String),
    #[error("el documento no es XML válido: {0}")]
    Xml(String),
    #[error("el documento no tiene ext:UBLExtensions donde poner la firma")]
    NoExtensions,
    #[error("el documento ya está firmado")]
    AlreadySigned,
    #[error("no se pudo firmar con la clave RSA: {0}")]
    Rsa(String),
}

/// Who signs, as the annex's `ClaimedRole`: the issuer of an invoice or a note is the supplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerRole {
    Supplier,
    ThirdParty,
}

impl SignerRole {
    fn claimed_role(self) -> &'static str {
        match self {
            SignerRole::Supplier => "supplier",
            SignerRole::ThirdParty => "third party",
        }
    }
}

/// A signing certificate with its private key, from the PKCS#12 file a certification authority
/// (ONAC-accredited) issues.
#[derive(Clone)]
pub struct SigningCertificate {
    key: PrivateKey,
    /// The signer's certificate, DER.
    cert: Vec<u8>,
    /// The CA certificates the file brought, DER, issuer after issuer.
    chain: Vec<Vec<u8>>,
    subject: String,
    issuer: String,
    serial: String,
    not_after: DateTime<Utc>,
}

impl std::fmt::Debug for SigningCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("SigningCertificate")
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .field("serial", &self.serial)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl SigningCertificate {
    /// From a PKCS#12 file's bytes and its password (OpenSSL 3's AES-256/PBKDF2 files and the
    /// legacy 3DES/RC2 ones alike).
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<Self, SignError> {
        use p12_keystore::error::Error as P12;
        let store = KeyStore::from_pkcs12(der, password, Pkcs12ImportPolicy::Strict).map_err(
            |e| match e {
                // A wrong password fails the MAC or, in a file without one, the padding.
                P12::MacError(_) | P12::UnpadError => SignError::WrongPassword,
                e => SignError::Pkcs12(e.to_string()),
            },
        )?;
        let (_, chain) = store.private_key_chain().ok_or(SignError::NoPrivateKey)?;
        let (leaf, cas) = chain.certs().split_first().ok_or(SignError::NoPrivateKey)?;
        let key =
            PrivateKey::from_pkcs8_der(chain.key().as_der()).map_err(|_| SignError::NotRsa)?;
        let cert = Certificate::from_der(leaf.as_der())
            .map_err(|e| SignError::Certificate(e.to_string()))?;
        let tbs = cert.tbs_certificate();
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(|e| SignError::Certificate(e.to_string()))?;
        let public = PublicKey::from_public_key_der(&spki).map_err(|_| SignError::KeyMismatch)?;
        if public != key.to_public_key() {
            return Err(SignError::KeyMismatch);
        }
        let not_after = i64::try_from(tbs.validity().not_after.to_unix_duration().as_secs())
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .ok_or_else(|| SignError::Certificate("fecha de vencimiento inválida".into()))?;
        Ok(SigningCertificate {
            key,
            cert: leaf.as_der().to_vec(),
            chain: cas.iter().map(|c| c.as_der().to_vec()).collect(),
            subject: rfc4514(tbs.subject()),
            issuer: rfc4514(tbs.issuer()),
            serial: decimal(tbs.serial_number().as_bytes()),
            not_after,
        })
    }

    /// The holder, RFC 4514 (`C=CO,O=…,CN=…`).
    pub fn subject(&self) -> String {
        self.subject.clone()
    }

    /// The issuing authority, RFC 4514.
    pub fn issuer(&self) -> String {
        self.issuer.clone()
    }

    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    /// The CA certificates that came in the file (DER), if any.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }
}

/// A distinguished name as RFC 4514 writes it: last RDN first, the RFC's own short names
/// (CN, O, C…) with their string values, any other attribute as `OID=#hex` of its DER, as
/// Java and DIAN's examples do (an e-mail address reads `1.2.840.113549.1.9.1=#16…`).
fn rfc4514(name: &Name) -> String {
    const SHORT: [(&str, &str); 9] = [
        ("2.5.4.3", "CN"),
        ("2.5.4.7", "L"),
        ("2.5.4.8", "ST"),
        ("2.5.4.10", "O"),
        ("2.5.4.11", "OU"),
        ("2.5.4.6", "C"),
        ("2.5.4.9", "STREET"),
        ("0.9.2342.19200300.100.1.25", "DC"),
        ("0.9.2342.19200300.100.1.1", "UID"),
    ];
    let rdns: Vec<_> = name.iter_rdn().collect();
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = atv.oid.to_string();
            let v = &atv.value;
            let text = match v.tag() {
                Tag::Utf8String => Utf8StringRef::try_from(v).ok().map(|s| s.as_str()),
                Tag::PrintableString => PrintableStringRef::try_from(v).ok().map(|s| s.as_str()),
                Tag::Ia5String => Ia5StringRef::try_from(v).ok().map(|s| s.as_str()),
                Tag::TeletexString => TeletexStringRef::try_from(v).ok().map(|s| s.as_str()),
                _ => None,
            };
            match (SHORT.iter().find(|(o, _)| *o == oid), text) {
                (Some((_, short)), Some(text)) => {
                    let _ = write!(out, "{short}=");
                    let last = text.chars().count().saturating_sub(1);
                    for (k, c) in text.chars().enumerate() {
                        match c {
                            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => out.push('\\'),
                            '#' | ' ' if k == 0 => out.push('\\'),
                            ' ' if k == last => out.push('\\'),
                            _ => {}
                        }
                        if c == '\0' {
                            out.push_str("\\00");
                        } else {
                            out.push(c);
                        }
                    }
                }
                _ => {
                    let _ = write!(out, "{oid}=#");
                    for b in v.to_der().unwrap_or_default() {
                        let _ = write!(out, "{b:02x}");
                    }
                }
            }
        }
    }
    out
}

/// A big-endian unsigned integer (a certificate's serial number) in decimal.
fn decimal(be: &[u8]) -> String {
    // Base-10 digits, least significant first, multiplied by 256 and added to byte by byte.
    let mut digits: Vec<u8> = Vec::new();
    for &byte in be {
        let mut carry = u32::from(byte);
        for d in &mut digits {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    if digits.is_empty() {
        return "0".into();
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

/// Is this document signed (does it hold a `ds:Signature`)?
pub fn is_signed(xml: &str) -> bool {
    Document::parse(xml).is_ok_and(|doc| signature(&doc).is_some())
}

fn signature<'a, 'i>(doc: &'a Document<'i>) -> Option<Node<'a, 'i>> {
    doc.descendants()
        .find(|n| n.has_tag_name((DS, "Signature")))
}

fn parse(xml: &str) -> Result<Document<'_>, SignError> {
    Document::parse(xml).map_err(|e| SignError::Xml(e.to_string()))
}

fn sha256_base64(bytes: &[u8]) -> String {
    BASE64.encode(Sha256::digest(bytes))
}

/// Sign a UBL Invoice or CreditNote as [`crate::ubl`] writes it: the signature goes in a new
/// `ext:UBLExtension` at the end of `ext:UBLExtensions`. The document must not change after
/// this (not even its whitespace): the signature covers all of it.
pub fn sign(
    xml: &str,
    cert: &SigningCertificate,
    role: SignerRole,
    signing_time: DateTime<Utc>,
) -> Result<String, SignError> {
    let doc = parse(xml)?;
    if signature(&doc).is_some() {
        return Err(SignError::AlreadySigned);
    }
    let extensions = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name((EXT, "UBLExtensions")))
        .ok_or(SignError::NoExtensions)?;
    let range = extensions.range();
    if xml[range.clone()].ends_with("/>") {
        return Err(SignError::NoExtensions);
    }
    // Just before `</ext:UBLExtensions>`, with the prefix the document uses for it.
    let at = range.start
        + xml[range.clone()]
            .rfind("</")
            .ok_or(SignError::NoExtensions)?;
    let p = qname(xml, extensions)
        .strip_suffix("UBLExtensions")
        .unwrap_or_default();

    // An Id the same document and time always get, unique enough between documents.
    let seed = Sha256::digest(format!("{xml}{}", signing_time.to_rfc3339()));
    let hex: String = seed[..16].iter().map(|b| format!("{b:02x}")).collect();
    let id = format!(
        "xmldsig-{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );

    let key_info = format!(
        r#"<ds:KeyInfo Id="{id}-keyinfo"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"#,
        BASE64.encode(&cert.cert)
    );
    let time = signing_time
        .with_timezone(&BOGOTA)
        .format("%Y-%m-%dT%H:%M:%S%:z");
    let object = format!(
        "<ds:Object><xades:QualifyingProperties xmlns:xades=\"{XADES}\" Target=\"#{id}\">\
         <xades:SignedProperties Id=\"{id}-signedprops\"><xades:SignedSignatureProperties>\
         <xades:SigningTime>{time}</xades:SigningTime>\
         <xades:SigningCertificate><xades:Cert><xades:CertDigest>\
         <ds:DigestMethod Algorithm=\"{SHA256}\"/><ds:DigestValue>{cert_digest}</ds:DigestValue>\
         </xades:CertDigest><xades:IssuerSerial><ds:X509IssuerName>{issuer}</ds:X509IssuerName>\
         <ds:X509SerialNumber>{serial}</ds:X509SerialNumber></xades:IssuerSerial></xades:Cert>\
         </xades:SigningCertificate><xades:SignaturePolicyIdentifier><xades:SignaturePolicyId>\
         <xades:SigPolicyId><xades:Identifier>{POLICY}</xades:Identifier>\
         <xades:Description>{POLICY_DESCRIPTION}</xades:Description></xades:SigPolicyId>\
         <xades:SigPolicyHash><ds:DigestMethod Algorithm=\"{SHA256}\"/>\
         <ds:DigestValue>{POLICY_HASH}</ds:DigestValue></xades:SigPolicyHash>\
         </xades:SignaturePolicyId></xades:SignaturePolicyIdentifier><xades:SignerRole>\
         <xades:ClaimedRoles><xades:ClaimedRole>{role}</xades:ClaimedRole></xades:ClaimedRoles>\
         </xades:SignerRole></xades:SignedSignatureProperties></xades:SignedProperties>\
         </xades:QualifyingProperties></ds:Object>",
        cert_digest = sha256_base64(&cert.cert),
        issuer = escape(&cert.issuer),
        serial = cert.serial,
        role = role.claimed_role(),
    );
    let signed = |signed_info: &str, value: &str| {
        let extension = format!(
            "<{p}UBLExtension><{p}ExtensionContent><ds:Signature xmlns:ds=\"{DS}\" Id=\"{id}\">\
             {signed_info}<ds:SignatureValue Id=\"{id}-sigvalue\">{value}</ds:SignatureValue>\
             {key_info}{object}</ds:Signature></{p}ExtensionContent></{p}UBLExtension>"
        );
        [&xml[..at], &extension, &xml[at..]].concat()
    };

    // The digests are taken in place, in the document as it will be: what is canonicalized
    // depends on the namespaces in scope where the signature sits.
    let draft = signed("<ds:SignedInfo/>", "");
    let doc = parse(&draft)?;
    // (Not finding what was just written would be a bug here, not a bad document.)
    let missing = |what: &str| SignError::Xml(format!("no se encontró {what} en la firma"));
    let by_id = |wanted: &str| {
        doc.descendants()
            .find(|n| n.attribute("Id") == Some(wanted))
            .ok_or_else(|| missing(wanted))
    };
    let whole = sha256_base64(canonicalize(doc.root(), signature(&doc).map(|s| s.id())).as_bytes());
    let key_info_digest =
        sha256_base64(canonicalize(by_id(&format!("{id}-keyinfo"))?, None).as_bytes());
    let props_digest =
        sha256_base64(canonicalize(by_id(&format!("{id}-signedprops"))?, None).as_bytes());
    let signed_info = format!(
        "<ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"{C14N}\"/>\
         <ds:SignatureMethod Algorithm=\"{RSA_SHA256}\"/>\
         <ds:Reference Id=\"{id}-ref0\" URI=\"\"><ds:Transforms>\
         <ds:Transform Algorithm=\"{ENVELOPED}\"/></ds:Transforms>\
         <ds:DigestMethod Algorithm=\"{SHA256}\"/><ds:DigestValue>{whole}</ds:DigestValue>\
         </ds:Reference><ds:Reference URI=\"#{id}-keyinfo\">\
         <ds:DigestMethod Algorithm=\"{SHA256}\"/><ds:DigestValue>{key_info_digest}</ds:DigestValue>\
         </ds:Reference><ds:Reference Type=\"{SIGNED_PROPERTIES}\" URI=\"#{id}-signedprops\">\
         <ds:DigestMethod Algorithm=\"{SHA256}\"/><ds:DigestValue>{props_digest}</ds:DigestValue>\
         </ds:Reference></ds:SignedInfo>"
    );

    // SignedInfo is signed as canonicalized in place too.
    let draft = signed(&signed_info, "");
    let doc = parse(&draft)?;
    let info = doc
        .descendants()
        .find(|n| n.has_tag_name((DS, "SignedInfo")))
        .ok_or_else(|| missing("SignedInfo"))?;
    let signer = pkcs1v15::SigningKey::<Sha256>::new(cert.key.clone());
    let value = signer
        .try_sign(canonicalize(info, None).as_bytes())
        .map_err(|e| SignError::Rsa(e.to_string()))?;
    Ok(signed(&signed_info, &BASE64.encode(value.to_bytes())))
}

/// An element's name as written (`ext:UBLExtensions`), prefix included.
fn qname<'i>(input: &'i str, element: Node) -> &'i str {
    let tag = &input[element.range().start + 1..];
    let end = tag
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(tag.len());
    &tag[..end]
}

/// Inclusive Canonical XML 1.0 without comments (W3C REC-xml-c14n-20010315) of `node`: the
/// document, or an element with its descendants (a same-document reference), less the subtree
/// `omit` (the enveloped signature).
fn canonicalize(node: Node, omit: Option<NodeId>) -> String {
    let mut out = String::new();
    if node.is_root() {
        let mut after_root = false;
        for child in node.children() {
            match child.node_type() {
                NodeType::Element => {
                    element(&mut out, child, &[], omit, false);
                    after_root = true;
                }
                // Outside the root element, a newline separates each PI from it.
                NodeType::PI if after_root => {
                    out.push('\n');
                    pi(&mut out, child);
                }
                NodeType::PI => {
                    pi(&mut out, child);
                    out.push('\n');
                }
                _ => {}
            }
        }
    } else {
        element(&mut out, node, &[], omit, true);
    }
    out
}

type Namespaces<'a> = Vec<(&'a str, &'a str)>;

/// One element: its namespace declarations (those not already in force in the output parent;
/// at the apex of a subset, all in scope), its attributes in order, then its content.
fn element<'a>(
    out: &mut String,
    e: Node<'a, '_>,
    parent: &[(&str, &str)],
    omit: Option<NodeId>,
    apex: bool,
) {
    if Some(e.id()) == omit {
        return;
    }
    let input = e.document().input_text();
    let name = qname(input, e);
    let scope: Namespaces<'a> = e
        .namespaces()
        .filter(|ns| ns.name() != Some("xml"))
        .map(|ns| (ns.name().unwrap_or(""), ns.uri()))
        .collect();
    let has_default = |s: &[(&str, &str)]| {
        s.iter()
            .any(|(prefix, uri)| prefix.is_empty() && !uri.is_empty())
    };
    let mut declared: Namespaces = scope
        .iter()
        .filter(|(prefix, uri)| !(prefix.is_empty() && uri.is_empty()))
        .filter(|ns| !parent.contains(ns))
        .copied()
        .collect();
    // `xmlns=""` only where it undoes a default namespace the output parent has.
    if !has_default(&scope) && has_default(parent) {
        declared.push(("", ""));
    }
    // Default first, then by prefix.
    declared.sort_unstable();

    let mut attributes: Vec<(&str, &str, &str, &str)> = e
        .attributes()
        .map(|a| {
            let qname = &input[a.range_qname()];
            (a.namespace().unwrap_or(""), a.name(), qname, a.value())
        })
        .collect();
    if apex {
        // A subset's apex inherits the xml:* attributes (xml:lang…) of its ancestors.
        for ancestor in e.ancestors().skip(1).filter(Node::is_element) {
            for a in ancestor.attributes().filter(|a| a.namespace() == Some(XML)) {
                if !attributes.iter().any(|x| x.0 == XML && x.1 == a.name()) {
                    attributes.push((XML, a.name(), &input[a.range_qname()], a.value()));
                }
            }
        }
    }
    // By namespace URI, then local name; unqualified ones (empty URI) first.
    attributes.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

    out.push('<');
    out.push_str(name);
    for (prefix, uri) in &declared {
        out.push_str(if prefix.is_empty() {
            " xmlns"
        } else {
            " xmlns:"
        });
        out.push_str(prefix);
        out.push_str("=\"");
        escape_attribute(out, uri);
        out.push('"');
    }
    for (_, _, qname, value) in &attributes {
        out.push(' ');
        out.push_str(qname);
        out.push_str("=\"");
        escape_attribute(out, value);
        out.push('"');
    }
    out.push('>');
    for child in e.children() {
        match child.node_type() {
            NodeType::Element => element(out, child, &scope, omit, false),
            NodeType::Text => escape_text(out, child.text().unwrap_or_default()),
            NodeType::PI => pi(out, child),
            _ => {}
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn pi(out: &mut String, node: Node) {
    if let Some(pi) = node.pi() {
        out.push_str("<?");
        out.push_str(pi.target);
        if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
            out.push(' ');
            out.push_str(value);
        }
        out.push_str("?>");
    }
}

fn escape_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attribute(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n_of(xml: &str, id: Option<&str>) -> String {
        let doc = Document::parse(xml).unwrap();
        let node = match id {
            None => doc.root(),
            Some(id) => doc
                .descendants()
                .find(|n| n.attribute("Id") == Some(id))
                .unwrap(),
        };
        canonicalize(node, None)
    }

    #[test]
    fn attributes_are_sorted_namespaces_first_and_empty_elements_expanded() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><r xmlns:b="urn:b" xmlns:a="urn:a" z="1" b:y="2" a:y="3" a="4" xmlns="urn:d"><e/></r>"#;
        assert_eq!(
            c14n_of(xml, None),
            r#"<r xmlns="urn:d" xmlns:a="urn:a" xmlns:b="urn:b" a="4" z="1" a:y="3" b:y="2"><e></e></r>"#
        );
    }

    #[test]
    fn a_subset_apex_carries_every_namespace_in_scope_and_descendants_only_new_ones() {
        let xml = r#"<r xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:unused"><a:x><a:s Id="s" xmlns:n="urn:n"><n:t xmlns:a="urn:a"><a:v/></n:t><w xmlns="urn:other"/></a:s></a:x></r>"#;
        assert_eq!(
            c14n_of(xml, Some("s")),
            r#"<a:s xmlns="urn:d" xmlns:a="urn:a" xmlns:n="urn:n" xmlns:u="urn:unused" Id="s"><n:t><a:v></a:v></n:t><w xmlns="urn:other"></w></a:s>"#
        );
    }

    #[test]
    fn text_and_attribute_values_are_escaped_as_c14n_says() {
        let xml = "<r a=\"&lt;&amp;&gt;&quot;'&#9;&#10;&#13;\">Soporte Andino &amp; Cía &lt;SAS&gt; &#13;\"'ñ</r>";
        assert_eq!(
            c14n_of(xml, None),
            "<r a=\"&lt;&amp;>&quot;'&#x9;&#xA;&#xD;\">Soporte Andino &amp; Cía &lt;SAS&gt; &#xD;\"'ñ</r>"
        );
    }

    #[test]
    fn the_enveloped_signature_is_left_out_and_a_default_namespace_undone() {
        let xml = r#"<r xmlns="urn:d"><x><s:Signature xmlns:s="http://www.w3.org/2000/09/xmldsig#"><s:v/></s:Signature></x><y xmlns=""><z/></y></r>"#;
        let doc = Document::parse(xml).unwrap();
        let omit = signature(&doc).map(|s| s.id());
        assert_eq!(
            canonicalize(doc.root(), omit),
            r#"<r xmlns="urn:d"><x></x><y xmlns=""><z></z></y></r>"#
        );
    }

    #[test]
    fn the_xml_declaration_goes_and_pis_outside_the_root_get_their_newlines() {
        let xml = "<?xml version=\"1.0\"?>\n<?a b?>\n<r><!-- c --><?p?></r>\n<?z?>";
        assert_eq!(c14n_of(xml, None), "<?a b?>\n<r><?p?></r>\n<?z?>");
    }

    #[test]
    fn serial_numbers_are_written_in_decimal() {
        assert_eq!(decimal(&[]), "0");
        assert_eq!(decimal(&[0x00, 0xff]), "255");
        assert_eq!(decimal(&[0x01, 0x00]), "256");
        // The DIAN example's certificate: serial 70:e0:f1:07:58:36:63:d8.
        assert_eq!(
            decimal(&[0x70, 0xe0, 0xf1, 0x07, 0x58, 0x36, 0x63, 0xd8]),
            "8133765940878140376"
        );
    }
}
