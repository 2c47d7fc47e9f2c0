//! What each e-mail says, in Spanish (es-CO): a subject, and the same paragraphs as plain text
//! and as HTML. Amounts print as `$ 48.485` and times in Bogotá. Anything a person typed (task
//! titles, review reasons, names) is escaped in the HTML part.

use vereda_contracts::config::Settings;
use vereda_contracts::money::Cop;
use vereda_contracts::statements::{Month, Statement, date_es, decimal_es, percent_es};
use vereda_contracts::time::{self, BOGOTA};

/// A composed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Whether people may turn a kind of message off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Money and documents: always sent.
    Essential,
    /// Reminders and marketplace news: sent unless the person turned them off.
    Optional,
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `28 de noviembre de 2026, 15:15` (Bogotá).
pub fn when_es(unix: i64) -> String {
    let t = time::from_unix(unix).with_timezone(&BOGOTA);
    format!("{}, {}", date_es(t.date_naive()), t.format("%H:%M"))
}

/// Greeting, paragraphs and a footer, as text and HTML.
fn compose(
    settings: &Settings,
    subject: String,
    greeting: &str,
    paragraphs: &[String],
    need: Need,
) -> Content {
    let mut footer = format!(
        "Este mensaje lo envía {} (NIT {}), la plataforma Vereda.",
        settings.platform_name, settings.platform_nit
    );
    if need == Need::Optional {
        footer.push_str(
            " Puede dejar de recibir recordatorios como este en sus preferencias de correo.",
        );
    }
    let mut text = format!("{greeting}\n\n");
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"es-CO\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family: Arial, Helvetica, sans-serif; color: #222; max-width: 36em\">\
         <p>{}</p>",
        escape(&subject),
        escape(greeting)
    );
    for p in paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(p)));
    }
    text.push_str(&format!("--\n{footer}\n"));
    html.push_str(&format!(
        "<hr><p style=\"font-size: small; color: #666\">{}</p></body></html>\n",
        escape(&footer)
    ));
    Content {
        subject,
        text,
        html,
    }
}

fn hello(name: &str) -> String {
    format!("Hola, {name}:")
}

pub fn statement(
    settings: &Settings,
    name: &str,
    month: Month,
    s: &Statement,
    code: &str,
    version: i64,
) -> Content {
    let label = if s.provisional { " (provisional)" } else { "" };
    let mut paragraphs = vec![
        format!(
            "Adjuntamos su certificado de ingresos de {}{label}, versión {version}.",
            month.name_es()
        ),
        format!(
            "Trabajó {} horas en {} trabajos aprobados. Ingreso bruto: {}; retención: {}; \
             ingreso neto: {}. Recibió {} en el mes y queda pendiente de pago {}.",
            decimal_es(s.hours),
            s.assignments_approved,
            s.gross.to_es_co(),
            s.withholding.to_es_co(),
            s.net.to_es_co(),
            s.paid_out.to_es_co(),
            s.pending.to_es_co()
        ),
        format!(
            "Su ingreso equivale al {} de un salario mínimo ({}) y al {} de la línea base rural ({}).",
            percent_es(s.comparisons.share_of_smmlv),
            s.comparisons.smmlv.to_es_co(),
            percent_es(s.comparisons.share_of_baseline),
            s.comparisons.rural_baseline.to_es_co()
        ),
        format!(
            "Código de verificación: {code}. Un banco o cualquier entidad puede comprobar con este \
             código que el certificado es auténtico."
        ),
    ];
    if s.provisional {
        paragraphs.push(
            "Es provisional porque el mes aún no termina; el certificado definitivo llega el \
             primer día del mes siguiente."
                .to_string(),
        );
    }
    compose(
        settings,
        format!("Su certificado de ingresos de {}{label}", month.name_es()),
        &hello(name),
        &paragraphs,
        Need::Essential,
    )
}

pub fn invoice_issued(
    settings: &Settings,
    company_name: &str,
    number: &str,
    total: Cop,
    due_at: i64,
) -> Content {
    compose(
        settings,
        format!(
            "Factura {number} de {} por {}",
            settings.platform_name,
            total.to_es_co()
        ),
        &format!("Señores {company_name}:"),
        &[
            format!(
                "Adjuntamos la factura {number} por {}, por el trabajo aprobado en el periodo y \
                 la comisión de la plataforma con su IVA.",
                total.to_es_co()
            ),
            format!(
                "Vence el {}. Puede pagarla por transferencia bancaria indicando el número de la \
                 factura.",
                date_es(time::from_unix(due_at).with_timezone(&BOGOTA).date_naive())
            ),
        ],
        Need::Essential,
    )
}

