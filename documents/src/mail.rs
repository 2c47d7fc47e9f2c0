//! What each e-mail says, in Spanish (es-CO): a subject, and the same paragraphs as plain text
//! and as HTML. Amounts print as `$ 48.485` and times in Bogotá. Anything a person typed (task
//! titles, review reasons, names) is escaped in the HTML part.

use crate::Issuer;
use vereda_contracts::marketplace::PricingKind;
use vereda_contracts::money::Cop;
use vereda_contracts::statements::{Month, Statement, date_es, decimal_es, hours, percent_es};
use vereda_contracts::time::{self, BOGOTA, duration_es};

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

/// A deadline as a person reads it: one falling at a Bogotá midnight (the end of a business
/// day) is that day, "a más tardar el 13 de enero de 2026"; any other, its date and time.
pub fn deadline_es(unix: i64) -> String {
    let t = time::from_unix(unix).with_timezone(&BOGOTA);
    if t.format("%H:%M:%S").to_string() == "00:00:00" {
        let day = time::from_unix(unix - 1)
            .with_timezone(&BOGOTA)
            .date_naive();
        format!("a más tardar el {}", date_es(day))
    } else {
        format!("a más tardar el {}", when_es(unix))
    }
}

/// `28 de noviembre de 2026, 15:15` (Bogotá).
pub fn when_es(unix: i64) -> String {
    let t = time::from_unix(unix).with_timezone(&BOGOTA);
    format!("{}, {}", date_es(t.date_naive()), t.format("%H:%M"))
}

/// Greeting, paragraphs and a footer, as text and HTML.
fn compose(
    issuer: &Issuer,
    subject: String,
    greeting: &str,
    paragraphs: &[String],
    need: Need,
) -> Content {
    compose_with_link(issuer, subject, greeting, paragraphs, None, need)
}

/// [`compose`], with a link (text, address) after the paragraphs: on a line of its own in the
/// text, a real link in the HTML.
fn compose_with_link(
    issuer: &Issuer,
    subject: String,
    greeting: &str,
    paragraphs: &[String],
    link: Option<(&str, &str)>,
    need: Need,
) -> Content {
    let mut footer = format!(
        "Este mensaje lo envía {} (NIT {}), la plataforma Vereda.",
        issuer.name, issuer.nit
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
    if let Some((label, href)) = link {
        text.push_str(&format!("{label}:\n{href}\n\n"));
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p><p style=\"font-size: small\">{}</p>",
            escape(href),
            escape(label),
            escape(href)
        ));
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
    issuer: &Issuer,
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
            "Trabajó {} horas en {} trabajos aprobados, por {} (ingreso bruto). En el mes se le \
             pagaron {} con una retención en la fuente de {}: neto {}. Queda pendiente de pago {}.",
            decimal_es(s.hours),
            s.assignments_approved,
            s.gross.to_es_co(),
            s.paid_gross.to_es_co(),
            s.withholding.to_es_co(),
            s.net.to_es_co(),
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
             código que el certificado es auténtico en {}.",
            issuer.verification_url(code)
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
        issuer,
        format!("Su certificado de ingresos de {}{label}", month.name_es()),
        &hello(name),
        &paragraphs,
        Need::Essential,
    )
}

