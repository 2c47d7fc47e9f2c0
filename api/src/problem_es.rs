//! The Spanish sentence of every problem (`detail_es`), chosen from its `code` and `field`: one
//! catalogue, so every client (the web app, a phone, a clerk's script) shows people the same
//! words, and another language can be added beside it. Times are Bogotá's. A handler that
//! knows more (an overlap's times) may give its own sentence instead (`ApiError::detail_es`).

use crate::problem::ApiError;

/// The sentence for `e`: the handler's own when it gave one, else the catalogue's.
pub fn detail_es(e: &ApiError) -> String {
    if let Some(own) = &e.detail_es {
        return own.to_string();
    }
    sentence(e.code, e.field.as_deref(), e.retry_after.map(u64::from)).unwrap_or_else(|| {
        // Only reached by a code missing from the catalogue, which a test forbids.
        "No se pudo completar la solicitud; no se cambió nada.".to_string()
    })
}

/// How a request field reads in a sentence ("el correo electrónico"); unknown ones are
/// quoted as they are.
pub fn field_es(field: &str) -> String {
    let last = field.rsplit('.').next().unwrap_or(field);
    let name = match last {
        "email" | "billing_email" => "el correo electrónico",
        "password" | "new_password" => "la contraseña",
        "current_password" => "la contraseña actual",
        "name" => "el nombre",
        "nit" => "el NIT",
        "phone" => "el número de celular",
        "document_id" => "la cédula",
        "municipality" => "el municipio",
        "department" => "el departamento",
        "skills" | "required_skills" => "las habilidades",
        "payout_method" | "kind" => "el medio de pago",
        "account_number" => "el número de cuenta",
        "bank" => "el banco",
        "title" => "el título",
        "instructions" => "las instrucciones",
        "category" => "la categoría",
        "pricing" => "el pago",
        "rate_per_hour" | "rate" => "la tarifa por hora",
        "price" => "el precio",
        "max_hours" | "estimated_hours" => "las horas",
        "slots" => "los cupos",
        "csv" => "el archivo",
        "template" => "la plantilla",
        "claim_minutes" => "el tiempo para entregar",
        "deadline" => "la fecha límite",
        "review_hours" | "review_business_days" => "el plazo de revisión",
        "reason_code" => "el tipo de motivo",
        "criteria_not_met" => "los criterios no cumplidos",
        "rubric" => "los criterios de la tarea",
        "min_record_percent" => "el historial mínimo",
        "qualification_skill" => "la habilidad que otorga la tarea",
        "allows_changes" => "la ronda de cambios",
        "paid_seconds" => "el tiempo a pagar",
        "decision" => "la decisión",
        "request" => "el tipo de solicitud",
        "detail" => "el detalle de la solicitud",
        "answer" => "la respuesta",
        "outcome" => "el resultado",
        "started_at" => "la hora de inicio",
        "ended_at" => "la hora de fin",
        "note" | "notes" => "la nota",
        "deliverable_url" => "el enlace del trabajo",
        "reason" => "el motivo",
        "approved_seconds" => "el tiempo aprobado",
        "amount" => "el valor",
        "reference" => "la referencia",
        "month" => "el mes",
        "cursor" => "la posición de la lista",
        "limit" => "el tamaño de la página",
        "token" => "el enlace",
        "client_id" => "el identificador del registro",
        "entries" => "los registros",
        "role" | "member_role" => "el rol",
        "label" => "el nombre para mostrar",
        "groups" => "los grupos del programa",
        "baseline_monthly_income" => "el ingreso mensual de su hogar antes de Vereda",
        "policy_version" | "text_hash" => "el texto de la autorización",
        "code" => "el código",
        "by" => "el desglose",
        "format" => "el formato",
        "from" => "el mes inicial",
        "to" => "el mes final",
        "id" => "el identificador",
        _ => return format!("el campo «{field}»"),
    };
    name.to_string()
}

fn minutes(secs: u64) -> u64 {
    secs.div_ceil(60).max(1)
}