pub fn credit_note_issued(
    settings: &Settings,
    company_name: &str,
    number: &str,
    invoice_number: &str,
    reason: &str,
    total: Cop,
) -> Content {
    compose(
        settings,
        format!(
            "Nota crédito {number} de {} por {}",
            settings.platform_name,
            total.to_es_co()
        ),
        &format!("Señores {company_name}:"),
        &[
            format!(
                "Adjuntamos la nota crédito {number} por {}, que corrige la factura \
                 {invoice_number}.",
                total.to_es_co()
            ),
            format!("Motivo: {reason}"),
            format!(
                "Lo que deben por la factura {invoice_number} disminuye en ese valor. El estado de \
                 cuenta de la empresa en Vereda muestra el saldo actualizado."
            ),
        ],
        Need::Essential,
    )
}

/// How a payout method reads in a sentence, without the full account or phone number.
fn method_es(method: &serde_json::Value) -> String {
    let tail = |s: &str| {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        digits[digits.len().saturating_sub(4)..].to_string()
    };
    match method["kind"].as_str().unwrap_or("") {
        "nequi" => format!(
            "su Nequi terminado en {}",
            tail(method["phone"].as_str().unwrap_or(""))
        ),
        "daviplata" => format!(
            "su Daviplata terminado en {}",
            tail(method["phone"].as_str().unwrap_or(""))
        ),
        "bank" => format!(
            "su cuenta de {} terminada en {}",
            method["bank"].as_str().unwrap_or("banco"),
            tail(method["account_number"].as_str().unwrap_or(""))
        ),
        _ => "su llave Bre-B".to_string(),
    }
}

pub fn payout_sent(
    settings: &Settings,
    name: &str,
    amount: Cop,
    withholding: Cop,
    method: &serde_json::Value,
) -> Content {
    let net = amount - withholding;
    let mut paragraphs = vec![format!(
        "Le enviamos {} a {}. Según el medio de pago, el dinero llega el mismo día o el siguiente \
         día hábil.",
        net.to_es_co(),
        method_es(method)
    )];
    if withholding > Cop::ZERO {
        paragraphs.push(format!(
            "De {} se retuvieron {} de retención en la fuente.",
            amount.to_es_co(),
            withholding.to_es_co()
        ));
    }
    compose(
        settings,
        format!("Le enviamos {}", net.to_es_co()),
        &hello(name),
        &paragraphs,
        Need::Essential,
    )
}

/// Told to the worker's address whenever her payout method changes (by her or by staff):
/// where her money now goes, masked, that the next payout waits a day, and what to do if it
/// was not her.
pub fn payout_method_changed(
    settings: &Settings,
    name: &str,
    method: &serde_json::Value,
    at: i64,
    by_staff: bool,
) -> Content {
    let what = if by_staff {
        format!(
            "El {} (hora de Colombia) el equipo de Vereda cambió su medio de pago, a nombre \
             suyo, a {}.",
            when_es(at),
            method_es(method)
        )
    } else {
        format!(
            "El {} (hora de Colombia) usted cambió su medio de pago a {}.",
            when_es(at),
            method_es(method)
        )
    };
    compose(
        settings,
        "Cambió su medio de pago en Vereda".to_string(),
        &hello(name),
        &[
            what,
            "Por seguridad, el próximo pago a este medio sale cuando hayan pasado 24 horas \
             desde el cambio. Su saldo no se pierde: queda pendiente hasta entonces."
                .to_string(),
            "Si usted no hizo ni pidió este cambio, cambie su contraseña ahora y escríbanos \
             respondiendo este correo: alguien podría estar usando su cuenta."
                .to_string(),
        ],
        Need::Essential,
    )
}

pub fn submission_received(
    settings: &Settings,
    name: &str,
    task_title: &str,
    review_hours: i64,
) -> Content {
    compose(
        settings,
        format!("Nueva entrega para revisar: «{task_title}»"),
        &hello(name),
        &[
            format!("Llegó una entrega para la tarea «{task_title}»."),
            format!(
                "Cuando pase las revisiones automáticas tendrá {review_hours} horas para revisarla; \
                 si nadie la revisa en ese plazo, se aprueba automáticamente."
            ),
        ],
        Need::Optional,
    )
}