pub fn invoice_issued(
    issuer: &Issuer,
    company_name: &str,
    number: &str,
    total: Cop,
    due_at: i64,
    electronic: bool,
) -> Content {
    // An electronic invoice travels as DIAN's XML with its PDF, zipped together.
    let attached = if electronic {
        format!(
            "Adjuntamos la factura electrónica de venta {number} (el XML validable ante la DIAN \
             y su representación en PDF, en un archivo ZIP) por {}",
            total.to_es_co()
        )
    } else {
        format!("Adjuntamos la factura {number} por {}", total.to_es_co())
    };
    compose(
        issuer,
        format!(
            "Factura {number} de {} por {}",
            issuer.name,
            total.to_es_co()
        ),
        &format!("Señores {company_name}:"),
        &[
            format!(
                "{attached}, por el trabajo aprobado en el periodo y la comisión de la \
                 plataforma con su IVA."
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
    issuer: &Issuer,
    company_name: &str,
    number: &str,
    invoice_number: &str,
    reason: &str,
    total: Cop,
) -> Content {
    compose(
        issuer,
        format!(
            "Nota crédito {number} de {} por {}",
            issuer.name,
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
    issuer: &Issuer,
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
    } else if withholding < Cop::ZERO {
        paragraphs.push(format!(
            "A sus {} se suman {} de retención en la fuente que se le había descontado de más \
             este mes y que le devolvemos.",
            amount.to_es_co(),
            (Cop::ZERO - withholding).to_es_co()
        ));
    }
    compose(
        issuer,
        format!("Le enviamos {}", net.to_es_co()),
        &hello(name),
        &paragraphs,
        Need::Essential,
    )
}

/// Her certificate of income and withholdings for a year, with its PDF attached.
pub fn certificate_issued(
    issuer: &Issuer,
    name: &str,
    c: &vereda_contracts::certificates::Certificate,
    code: &str,
    version: i64,
) -> Content {
    let again = if version > 1 {
        format!(" Esta es la versión {version}: reemplaza a las anteriores.")
    } else {
        String::new()
    };
    compose(
        issuer,
        format!("Su certificado de ingresos y retenciones de {}", c.year),
        &hello(name),
        &[
            format!(
                "Adjuntamos su certificado de ingresos y retenciones del año {}, para su \
                 declaración de renta.{again}",
                c.year
            ),
            format!(
                "En el año le pagamos {} y le retuvimos {} de retención en la fuente: recibió {}.",
                c.paid.to_es_co(),
                c.withheld.to_es_co(),
                c.net.to_es_co()
            ),
            format!(
                "Quien necesite comprobarlo puede hacerlo en {} con el código {code}.",
                issuer.verification_url(code)
            ),
        ],
        Need::Essential,
    )
}

/// What a payout batch had to tell her: a payment held (the money stays on her balance) or
/// paid with a warning, in the words `payout_rules::Notice` chose.
pub fn payout_notice(issuer: &Issuer, name: &str, held: bool, message: &str) -> Content {
    let subject = if held {
        "Su pago quedó retenido"
    } else {
        "Un aviso sobre su pago"
    };
    compose(
        issuer,
        subject.to_string(),
        &hello(name),
        &[
            message.to_string(),
            "Si tiene dudas, respóndanos este correo.".to_string(),
        ],
        Need::Essential,
    )
}

/// A payout the bank could not deliver: the money is back on her balance, and what to check.
pub fn payout_failed(
    issuer: &Issuer,
    name: &str,
    amount: Cop,
    method: &serde_json::Value,
) -> Content {
    compose(
        issuer,
        format!("No pudimos entregarle {}", amount.to_es_co()),
        &hello(name),
        &[
            format!(
                "El banco nos avisó que no pudo entregar el pago de {} a {}.",
                amount.to_es_co(),
                method_es(method)
            ),
            "No se preocupe: el dinero volvió a su saldo en Vereda y sale en el próximo pago."
                .to_string(),
            "Revise en su perfil que sus datos de pago estén bien escritos y que la cuenta o el \
             número estén activos y a su nombre; si algo cambió, actualícelos. Si todo está \
             bien, respóndanos este correo y lo revisamos."
                .to_string(),
        ],
        Need::Essential,
    )
}

/// Told to the worker's address whenever her payout method changes (by her or by staff):
/// where her money now goes, masked, that the next payout waits a day, and what to do if it
/// was not her.
pub fn payout_method_changed(
    issuer: &Issuer,
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
        issuer,
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

/// A link to set a new password, asked for from the sign-in screen.
pub fn password_reset(issuer: &Issuer, name: &str, link: &str, expires_at: i64) -> Content {
    compose_with_link(
        issuer,
        "Cree una nueva contraseña para Vereda".to_string(),
        &hello(name),
        &[
            "Alguien, seguramente usted, pidió crear una nueva contraseña para su cuenta de \
             Vereda."
                .to_string(),
            format!(
                "Abra el enlace de abajo y escriba su nueva contraseña. Sirve una sola vez y \
                 hasta el {} (hora de Colombia). Al cambiarla se cierra su sesión en todos los \
                 demás dispositivos.",
                when_es(expires_at)
            ),
            "Si usted no lo pidió, ignore este correo: su contraseña sigue siendo la misma."
                .to_string(),
        ],
        Some(("Crear una nueva contraseña", link)),
        Need::Essential,
    )
}

/// The invitation of an account created without a password: who invited her, to what, and
/// the link to choose her password.
pub fn invitation(
    issuer: &Issuer,
    name: &str,
    inviter: &str,
    role_es: &str,
    link: &str,
    expires_at: i64,
) -> Content {
    compose_with_link(
        issuer,
        format!("{inviter} creó su cuenta en Vereda"),
        &hello(name),
        &[
            format!(
                "{inviter} creó una cuenta para usted en Vereda, la plataforma de {} que conecta \
                 empresas con teletrabajadores rurales de Colombia, {role_es}.",
                issuer.name
            ),
            format!(
                "Para entrar, abra el enlace de abajo y elija su contraseña. El enlace sirve \
                 una sola vez y hasta el {} (hora de Colombia); si vence, pida uno nuevo con \
                 «¿Olvidó su contraseña?» usando este mismo correo.",
                when_es(expires_at)
            ),
            "Si no esperaba esta invitación, ignore este correo.".to_string(),
        ],
        Some(("Elegir mi contraseña", link)),
        Need::Essential,
    )
}

/// Hours with two decimals, as a phrase: `1 hora`, `2,62 horas`.
pub fn hours_es(seconds: i64) -> String {
    let h = hours(seconds);
    if h == rust_decimal::Decimal::ONE {
        "1 hora".to_string()
    } else {
        format!("{} horas", decimal_es(h))
    }
}

/// A submission that passed the automatic checks and waits for the company's review.
#[derive(Debug, Clone)]
pub struct ReadySubmission<'a> {
    pub task_title: &'a str,
    /// The worker's name as the platform shows it.
    pub worker_name: &'a str,
    pub submitted_at: i64,
    /// Unreviewed by then, it is approved automatically.
    pub review_due_at: Option<i64>,
}

impl ReadySubmission<'_> {
    fn due(&self) -> String {
        match self.review_due_at {
            Some(t) => format!("revísela {} (hora de Colombia)", deadline_es(t)),
            None => "revísela pronto".to_string(),
        }
    }
}

/// One submission ready for review, to a company member who asked for one e-mail each.
pub fn submission_received(issuer: &Issuer, name: &str, s: &ReadySubmission<'_>) -> Content {
    compose(
        issuer,
        format!(
            "Nueva entrega para revisar: «{}», de {}",
            s.task_title, s.worker_name
        ),
        &hello(name),
        &[
            format!(
                "{} entregó su trabajo en la tarea «{}» el {}. Pasó las revisiones automáticas y \
                 espera su revisión: {}.",
                s.worker_name,
                s.task_title,
                when_es(s.submitted_at),
                s.due()
            ),
            "Si nadie la revisa en ese plazo, se aprueba automáticamente.".to_string(),
            "Recibe un correo por cada entrega; en sus preferencias de correo puede pedir, en \
             cambio, un resumen cada hora."
                .to_string(),
        ],
        Need::Optional,
    )
}

/// The submissions of the past hour(s), to a company member who takes them as a digest.
pub fn submissions_digest(
    issuer: &Issuer,
    name: &str,
    submissions: &[ReadySubmission<'_>],
) -> Content {
    let n = submissions.len();
    let subject = if n == 1 {
        format!(
            "Resumen de entregas para revisar: «{}», de {}",
            submissions[0].task_title, submissions[0].worker_name
        )
    } else {
        format!("Resumen de entregas para revisar: {n} nuevas")
    };
    let mut paragraphs = vec![if n == 1 {
        "Esta entrega pasó las revisiones automáticas y espera su revisión:".to_string()
    } else {
        format!("Estas {n} entregas pasaron las revisiones automáticas y esperan su revisión:")
    }];
    for s in submissions {
        paragraphs.push(format!(
            "• «{}», de {}, entregada el {}; {}.",
            s.task_title,
            s.worker_name,
            when_es(s.submitted_at),
            s.due()
        ));
    }
    paragraphs
        .push("Si nadie revisa una entrega en su plazo, se aprueba automáticamente.".to_string());
    paragraphs.push(
        "Recibe este resumen cada hora que llegan entregas; en sus preferencias de correo puede \
         pedir, en cambio, un correo por cada entrega."
            .to_string(),
    );
    compose(issuer, subject, &hello(name), &paragraphs, Need::Optional)
}

/// An approval as the worker reads it.
pub struct Approval<'a> {
    pub pricing: PricingKind,
    pub approved_seconds: i64,
    /// Seconds logged when the work was submitted.
    pub logged_seconds: i64,
    pub amount: Cop,
    pub reason: Option<&'a str>,
}

/// A review decision as the worker reads it.
pub enum Outcome<'a> {
    Approved(Approval<'a>),
    Rejected(SentBack<'a>),
    ChangesRequested { sent: SentBack<'a>, by_checks: bool },
}

/// Why work was sent back, as the worker reads it.
#[derive(Default)]
pub struct SentBack<'a> {
    pub reason: &'a str,
    /// The reason code's Spanish label.
    pub code_es: Option<&'a str>,
    /// The rubric's criteria not met.
    pub criteria: Vec<String>,
    /// A rejection held for the platform's review, decided by then.
    pub held_until: Option<i64>,
    /// Until when a rejection can be appealed to the platform.
    pub appeal_until: Option<i64>,
}

impl SentBack<'_> {
    fn why(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self.code_es {
            Some(code) => out.push(format!("Motivo: {code}. {}", self.reason)),
            None => out.push(format!("Motivo: {}", self.reason)),
        }
        if !self.criteria.is_empty() {
            out.push(format!(
                "Criterios de la tarea que no se cumplieron: {}.",
                self.criteria.join("; ")
            ));
        }
        out
    }
}

fn approved_paragraphs(task_title: &str, a: &Approval<'_>) -> Vec<String> {
    let mut out = Vec::new();
    match a.pricing {
        // A fixed price pays the price; the hours are the time logged, and say so.
        PricingKind::Fixed => {
            out.push(format!(
                "Su trabajo en «{task_title}» fue aprobado. Ganó {}, el precio fijo de la tarea.",
                a.amount.to_es_co()
            ));
            out.push(format!(
                "Tiempo registrado (precio fijo): {} ({}).",
                hours_es(a.approved_seconds),
                duration_es(a.approved_seconds)
            ));
        }
        PricingKind::Hourly => {
            out.push(format!(
                "Su trabajo en «{task_title}» fue aprobado por {} ({}). Ganó {}.",
                hours_es(a.approved_seconds),
                duration_es(a.approved_seconds),
                a.amount.to_es_co()
            ));
            let short = a.logged_seconds - a.approved_seconds;
            if short > 0 {
                out.push(format!(
                    "Se aprobaron {} menos de lo que registró: registró {} y se aprobaron {}.",
                    duration_es(short),
                    duration_es(a.logged_seconds),
                    duration_es(a.approved_seconds)
                ));
                out.push(format!(
                    "Motivo de la empresa: {}",
                    a.reason.unwrap_or("no se indicó")
                ));
            }
        }
    }
    out.push("El pago sale en el próximo lote de pagos a su medio de pago registrado.".to_string());
    out
}

pub fn review_outcome(issuer: &Issuer, name: &str, task_title: &str, o: Outcome<'_>) -> Content {
    let (subject, paragraphs) = match o {
        Outcome::Approved(a) => (
            format!("Trabajo aprobado: «{task_title}»"),
            approved_paragraphs(task_title, &a),
        ),
        Outcome::Rejected(sent) => {
            let mut p = vec![format!("La empresa rechazó su trabajo en «{task_title}».")];
            p.extend(sent.why());
            if let Some(due) = sent.held_until {
                p.push(format!(
                    "Esta empresa rechazó muchas entregas a la vez, así que la plataforma revisará \
                     este rechazo antes de que cuente en su historial. Le escribiremos con la \
                     decisión {}.",
                    deadline_es(due)
                ));
            } else if let Some(until) = sent.appeal_until {
                p.push(format!(
                    "Si cree que el rechazo no es justo, puede apelar ante la plataforma (no ante \
                     la empresa) desde la tarea en la aplicación, {}.",
                    deadline_es(until)
                ));
            }
            (format!("Trabajo rechazado: «{task_title}»"), p)
        }
        Outcome::ChangesRequested { sent, by_checks } => {
            let mut p = vec![if by_checks {
                format!(
                    "Las revisiones automáticas encontraron algo por corregir en «{task_title}»."
                )
            } else {
                format!("La empresa pidió cambios en su trabajo en «{task_title}».")
            }];
            p.extend(sent.why());
            p.push("Corríjalo y vuelva a entregarlo antes de que venza su reserva.".to_string());
            (format!("Se pidieron cambios: «{task_title}»"), p)
        }
    };
    compose(issuer, subject, &hello(name), &paragraphs, Need::Essential)
}

pub fn claim_expiring(issuer: &Issuer, name: &str, task_title: &str, expires_at: i64) -> Content {
    compose(
        issuer,
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

pub fn claim_cancelled(issuer: &Issuer, name: &str, task_title: &str) -> Content {
    compose(
        issuer,
        format!("La tarea «{task_title}» fue cancelada"),
        &hello(name),
        &[format!(
            "La empresa canceló la tarea «{task_title}» y su reserva terminó. El trabajo ya \
             aprobado no cambia."
        )],
        Need::Optional,
    )
}

/// To the company's people: a worker appealed one of their decisions to the platform.
pub fn appeal_filed(
    issuer: &Issuer,
    name: &str,
    task_title: &str,
    worker_name: &str,
    kind_es: &str,
    reason: &str,
    due_at: i64,
) -> Content {
    compose(
        issuer,
        format!("Apelación ante la plataforma: «{task_title}»"),
        &hello(name),
        &[
            format!("{worker_name} presentó una {kind_es} en «{task_title}»."),
            format!("Lo que dice: {reason}"),
            format!(
                "Decide el equipo de la plataforma, {}. Le escribiremos con la decisión y sus \
                 razones.",
                deadline_es(due_at)
            ),
        ],
        Need::Essential,
    )
}

/// To the company's people: a rejection was held as part of a mass rejection.
pub fn rejection_held(
    issuer: &Issuer,
    name: &str,
    task_title: &str,
    worker_name: &str,
    due_at: i64,
) -> Content {
    compose(
        issuer,
        format!("Rechazo en revisión de la plataforma: «{task_title}»"),
        &hello(name),
        &[
            format!(
                "Su rechazo del trabajo de {worker_name} en «{task_title}» quedó retenido para \
                 revisión de la plataforma."
            ),
            "Su empresa rechazó más del 30 % de las entregas que decidió hoy o en este lote \
             (al menos cinco). Cuando eso pasa, los rechazos siguientes los revisa la \
             plataforma antes de que cuenten contra las trabajadoras: puede ser un error en la \
             tarea o en las instrucciones."
                .to_string(),
            format!(
                "La plataforma decidirá {}. Si anula el rechazo, el trabajo se aprueba y se \
                 factura como cualquier aprobación.",
                deadline_es(due_at)
            ),
        ],
        Need::Essential,
    )
}

/// The platform's decision on an appeal or a held rejection, to the worker or the company.
pub struct AppealDecision<'a> {
    pub task_title: &'a str,
    /// The kind with its article ("la apelación de un rechazo").
    pub kind_es: &'a str,
    pub overturned: bool,
    pub decision: &'a str,
    /// What the overturn pays the worker, when it does.
    pub paid: Option<Cop>,
    /// The overturn restores hours a company cut (the work was already approved).
    pub restores_hours: bool,
    pub to_worker: bool,
}

pub fn appeal_decided(issuer: &Issuer, name: &str, d: &AppealDecision<'_>) -> Content {
    let title = d.task_title;
    let mut p = vec![if d.overturned {
        format!(
            "La plataforma revisó {} en «{title}» y anuló la decisión de la empresa.",
            d.kind_es
        )
    } else {
        format!(
            "La plataforma revisó {} en «{title}» y mantuvo la decisión de la empresa.",
            d.kind_es
        )
    }];
    p.push(format!("Razones de la plataforma: {}", d.decision));
    match (d.overturned, d.paid, d.to_worker) {
        (true, Some(paid), true) if d.restores_hours => p.push(format!(
            "Se le pagan las horas que la empresa había recortado: {} más, que salen en el \
             próximo lote de pagos.",
            paid.to_es_co()
        )),
        (true, Some(paid), false) if d.restores_hours => p.push(format!(
            "Las horas recortadas se aprueban: {} más de pago a la trabajadora, que se \
             facturan con su próxima factura.",
            paid.to_es_co()
        )),
        (true, Some(paid), true) => p.push(format!(
            "El trabajo queda aprobado: ganó {}, que sale en el próximo lote de pagos.",
            paid.to_es_co()
        )),
        (true, Some(paid), false) => p.push(format!(
            "El trabajo queda aprobado por {} de pago a la trabajadora, que se factura con su \
             próxima factura como cualquier aprobación.",
            paid.to_es_co()
        )),
        _ => {}
    }
    p.push("Esta decisión es final.".to_string());
    let subject = if d.overturned {
        format!("Decisión de la plataforma: anulada — «{title}»")
    } else {
        format!("Decisión de la plataforma: se mantiene — «{title}»")
    };
    compose(issuer, subject, &hello(name), &p, Need::Essential)
}

/// To the worker: the platform's answer to a request about her data, or its extension.
pub fn data_request_update(
    issuer: &Issuer,
    name: &str,
    kind_es: &str,
    answer: Option<&str>,
    extended_to: Option<(i64, &str)>,
) -> Content {
    let (subject, paragraphs) = match (answer, extended_to) {
        (Some(answer), _) => (
            "Respuesta a su solicitud sobre sus datos".to_string(),
            vec![
                format!("Vereda respondió su {kind_es}."),
                format!("Respuesta: {answer}"),
                "Si no está de acuerdo, puede presentar un reclamo ante la Superintendencia de \
                 Industria y Comercio."
                    .to_string(),
            ],
        ),
        (None, Some((due, reason))) => (
            "Su solicitud sobre sus datos tomará unos días más".to_string(),
            vec![
                format!("Necesitamos más tiempo para responder su {kind_es}."),
                format!("Motivo: {reason}"),
                format!("Le responderemos {}.", deadline_es(due)),
            ],
        ),
        (None, None) => (
            "Su solicitud sobre sus datos".to_string(),
            vec![format!("Recibimos su {kind_es}.")],
        ),
    };
    compose(issuer, subject, &hello(name), &paragraphs, Need::Essential)
}

/// To an admin: this morning's ledger audit found checks that do not hold.
pub fn audit_failed(
    issuer: &Issuer,
    name: &str,
    day: chrono::NaiveDate,
    failed: &[&vereda_contracts::ledger::Check],
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
        issuer,
        "Vereda: la revisión de la contabilidad encontró diferencias".to_string(),
        &format!("Hola, {name}:"),
        &paragraphs,
        Need::Essential,
    )
}

/// To an admin: a DIAN numbering resolution needs renewing before numbering stops.
pub fn resolution_warning(issuer: &Issuer, name: &str, warning_es: &str) -> Content {
    compose(
        issuer,
        "Vereda: pida a la DIAN una nueva resolución de numeración".to_string(),
        &format!("Hola, {name}:"),
        &[
            warning_es.to_string(),
            "Cuando la DIAN la expida, regístrela en Vereda (POST /v1/numbering-resolutions): \
             los documentos se numeran con ella desde ese momento. Si el rango se acaba o la \
             resolución vence antes, Vereda no emite documentos de ese tipo."
                .to_string(),
        ],
        Need::Essential,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Issuer {
        Issuer {
            name: "Vereda".into(),
            nit: "900123456-7".into(),
            public_url: "https://vereda.example".into(),
        }
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
    fn an_approval_for_less_says_by_how_much_and_why() {
        let a = Approval {
            pricing: PricingKind::Hourly,
            approved_seconds: 3600,
            logged_seconds: 3600 + 9420,
            amount: Cop::pesos(18_500),
            reason: Some("Una parte fue de pruebas."),
        };
        let c = review_outcome(&settings(), "Luz", "Datos", Outcome::Approved(a));
        assert!(c.text.contains("aprobado por 1 hora (1 h)"), "{}", c.text);
        assert!(
            c.text.contains(
                "Se aprobaron 2 h 37 min menos de lo que registró: registró 3 h 37 min y se \
                 aprobaron 1 h."
            ),
            "{}",
            c.text
        );
        assert!(
            c.text
                .contains("Motivo de la empresa: Una parte fue de pruebas."),
            "{}",
            c.text
        );
        let fixed = Approval {
            pricing: PricingKind::Fixed,
            approved_seconds: 5400,
            logged_seconds: 5400,
            amount: Cop::pesos(120_000),
            reason: None,
        };
        let c = review_outcome(&settings(), "Luz", "Fotos", Outcome::Approved(fixed));
        assert!(
            c.text
                .contains("Tiempo registrado (precio fijo): 1,5 horas (1 h 30 min)."),
            "{}",
            c.text
        );
        assert!(!c.text.contains("menos de lo que registró"));
    }

    #[test]
    fn bogota_times() {
        // 2026-11-28 20:15 UTC is 15:15 in Bogotá.
        assert_eq!(when_es(1_795_896_900), "28 de noviembre de 2026, 15:15");
        // The end of Tuesday 13 January 2026 in Bogotá is the 14th at midnight.
        assert_eq!(
            deadline_es(1_768_366_800),
            "a más tardar el 13 de enero de 2026"
        );
        assert_eq!(
            deadline_es(1_795_896_900),
            "a más tardar el 28 de noviembre de 2026, 15:15"
        );
    }

    #[test]
    fn a_resolution_warning_says_what_to_ask_dian_for_and_where_to_record_it() {
        use vereda_contracts::resolutions::{DocumentKind, Warning};
        let w = Warning::RangeMostlyUsed {
            used: 80,
            size: 100,
            left: 20,
        };
        let m = resolution_warning(&settings(), "Marta", &w.message_es(DocumentKind::Invoice));
        println!("{}\n\n{}", m.subject, m.text);
        assert!(m.subject.contains("nueva resolución de numeración"));
        assert!(m.text.starts_with("Hola, Marta:"));
        assert!(m.text.contains(
            "Se han usado 80 de 100 números autorizados para factura electrónica de venta; quedan 20."
        ));
        assert!(m.text.contains("POST /v1/numbering-resolutions"));
        assert!(m.html.contains("quedan 20"));
    }

    #[test]
    fn fair_work_messages_say_what_happened_why_and_until_when() {
        // The end of Tuesday 13 January 2026 in Bogotá.
        let due = 1_768_366_800;
        let sent = SentBack {
            reason: "Faltan las fechas.",
            code_es: Some("El trabajo está incompleto"),
            criteria: vec!["Fechas en AAAA-MM-DD".into()],
            appeal_until: Some(due),
            ..Default::default()
        };
        let m = review_outcome(&settings(), "Luz", "Fichas", Outcome::Rejected(sent));
        println!("{}\n\n{}", m.subject, m.text);
        assert!(
            m.text
                .contains("Motivo: El trabajo está incompleto. Faltan las fechas.")
        );
        assert!(m.text.contains("no se cumplieron: Fechas en AAAA-MM-DD."));
        assert!(m.text.contains("apelar ante la plataforma"));
        assert!(
            m.text
                .contains("aplicación, a más tardar el 13 de enero de 2026.")
        );
        let held = SentBack {
            reason: "No sirve.",
            held_until: Some(due),
            ..Default::default()
        };
        let m = review_outcome(&settings(), "Luz", "Fichas", Outcome::Rejected(held));
        assert!(
            m.text.contains("la plataforma revisará este rechazo"),
            "{}",
            m.text
        );
        assert!(!m.text.contains("apelar"));
        let m = rejection_held(&settings(), "Marta", "Fichas", "Luz T.", due);
        println!("{}\n\n{}", m.subject, m.text);
        assert!(m.text.contains("más del 30 %") && m.text.contains("Luz T."));
        let m = appeal_filed(
            &settings(),
            "Marta",
            "Fichas",
            "Luz T.",
            "apelación de un rechazo",
            "Seguí la guía.",
            due,
        );
        println!("{}\n\n{}", m.subject, m.text);
        assert!(
            m.text
                .contains("Luz T. presentó una apelación de un rechazo en «Fichas».")
        );
        let d = AppealDecision {
            task_title: "Fichas",
            kind_es: "la apelación de horas recortadas",
            overturned: true,
            decision: "Leer la guía es trabajo.",
            paid: Some(Cop::from_centavos(925_000)),
            restores_hours: true,
            to_worker: true,
        };
        let m = appeal_decided(&settings(), "Luz", &d);
        println!("{}\n\n{}", m.subject, m.text);
        assert!(m.subject.contains("anulada"));
        assert!(m.text.contains("recortado: $ 9.250 más"), "{}", m.text);
        let m = appeal_decided(
            &settings(),
            "Marta",
            &AppealDecision {
                to_worker: false,
                overturned: false,
                paid: None,
                ..d
            },
        );
        assert!(m.subject.contains("se mantiene") && m.text.contains("mantuvo la decisión"));
    }
}