/// The catalogue: `None` for a code it does not know.
pub fn sentence(code: &str, field: Option<&str>, retry_after: Option<u64>) -> Option<String> {
    let f = field.map(field_es);
    let s = match code {
        // Requests and sessions
        "malformed_request" => match &f {
            Some(f) => format!("La solicitud no se entendió: revise {f}."),
            None => "La solicitud no se entendió: los datos enviados están mal formados.".into(),
        },
        "validation_failed" => match &f {
            Some(f) => format!("Revise {f}: el dato no es válido."),
            None => "Revise los datos: alguno no es válido.".into(),
        },
        "invalid_parameter" => match &f {
            Some(f) => format!("Revise {f}: el valor no es válido."),
            None => "Un dato de la dirección no es válido.".into(),
        },
        "unsupported_media_type" => "Lo enviado no tiene el formato esperado.".into(),
        "payload_too_large" => "Lo que envió es demasiado grande.".into(),
        "method_not_allowed" => "Esa operación no existe aquí.".into(),
        "not_found" => "No encontramos lo que busca, o no le pertenece.".into(),
        "unauthenticated" => "Su sesión terminó o no ha ingresado; ingrese de nuevo.".into(),
        "invalid_credentials" => "El correo o la contraseña no son correctos.".into(),
        "wrong_password" => "La contraseña actual no es correcta.".into(),
        "too_many_attempts" => match retry_after {
            Some(secs) => format!(
                "Demasiados intentos. Espere {} minutos y vuelva a intentarlo.",
                minutes(secs)
            ),
            None => "Demasiados intentos. Espere unos minutos y vuelva a intentarlo.".into(),
        },
        "forbidden" => "Su cuenta no tiene permiso para hacer esto.".into(),
        "csrf_refused" => "Por seguridad no se aceptó esta solicitud porque no vino de la \
                           aplicación de Vereda; no se cambió nada. Recargue la página e intente \
                           de nuevo."
            .into(),
        "reset_token_invalid" => "El enlace para crear la contraseña no sirve: ya se usó, venció \
                                  o está incompleto. Pida uno nuevo."
            .into(),
        "busy" => "El servidor está atendiendo demasiadas solicitudes a la vez; no se cambió \
                   nada. Intente de nuevo en unos segundos."
            .into(),
        "contention" => "Otra operación usaba los mismos datos al mismo tiempo y no se cambió \
                         nada; intente de nuevo en un momento."
            .into(),
        "database_unavailable" => "El servicio no está disponible en este momento; no se \
                                   cambió nada. Intente de nuevo en unos minutos."
            .into(),
        "internal_error" => "Algo falló de nuestro lado; no se cambió nada. Intente de nuevo \
                             más tarde."
            .into(),
        "idempotency_key_in_use" => "Una solicitud igual todavía se está procesando; espere un \
                                     momento y consulte de nuevo."
            .into(),
        "idempotency_key_reused" => "Esa clave de idempotencia ya se usó con otra solicitud \
                                     distinta."
            .into(),
        "state_changed" => "Esto cambió mientras tanto; recargue e intente de nuevo.".into(),

        // Accounts and companies
        "email_taken" => "Ya existe una cuenta con ese correo electrónico.".into(),
        "nit_taken" => "Ya hay una empresa registrada con ese NIT.".into(),
        "last_admin" => {
            "No se puede: la plataforma quedaría sin ningún administrador activo.".into()
        }
        "last_owner" => "No se puede: la empresa quedaría sin propietario activo.".into(),

        // Tasks and claims
        "below_minimum_wage" => "El pago por hora queda por debajo del salario mínimo legal \
                                 por hora; súbalo."
            .into(),
        "not_a_draft" => "Eso solo se puede hacer con una tarea en borrador.".into(),
        "already_cancelled" => "El lote ya está cancelado; no se cambió nada.".into(),
        "task_published" => match field {
            Some("slots") => "La tarea ya está publicada: los cupos se pueden aumentar, no \
                              disminuir."
                .into(),
            Some("deadline") => "La tarea ya está publicada: la fecha límite se puede \
                                 aplazar, no adelantar."
                .into(),
            Some("claim_minutes") => "La tarea ya está publicada: el tiempo para entregar se \
                                      puede ampliar, no reducir."
                .into(),
            Some("pricing") => "La tarea ya está publicada: el pago puede subir, pero no \
                                bajar ni cambiar de tipo."
                .into(),
            _ => "La tarea ya está publicada y eso ya no se puede cambiar.".into(),
        },
        "task_finished" => "La tarea ya terminó: está cerrada o cancelada.".into(),
        "deadline_passed" => "La fecha límite de esta tarea ya pasó.".into(),
        "task_not_open" => "Esta tarea no está abierta para tomar cupos.".into(),
        "task_full" => "Otra persona tomó el último cupo de esta tarea. Busque otra en Tareas \
                        disponibles."
            .into(),
        "already_claimed" => "Usted ya tiene un cupo en esta tarea.".into(),
        "record_below_minimum" => "Esta tarea pide un historial con más trabajos aprobados \
                                   entre sus últimas 25 entregas decididas que el suyo."
            .into(),
        // Consent to sensitive data
        "policy_changed" | "policy_text_mismatch" => "El texto de la autorización cambió; \
                                                     léalo de nuevo y vuelva a responder."
            .into(),
        "baseline_out_of_range" => "El ingreso mensual debe ser una cifra en pesos, sin \
                                    centavos, de 0 a $ 50.000.000."
            .into(),
        "unknown_group" => "Ese grupo no es un grupo del programa vigente.".into(),
        "nothing_given" => "Indique su ingreso antes de Vereda, al menos un grupo, o ambos.".into(),
        "no_consent" => "No hay una autorización que retirar.".into(),
        // Fair work: rework rounds and appeals
        "not_appealable" => "Solo se puede apelar un rechazo o una aprobación con menos horas \
                             de las registradas."
            .into(),
        "already_appealed" => "Esta decisión ya fue apelada; la decisión de la plataforma es \
                               final."
            .into(),
        "appeal_too_late" => "Ya pasó el plazo para apelar (15 días hábiles desde la decisión)."
            .into(),
        "already_decided" => "Esta apelación ya fue decidida.".into(),
        // Requests about personal data (Ley 1581)
        "request_answered" => "Esta solicitud ya fue respondida.".into(),
        "request_extended" => "El plazo de esta solicitud ya se prorrogó una vez; la ley permite \
                               una sola prórroga."
            .into(),
        "deletion_blocked" => "Todavía no podemos suprimir sus datos: tiene trabajo o dinero \
                               pendiente con Vereda; no se cambió nada."
            .into(),
        "worker_anonymised" => "Los datos personales de esta persona ya se suprimieron: su \
                                perfil y su cuenta no se pueden cambiar ni reactivar."
            .into(),
        "missing_skill" => {
            "Esta tarea pide habilidades que usted todavía no tiene registradas.".into()
        }
        "too_many_active" => "Ya tiene el máximo de tareas tomadas a la vez: entregue o \
                              devuelva una antes de tomar otra."
            .into(),
        "claim_expired" => "El tiempo para esta tarea venció y el cupo se liberó.".into(),
        "not_extendable" => "Esta tarea ya no tiene un plazo que se pueda ampliar.".into(),
        "not_releasable" => "Esta tarea ya no se puede devolver.".into(),
        "not_submittable" => "Esta tarea no se puede entregar en su estado actual.".into(),
        "not_reviewable" => "Este trabajo no está esperando revisión.".into(),
        "verification_pending" => "El trabajo todavía se está verificando; espere un momento \
                                   e intente de nuevo."
            .into(),
        "deliverable_missing" => "Falta el enlace del trabajo: esta tarea lo pide para \
                                  entregar."
            .into(),
        "no_time_logged" => "No hay tiempo registrado en esta tarea por horas: registre el \
                             tiempo que trabajó y vuelva a entregar."
            .into(),
        "zero_approval" => "Aprobar 0 segundos equivale a rechazar el trabajo: recházelo con \
                            un motivo que la persona pueda leer."
            .into(),
        "nothing_to_approve" => "No hay tiempo registrado que aprobar: rechace el trabajo con un \
                                 motivo o pida cambios."
            .into(),
        "fixed_price_seconds" => "En una tarea de precio fijo se paga el precio completo: no \
                                  indique el tiempo aprobado."
            .into(),

        // Time
        "assignment_not_active" => "Solo se registra tiempo en una tarea tomada o con cambios \
                                    pedidos."
            .into(),
        "entry_locked" => "Este registro de tiempo ya no se puede cambiar: el trabajo ya se \
                           entregó o se revisó."
            .into(),
        "end_not_after_start" => "El registro debe terminar después de empezar.".into(),
        "entry_in_future" => "El registro no puede terminar en el futuro; revise la hora de su \
                              teléfono."
            .into(),
        "rework_first" => "La primera decisión sobre esta entrega debe ser pedir cambios: \
             quien la hizo tiene una ronda para corregirla antes de cualquier rechazo."
            .into(),
        // Numbering resolutions (DIAN)
        "invalid_resolution" => match &f {
            Some(f) => format!("Revise {f} de la resolución de numeración."),
            None => "Revise la resolución de numeración: algún dato no es válido.".into(),
        },
        "resolution_not_in_force" => {
            "La resolución de numeración aún no está vigente; no se emitió nada.".into()
        }
        "resolution_expired" => {
            "La resolución de numeración venció; registre la nueva que autorice la DIAN.".into()
        }
        "range_exhausted" => {
            "Se acabó el rango de numeración autorizado; registre el nuevo rango que autorice la DIAN."
                .into()
        }
        // Electronic documents (DIAN)
        "no_electronic_document" => "Este documento se emitió sin resolución de numeración de \
                                     la DIAN: no tiene documento electrónico; el PDF es su \
                                     representación."
            .into(),
        "document_not_delivered" => "El documento aún no se ha entregado al proveedor: no hay \
                                     respuesta de la DIAN que registrar."
            .into(),
        "document_already_answered" => "El documento ya tiene respuesta de la DIAN; un rechazo \
                                        se corrige con un documento nuevo."
            .into(),
        "rejection_reason_missing" => "Escriba el motivo del rechazo que dio la DIAN.".into(),
        "rejection_reason_too_long" => "El motivo del rechazo es demasiado largo.".into(),
        "entry_too_old" => "El registro empieza hace demasiado tiempo para registrarlo ya.".into(),
        "entry_overlaps" => "Este registro se cruza con otro tiempo suyo ya registrado.".into(),
        "over_task_cap" => "Con este registro la tarea pasaría su máximo de horas.".into(),
        "over_daily_limit" => {
            "Con este registro pasaría el límite de horas de trabajo por día.".into()
        }
        "timer_running" => "Hay un cronómetro en marcha; deténgalo primero.".into(),
        "timer_not_running" => "No hay un cronómetro en marcha.".into(),

        // A bank confirmation file's rows (shown in the run's report) and payout batches
        "unreadable_file" => "No se pudo leer el archivo: revise que sea un CSV válido.".into(),
        "missing_columns" => {
            "Al archivo le faltan columnas: se esperan reference, amount y status.".into()
        }
        "unknown_status" => "El estado debe ser paid (pagado) o failed (fallido).".into(),
        "invalid_amount" => {
            "Revise el monto: debe ser un valor en pesos enteros, sin puntos ni comas.".into()
        }
        "payout_held" => "El medio de pago cambió hace menos de un día: el pago entra en el \
                          primer lote después de ese plazo."
            .into(),
        "below_minimum_payout" => "El saldo es menor que el pago mínimo: se acumula para un \
                                   próximo lote."
            .into(),
        // Task batches: the template and the spreadsheet
        "empty_file" => "El archivo está vacío: la primera fila debe nombrar las columnas.".into(),
        "bad_header" => "Revise el encabezado: cada columna necesita un nombre distinto.".into(),
        "too_many_rows" => {
            "El archivo tiene demasiadas filas: divídalo en lotes más pequeños.".into()
        }
        "unknown_placeholder" => "La plantilla usa una columna que el archivo no tiene.".into(),
        "not_failed" => "Solo se puede reintentar un correo que falló.".into(),
        "no_readable_row" => {
            "Ninguna fila del archivo de confirmación se pudo leer; no se aplicó nada.".into()
        }
        "invalid_row" => "Hay filas con errores: corríjalas y suba el archivo otra vez.".into(),
        // Cohorts: places (DANE's DIVIPOLA), the skills catalogue, accounts
        "unknown_department" => "Ese departamento no está en la lista del DANE (DIVIPOLA): \
                                 revise cómo está escrito."
            .into(),
        "unknown_municipality" => "Ese municipio no está en la lista del DANE (DIVIPOLA) para \
                                   ese departamento: revise cómo está escrito."
            .into(),
        "unknown_skill" => "Esa habilidad no está en el catálogo: revise cómo está escrita, o \
                            pida al equipo del programa que la agregue."
            .into(),
        "member_removed" => "Su empresa retiró a esta persona: no se reactiva; la empresa puede \
                             agregarla de nuevo."
            .into(),
        // Money
        "duplicate_payment_reference" => "Ya hay un pago registrado con esa referencia en esta \
                                          factura."
            .into(),
        "overpayment" | "exceeds_outstanding" => {
            "El valor supera el saldo pendiente de la factura.".into()
        }
        "over_credit" => {
            "La nota crédito supera lo que aún se puede acreditar de la factura.".into()
        }
        "already_reversed" => "Ese pago ya fue reversado; no se cambió nada.".into(),
        "not_a_weekly_document" => "Solo se anula un documento soporte semanal; una nota de \
                                    ajuste o un documento mensual no se anulan."
            .into(),
        "already_annulled" => "Ese documento soporte ya fue anulado; no se cambió nada.".into(),
        "worker_erased" => "Los datos personales de esta persona fueron suprimidos: sus \
                            documentos quedan como se expidieron y no se anulan ni se vuelven \
                            a expedir."
            .into(),
        "credit_note_not_issued" => "La nota crédito aún se está numerando; intente de nuevo en \
                                     unos segundos."
            .into(),
        "batch_building" => "El lote de pagos todavía se está preparando; intente de nuevo en \
                             un momento."
            .into(),
        _ => return None,
    };
    Some(s)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    /// Every `&'static str` code the API can answer with, read from the sources: codes given
    /// to `ApiError` (`rule`, `conflict`, `new`, `e.code = …`) in api/src and the rule codes
    /// of the pure core (`fn code` in contracts/src).
    fn codes_in_the_sources() -> BTreeSet<String> {
        fn literal_after(s: &str, start: usize) -> Option<String> {
            let rest = s[start..].trim_start();
            let rest = rest.strip_prefix('"')?;
            let end = rest.find('"')?;
            let lit = &rest[..end];
            (!lit.is_empty() && lit.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
                .then(|| lit.to_string())
        }
        fn rs_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    rs_files(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut codes = BTreeSet::new();

        let mut files = Vec::new();
        rs_files(&root.join("src"), &mut files);
        assert!(files.len() > 10);
        for file in files {
            let s = std::fs::read_to_string(&file).unwrap();
            for needle in [
                "ApiError::rule(",
                "ApiError::conflict(",
                ".code = ",
                "code: ",
            ] {
                for (i, _) in s.match_indices(needle) {
                    if let Some(code) = literal_after(&s, i + needle.len()) {
                        codes.insert(code);
                    }
                }
            }
            // `Self::new(StatusCode::X, <code>, …)` / `ApiError::new(status, <code>, …)`.
            for needle in ["Self::new(", "ApiError::new("] {
                for (i, _) in s.match_indices(needle) {
                    let args = &s[i + needle.len()..];
                    if let Some(comma) = args.find(',')
                        && let Some(code) = literal_after(args, comma + 1)
                    {
                        codes.insert(code);
                    }
                }
            }
        }

        let mut files = Vec::new();
        rs_files(&root.join("../contracts/src"), &mut files);
        for file in files {
            let s = std::fs::read_to_string(&file).unwrap();
            for (i, _) in s.match_indices("fn code(") {
                let body = &s[i..];
                let body = &body[..body.find("\n    }\n").unwrap_or(body.len())];
                for (j, _) in body.match_indices("=> ") {
                    if let Some(code) = literal_after(body, j + 3) {
                        codes.insert(code);
                    }
                }
            }
        }
        codes
    }

    #[test]
    fn every_code_the_api_answers_with_has_a_spanish_sentence() {
        let codes = codes_in_the_sources();
        // The scan finds the codes it should (it is not silently finding nothing).
        for known in [
            "validation_failed",
            "task_full",
            "entry_overlaps",
            "no_time_logged",
            "entry_too_old",
            "csrf_refused",
            "busy",
        ] {
            assert!(codes.contains(known), "the scan missed {known}: {codes:?}");
        }
        let missing: Vec<&String> = codes
            .iter()
            .filter(|c| sentence(c, None, None).is_none())
            .collect();
        assert!(missing.is_empty(), "codes without detail_es: {missing:?}");
    }

    #[test]
    fn the_sentences_are_spanish() {
        let english = [
            " the ", " is ", " must ", " your ", " not ", " try ", " please ", " field ",
        ];
        for code in codes_in_the_sources() {
            for field in [None, Some("email"), Some("owner.email"), Some("slots")] {
                let s = sentence(&code, field, Some(90)).unwrap();
                let padded = format!(" {} ", s.to_lowercase());
                for word in english {
                    assert!(!padded.contains(word), "{code}: English in {s:?}");
                }
                assert!(s.ends_with('.'), "{code}: {s:?}");
            }
        }
        assert_eq!(
            sentence("too_many_attempts", None, Some(61)).unwrap(),
            "Demasiados intentos. Espere 2 minutos y vuelva a intentarlo."
        );
        assert_eq!(
            sentence("validation_failed", Some("owner.email"), None).unwrap(),
            "Revise el correo electrónico: el dato no es válido."
        );
    }
}