/// A review decision as the worker reads it.
pub enum Outcome<'a> {
    Approved { hours: String, amount: Cop },
    Rejected { reason: &'a str },
    ChangesRequested { reason: &'a str, by_checks: bool },
}

pub fn review_outcome(
    settings: &Settings,
    name: &str,
    task_title: &str,
    o: Outcome<'_>,
) -> Content {
    let (subject, paragraphs) = match o {
        Outcome::Approved { hours, amount } => (
            format!("Trabajo aprobado: «{task_title}»"),
            vec![
                format!(
                    "Su trabajo en «{task_title}» fue aprobado por {hours} horas. Ganó {}.",
                    amount.to_es_co()
                ),
                "El pago sale en el próximo lote de pagos a su medio de pago registrado."
                    .to_string(),
            ],
        ),
        Outcome::Rejected { reason } => (
            format!("Trabajo rechazado: «{task_title}»"),
            vec![
                format!("La empresa rechazó su trabajo en «{task_title}»."),
                format!("Motivo: {reason}"),
            ],
        ),
        Outcome::ChangesRequested { reason, by_checks } => (
            format!("Se pidieron cambios: «{task_title}»"),
            vec![
                if by_checks {
                    format!(
                        "Las revisiones automáticas encontraron algo por corregir en «{task_title}»."
                    )
                } else {
                    format!("La empresa pidió cambios en su trabajo en «{task_title}».")
                },
                format!("Motivo: {reason}"),
                "Corríjalo y vuelva a entregarlo antes de que venza su reserva.".to_string(),
            ],
        ),
    };
    compose(
        settings,
        subject,
        &hello(name),
        &paragraphs,
        Need::Essential,
    )
}

pub fn claim_expiring(
    settings: &Settings,
    name: &str,
    task_title: &str,
    expires_at: i64,
) -> Content {
    compose(
        settings,
        format!("Su reserva de «{task_title}» vence pronto"),
        &hello(name),
        &[
            format!(
                "Su reserva de la tarea «{task_title}» vence el {} (hora de Colombia).",
                when_es(expires_at)
            ),
            "Entregue su trabajo antes, o libere la tarea si no alcanza a terminarla.".to_string(),
        ],
        Need::Optional,
    )
}

pub fn claim_cancelled(settings: &Settings, name: &str, task_title: &str) -> Content {
    compose(
        settings,
        format!("La tarea «{task_title}» fue cancelada"),
        &hello(name),
        &[format!(
            "La empresa canceló la tarea «{task_title}» y su reserva terminó. El trabajo ya \
             aprobado no cambia."
        )],
        Need::Optional,
    )
}

/// To an admin: this morning's ledger audit found checks that do not hold.
pub fn audit_failed(
    settings: &Settings,
    name: &str,
    day: chrono::NaiveDate,
    failed: &[&crate::audit::Check],
) -> Content {
    let mut paragraphs = vec![format!(
        "La revisión automática de la contabilidad del {} encontró {} {} que no se cumple{}:",
        date_es(day),
        failed.len(),
        if failed.len() == 1 { "regla" } else { "reglas" },
        if failed.len() == 1 { "" } else { "n" }
    )];
    paragraphs.extend(
        failed
            .iter()
            .map(|c| format!("• {} — {}", c.name, c.detail)),
    );
    paragraphs.push(
        "Nada se corrige solo: revise cada punto con finanzas antes del próximo cierre. \
         El detalle completo está en GET /v1/ledger/audit."
            .to_string(),
    );
    compose(
        settings,
        "Vereda: la revisión de la contabilidad encontró diferencias".to_string(),
        &format!("Hola, {name}:"),
        &paragraphs,
        Need::Essential,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn settings() -> Settings {
        Settings::for_database("sqlite::memory:", Path::new("/tmp")).unwrap()
    }

    #[test]
    fn what_people_type_is_escaped_in_html_only() {
        let c = claim_cancelled(&settings(), "Luz", "<b>Datos</b> & más");
        assert!(c.text.contains("«<b>Datos</b> & más»"), "{}", c.text);
        assert!(
            c.html.contains("&lt;b&gt;Datos&lt;/b&gt; &amp; más"),
            "{}",
            c.html
        );
        assert!(!c.html.contains("<b>Datos"));
        assert!(c.text.contains("preferencias de correo"));
    }

    #[test]
    fn payouts_never_show_the_whole_account() {
        let method = serde_json::json!({"kind": "nequi", "phone": "3105551234"});
        let c = payout_sent(&settings(), "Luz", Cop::pesos(48_485), Cop::ZERO, &method);
        assert_eq!(c.subject, "Le enviamos $ 48.485");
        assert!(c.text.contains("Nequi terminado en 1234"), "{}", c.text);
        assert!(!c.text.contains("3105551234"));
        assert!(!c.text.contains("preferencias"), "payouts are essential");
    }

    #[test]
    fn a_payout_method_change_is_told_masked() {
        let method = serde_json::json!({"kind": "daviplata", "phone": "3209876543"});
        let c = payout_method_changed(&settings(), "Luz", &method, 1_795_896_900, false);
        assert_eq!(c.subject, "Cambió su medio de pago en Vereda");
        assert!(c.text.contains("Daviplata terminado en 6543"), "{}", c.text);
        assert!(
            c.text.contains("28 de noviembre de 2026, 15:15"),
            "{}",
            c.text
        );
        assert!(c.text.contains("24 horas"), "{}", c.text);
        assert!(!c.text.contains("3209876543"));
        assert!(!c.text.contains("preferencias"), "always sent");
        let c = payout_method_changed(&settings(), "Luz", &method, 1_795_896_900, true);
        assert!(c.text.contains("equipo de Vereda"), "{}", c.text);
    }

    #[test]
    fn bogota_times() {
        // 2026-11-28 20:15 UTC is 15:15 in Bogotá.
        assert_eq!(when_es(1_795_896_900), "28 de noviembre de 2026, 15:15");
    }
}
