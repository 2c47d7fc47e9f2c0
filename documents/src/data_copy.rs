//! A worker's copy of her data as a PDF she can read and keep (issue 22 §3; Ley 1581 art. 14,
//! the consulta): every section of the JSON copy (`store::data_export`), titled in Spanish,
//! each record as "campo: valor", instants as Bogotá dates, long values cut with a pointer to
//! the JSON copy, which holds them whole.

use serde_json::Value;
use vereda_contracts::statements::date_es;
use vereda_contracts::time::{BOGOTA, from_unix};

use crate::pdf::{BODY, Document, LEFT, SMALL, STRONG, TITLE};
use crate::{Issuer, section};

/// Longest value printed whole, in characters.
const LONGEST: usize = 400;

/// A record's fields, indented under its heading (points from the page's edge).
const FIELDS_AT: f32 = 64.0;

/// A record's heading and its first two fields stay on one page.
const RECORD_START: f32 = 48.0;

/// A section's title for people; unknown ones keep their name.
fn title_es(section: &str) -> &str {
    match section {
        "profile" => "Perfil",
        "account" => "Cuenta",
        "skills" => "Habilidades",
        "consents" => "Autorizaciones para datos sensibles",
        "programme_groups" => "Grupos del programa",
        "baseline_income" => "Ingreso del hogar antes de Vereda",
        "fiscal_profiles" => "Perfil tributario",
        "social_security" => "Seguridad social (PILA)",
        "assignments" => "Tareas tomadas",
        "assignment_history" => "Historia de las tareas",
        "time_entries" => "Registros de tiempo",
        "time_entry_revisions" => "Cambios a los registros de tiempo",
        "running_timers" => "Cronómetro en marcha",
        "earnings" => "Ganancias causadas",
        "payouts" => "Pagos",
        "payout_notices" => "Avisos de pago",
        "statements" => "Extractos mensuales",
        "support_documents" => "Documentos soporte",
        "certificates" => "Certificados de ingresos y retenciones",
        "appeals" => "Apelaciones",
        "data_requests" => "Solicitudes sobre sus datos",
        "data_reads" => "Quién consultó sus datos",
        "account_events" => "Eventos de la cuenta",
        "email_preferences" => "Preferencias de correo",
        "emails" => "Correos",
        other => other,
    }
}

/// A value as she reads it: instants (columns ending in `_at`, Unix seconds) as Bogotá dates
/// and times, `true`/`false` as sí/no, text as it is (cut when long).
fn value_es(column: &str, v: &Value) -> Option<String> {
    let text = match v {
        Value::Null => return None,
        Value::Bool(b) => (if *b { "sí" } else { "no" }).to_string(),
        Value::Number(n) if column == "at" || column.ends_with("_at") => match n.as_i64() {
            Some(t) => {
                let b = from_unix(t).with_timezone(&BOGOTA);
                format!("{}, {}", date_es(b.date_naive()), b.format("%H:%M"))
            }
            None => n.to_string(),
        },
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(if text.chars().count() > LONGEST {
        let cut: String = text.chars().take(LONGEST).collect();
        format!("{cut}… (completo en la copia JSON)")
    } else {
        text
    })
}

/// The copy: each section's name and rows, in the order given (`store::data_export::SECTIONS`).
pub fn data_copy_pdf(
    issuer: &Issuer,
    name: &str,
    generated_on: &str,
    sections: &[(&str, &Value)],
) -> Vec<u8> {
    let mut doc = Document::new("Copia de sus datos personales");
    doc.line(LEFT, TITLE, "Copia de sus datos personales");
    doc.line(LEFT, STRONG, name);
    doc.line(LEFT, BODY, &format!("Generada el {generated_on}"));
    doc.paragraph(
        LEFT,
        SMALL,
        &format!(
            "{} (NIT {}) le entrega todo lo que guarda sobre usted, como lo guarda, en \
             respuesta a su consulta (Ley 1581 de 2012, artículo 14). Las contraseñas y los \
             códigos de acceso nunca se incluyen. La copia en JSON, descargable desde la \
             misma pantalla, tiene los mismos datos completos, para llevarlos a otro sistema. \
             Si algo está mal, pida su corrección en «Mis solicitudes sobre mis datos».",
            issuer.name, issuer.nit
        ),
    );
    for (key, rows) in sections {
        let rows: &[Value] = rows.as_array().map_or(&[], Vec::as_slice);
        section(&mut doc, &format!("{} ({})", title_es(key), rows.len()));
        if rows.is_empty() {
            doc.line(LEFT, SMALL, "Sin registros.");
            continue;
        }
        for (i, row) in rows.iter().enumerate() {
            let Some(fields) = row.as_object() else {
                continue;
            };
            if rows.len() > 1 {
                doc.keep(&[RECORD_START]);
                doc.line(LEFT, STRONG, &format!("Registro {}", i + 1));
            }
            for (column, v) in fields {
                if let Some(text) = value_es(column, v) {
                    doc.paragraph(FIELDS_AT, SMALL, &format!("{column}: {text}"));
                }
            }
            doc.space(3.0);
        }
    }
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    #[test]
    fn every_section_is_there_in_spanish_and_long_values_are_cut() {
        let issuer = Issuer {
            name: "Vereda S.A.S.".into(),
            nit: "901234567-8".into(),
            public_url: "https://vereda.co".into(),
        };
        let mut sections = Map::new();
        sections.insert(
            "profile".into(),
            json!([{"municipality": "Chaparral", "created_at": 1796083200, "phone": null}]),
        );
        sections.insert("skills".into(), json!([]));
        sections.insert(
            "emails".into(),
            json!([{"body_text": "x".repeat(2000), "sent": true}, {"subject": "Hola"}]),
        );
        let ordered: Vec<(&str, &Value)> = sections.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let pdf = data_copy_pdf(
            &issuer,
            "Luz Teletrabajadora",
            "6 de diciembre de 2026",
            &ordered,
        );
        assert!(pdf.starts_with(b"%PDF"));
        assert_eq!(title_es("consents"), "Autorizaciones para datos sensibles");
        assert_eq!(
            value_es("created_at", &json!(1796083200)).unwrap(),
            "30 de noviembre de 2026, 19:00"
        );
        assert_eq!(value_es("phone", &Value::Null), None);
        assert_eq!(value_es("sent", &json!(true)).unwrap(), "sí");
        let long = value_es("body_text", &json!("x".repeat(2000))).unwrap();
        assert!(long.ends_with("(completo en la copia JSON)"), "{long}");
        assert!(long.chars().count() < 500);
    }
}
