//! Cohorts and accounts (issue 18 §1, the API): programme staff import a cohort of graduates
//! from a spreadsheet, checked whole (places against DANE's DIVIPOLA, skills against the
//! catalogue staff keep) before anything is created, each graduate then invited by e-mail
//! through a real SMTP server; the same payout phone on two workers is flagged to staff; an
//! account is deactivated (its open claims released, its money and history kept) and
//! reactivated.

use std::time::Duration;

use serde_json::{Value, json};
use vereda_store::config::Settings;
use vereda_store::on_db;
use vereda_tests::smtp::{Received, SmtpServer};
use vereda_tests::*;

async fn app_with_smtp() -> (TestApp, SmtpServer, Settings) {
    vereda_tests::spawn_app_with_smtp_at("https://vereda.example").await
}

fn subject(m: &Received) -> String {
    m.parsed().subject().unwrap_or_default().to_string()
}

/// Invitations received so far (web_staff.rs reads them too).
pub(crate) fn invitations(smtp: &SmtpServer) -> Vec<Received> {
    smtp.messages()
        .into_iter()
        .filter(|m| subject(m).ends_with("creó su cuenta en Vereda"))
        .collect()
}

/// Tolima's towns a cohort comes from (web_staff.rs's cohorts too).
pub(crate) const TOWNS: [&str; 6] = [
    "Chaparral",
    "Ataco",
    "Planadas",
    "Rioblanco",
    "Coyaima",
    "Natagaima",
];

/// A cohort as Excel in Spanish saves it: BOM, semicolons, CRLF, Spanish headers. Row `i`
/// (line `i + 2`) is `graduada-i`; rows 4 and 5 are paid to the same Nequi phone; `typo`
/// puts `Chaparal` on that row.
fn cohort(rows: usize, typo: Option<usize>) -> String {
    let mut out = String::from(
        "\u{feff}nombre;correo;cedula;celular;municipio;departamento;habilidades;medio_pago;\
         grupo\r\n",
    );
    for i in 0..rows {
        let town = if typo == Some(i) {
            "Chaparal"
        } else {
            TOWNS[i % TOWNS.len()]
        };
        let phone = if i == 5 {
            3_100_000_004
        } else {
            3_100_000_000 + i
        };
        let group = ["joven", "mujer cabeza de hogar", ""][i % 3];
        out.push_str(&format!(
            "Graduada {i} Pérez;graduada-{i}@correo.test;{};{phone};{town};TOLIMA;\
             data-entry|labelling;Nequi;{group}\r\n",
            52_000_000 + i
        ));
    }
    out
}

async fn import(app: &TestApp, token: &str, csv: &str, key: Option<&str>) -> Resp {
    let mut req = app
        .client
        .post(app.url("/v1/workers/import"))
        .header("content-type", "text/csv")
        .bearer_auth(token)
        .body(csv.to_string());
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    app.send(req).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> Resp {
    app.send(app.client.delete(app.url(path)).bearer_auth(token))
        .await
}

async fn worker_count(app: &TestApp) -> i64 {
    on_db!(&app.db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM worker_profiles"
    )
    .fetch_one(p)
    .await
    .unwrap())
}

async fn outbox_count(app: &TestApp) -> i64 {
    on_db!(&app.db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox_messages"
    )
    .fetch_one(p)
    .await
    .unwrap())
}

#[tokio::test]
async fn a_cohort_with_one_bad_municipality_creates_nothing_and_the_fixed_file_invites_thirty() {
    let (app, smtp, _) = app_with_smtp().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let outbox_before = outbox_count(&app).await;

    // One typo in 30 rows: the file is refused whole, naming the row and column in Spanish.
    let r = import(&app, &admin, &cohort(30, Some(12)), None).await;
    r.problem(422);
    assert_eq!(r.code(), "invalid_row");
    assert_eq!(r.field(), "csv");
    let errors = r.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["line"], 14);
    assert_eq!(errors[0]["column"], "municipio");
    assert_eq!(
        errors[0]["detail_es"],
        "Fila 14, columna «municipio»: «Chaparal» no es un municipio de Tolima según el DANE; \
         ¿quiso decir «Chaparral»?"
    );
    let detail = r.body["detail_es"].as_str().unwrap();
    assert!(
        detail.starts_with("El archivo tiene 1 fila con errores; no se creó ninguna cuenta."),
        "{detail}"
    );
    assert_eq!(worker_count(&app).await, 0, "nothing created");
    assert_eq!(outbox_count(&app).await, outbox_before, "nobody invited");

    // The corrected file: 30 workers, places as DANE names them, with their codes.
    let fixed = cohort(30, None);
    let r = import(&app, &admin, &fixed, Some("cohorte-2026-1")).await;
    let answer = r.ok(201).clone();
    assert_eq!(answer["created"], 30);
    let workers = answer["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 30);
    assert_eq!(workers[0]["line"], 2);
    assert_eq!(workers[0]["municipality"], "Chaparral");
    assert_eq!(workers[0]["municipality_code"], "73168");
    assert_eq!(workers[0]["department"], "Tolima");
    assert_eq!(workers[0]["department_code"], "73");
    assert_eq!(worker_count(&app).await, 30);

    // Rows 4 and 5 (lines 6 and 7) share a Nequi phone: flagged, both ways.
    let dup = answer["duplicate_payout"].as_array().unwrap();
    assert_eq!(dup.len(), 2, "{dup:?}");
    assert_eq!(dup[0]["line"], 6);
    assert_eq!(dup[0]["shared_with"][0]["line"], 7);
    assert_eq!(dup[1]["line"], 7);
    let first = dup[0]["worker_id"].as_str().unwrap();
    let second = dup[1]["worker_id"].as_str().unwrap();
    assert_eq!(dup[0]["shared_with"][0]["worker_id"], second);
    // Staff see it on the worker too; the worker's profile is as imported.
    let seen = app
        .get(&format!("/v1/workers/{first}"), Some(&finance))
        .await;
    let seen = seen.ok(200);
    assert_eq!(seen["duplicate_payout"][0]["worker_id"], second);
    assert_eq!(seen["duplicate_payout"][0]["name"], "Graduada 5 Pérez");
    assert_eq!(seen["payout_method"]["phone"], "3100000004");
    assert_eq!(seen["document_id"], "52000004");
    assert_eq!(seen["skills"], json!(["data-entry", "labelling"]));
    // Her group is sensitive: not on the profile finance reads, but under her consent, given
    // through the admin who imported the file (who is named).
    assert!(seen.get("programme_group").is_none(), "{seen}");
    let consent = app
        .get(&format!("/v1/workers/{first}/consent"), Some(&admin))
        .await;
    let consent = consent.ok(200);
    assert_eq!(consent["groups"], json!(["woman_head_of_household"]));
    assert_eq!(consent["consenting"], true);
    assert_eq!(consent["history"][0]["channel"], "assisted");
    assert!(consent["history"][0]["helped_by"].is_string(), "{consent}");
    let lone = workers[0]["id"].as_str().unwrap();
    let seen = app.get(&format!("/v1/workers/{lone}"), Some(&admin)).await;
    assert_eq!(seen.ok(200)["duplicate_payout"], json!([]));

    // Thirty invitations reach the SMTP server, one to each graduate.
    let arrived = eventually(Duration::from_secs(120), || async {
        let got = invitations(&smtp);
        (got.len() >= 30).then_some(got)
    })
    .await
    .unwrap_or_else(|| panic!("{} of 30 invitations arrived", invitations(&smtp).len()));
    let mut to: Vec<String> = arrived.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 30);
    assert!(to.contains(&"graduada-29@correo.test".to_string()));
    // One of them chooses her password from the link and signs in.
    let m = arrived
        .iter()
        .find(|m| m.to.iter().any(|t| t == "graduada-7@correo.test"))
        .unwrap();
    let text = m.parsed().body_text(0).unwrap_or_default().to_string();
    assert!(text.contains("Hola, Graduada 7 Pérez:"), "{text}");
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("https://vereda.example/#/contrasena?token="))
        .unwrap_or_else(|| panic!("no link in {text}"));
    assert!(link.ends_with("&invitacion=1"), "{link}");
    let token = link["https://vereda.example/#/contrasena?token=".len()..]
        .split('&')
        .next()
        .unwrap();
    let r = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            json!({"token": token, "password": "mi-clave-de-la-cohorte"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let luz = app
        .login("graduada-7@correo.test", "mi-clave-de-la-cohorte")
        .await;
    assert_eq!(
        app.get("/v1/me", Some(&luz)).await.ok(200)["role"],
        "worker"
    );

    // The same upload again with its key answers the first response and creates nothing.
    let again = import(&app, &admin, &fixed, Some("cohorte-2026-1")).await;
    assert_eq!(again.ok(201), &answer);
    assert_eq!(worker_count(&app).await, 30);
    // Without it, every row is refused: their e-mails have accounts now.
    let r = import(&app, &admin, &fixed, None).await;
    r.problem(422);
    let errors = r.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 30);
    assert_eq!(errors[0]["column"], "correo");
    assert_eq!(
        errors[0]["detail_es"],
        "Fila 2, columna «correo»: ya hay una cuenta con el correo «graduada-0@correo.test»."
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(invitations(&smtp).len(), 30, "no invitation twice");
}

#[tokio::test]
async fn every_bad_row_is_named_and_only_admin_imports() {
    let app = spawn_app_without_worker().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Tienda").await;
    let (_, worker) = app.worker(&admin, &["labelling"]).await;
    let taken = app.get("/v1/me", Some(&worker)).await.ok(200)["email"]
        .as_str()
        .unwrap()
        .to_string();

    let file = "name,email,phone,municipality,department,skills,payout_kind,payout_bank,\
                payout_account_type,payout_account_number\n\
                Ana,ana@correo.test,3001112233,Ibagué,Tolima,labeling,nequi,,,\n\
                Eva,eva@correo.test,3001112234,Ibagué,Tolima,data-entry,banco,Bancolombia,,12\n\
                Sol,ana@correo.test,3001112235,Pitalito,Tolima,,daviplata,,,\n";
    let before = worker_count(&app).await;
    let r = import(&app, &admin, file, None).await;
    r.problem(422);
    let errors = r.body["errors"].as_array().unwrap();
    let found: Vec<(i64, &str)> = errors
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            (2, "skills"),
            (3, "payout_account_type"),
            (3, "payout_account_number"),
            (4, "municipality"),
            (4, "email"),
        ]
    );
    assert!(
        errors[0]["detail_es"]
            .as_str()
            .unwrap()
            .ends_with("¿quiso decir «labelling»?"),
        "{}",
        errors[0]
    );
    // Pitalito is in Huila: said so.
    assert!(
        errors[3]["detail_es"]
            .as_str()
            .unwrap()
            .contains("hay un municipio con ese nombre en «Huila»"),
        "{}",
        errors[3]
    );
    assert!(
        r.body["detail_es"]
            .as_str()
            .unwrap()
            .starts_with("El archivo tiene 3 filas con errores"),
        "{}",
        r.body["detail_es"]
    );
    assert_eq!(worker_count(&app).await, before);

    // A header it does not know is refused before any row.
    let r = import(
        &app,
        &admin,
        "nombre,correo,municipio,departamento,medio_pago,telefon\n",
        None,
    )
    .await;
    r.problem(422);
    assert_eq!(r.code(), "bad_header");
    assert!(
        r.body["detail_es"]
            .as_str()
            .unwrap()
            .starts_with("La columna «telefon» no es de la importación"),
        "{}",
        r.body["detail_es"]
    );

    // An e-mail already on file refuses its row.
    let one = format!(
        "nombre;correo;municipio;departamento;medio_pago;celular\nLuz;{taken};Ataco;Tolima;nequi;\
         3109998877\n"
    );
    let r = import(&app, &admin, &one, None).await;
    r.problem(422);
    assert_eq!(r.body["errors"][0]["column"], "correo");

    // Only admin imports.
    for token in [&finance, &owner, &worker] {
        import(&app, token, &one, None).await.problem(403);
    }
    app.post_raw("/v1/workers/import", None, "text/csv", one.into_bytes())
        .await
        .problem(401);
}

#[tokio::test]
async fn skills_come_from_the_catalogue_staff_keep() {
    let app = spawn_app_without_worker().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (_, owner) = app.company(&admin, "Tienda").await;
    let (worker_id, worker) = app.worker(&admin, &["labelling"]).await;

    // Everyone signed in reads the catalogue, seeded with the skills in use.
    let list = app.get("/v1/skills", Some(&worker)).await;
    let names: Vec<&str> = list.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for seeded in [
        "customer-support",
        "data-cleaning",
        "data-entry",
        "labelling",
    ] {
        assert!(names.contains(&seeded), "{names:?}");
    }
    assert_eq!(list.body["items"][0]["label"], "Moderación de contenido");
    app.get("/v1/skills", None).await.problem(401);

    // A typo is refused with the nearest names; nothing near: the catalogue is listed.
    let worker_body = |skills: Value| {
        json!({"name": "Ana", "email": format!("ana-{}@correo.test", short_id()),
               "password": PASSWORD, "municipality": "Chaparral", "department": "Tolima",
               "skills": skills, "payout_method": {"kind": "nequi", "phone": "3001234567"}})
    };
    let r = app
        .post(
            "/v1/workers",
            Some(&admin),
            worker_body(json!(["data-entry", "labeling"])),
        )
        .await;
    r.problem(422);
    assert_eq!(r.code(), "unknown_skill");
    assert_eq!(r.field(), "skills[1]");
    assert_eq!(
        r.body["detail_es"],
        "«labeling» no está en el catálogo de habilidades; ¿quiso decir «labelling»?"
    );
    let r = app
        .post(
            "/v1/workers",
            Some(&admin),
            worker_body(json!(["excel-avanzado"])),
        )
        .await;
    r.problem(422);
    assert!(
        r.body["detail_es"]
            .as_str()
            .unwrap()
            .contains("las del catálogo son «content-moderation», «customer-support»"),
        "{}",
        r.body["detail_es"]
    );
    let path = format!("/v1/workers/{worker_id}");
    let r = app
        .patch(&path, Some(&admin), json!({"skills": ["sql", "qa-testin"]}))
        .await;
    r.problem(422);
    assert_eq!(r.field(), "skills[1]");
    // A task's required skills too.
    let mut task = json!({
        "title": "Etiquetar", "instructions": "Según la guía.", "category": "labelling",
        "required_skills": ["labeling"],
        "pricing": {"kind": "fixed", "price": "120000", "estimated_hours": "4"},
        "slots": 3, "claim_minutes": 600, "review_hours": 72
    });
    let r = app.post("/v1/tasks", Some(&owner), task.clone()).await;
    r.problem(422);
    assert_eq!(r.code(), "unknown_skill");
    assert_eq!(r.field(), "required_skills");
    assert!(
        r.body["detail_es"]
            .as_str()
            .unwrap()
            .ends_with("¿quiso decir «labelling»?")
    );

    // Admin adds a skill; it is offered at once; adding it again changes its label.
    let r = app
        .post(
            "/v1/skills",
            Some(&admin),
            json!({"name": "excel", "label": "Hojas de cálculo"}),
        )
        .await;
    assert_eq!(r.ok(201)["active"], true);
    let r = app
        .post(
            "/v1/skills",
            Some(&admin),
            json!({"name": "excel", "label": "Hojas de cálculo (Excel)"}),
        )
        .await;
    assert_eq!(r.ok(200)["label"], "Hojas de cálculo (Excel)");
    let r = app
        .post("/v1/workers", Some(&admin), worker_body(json!(["excel"])))
        .await;
    let with_excel = r.ok(201)["id"].as_str().unwrap().to_string();
    task["required_skills"] = json!(["excel"]);
    app.post("/v1/tasks", Some(&owner), task.clone())
        .await
        .ok(201);
    // Only admin keeps the catalogue.
    let new = json!({"name": "python", "label": "Python"});
    for token in [&finance, &owner, &worker] {
        app.post("/v1/skills", Some(token), new.clone())
            .await
            .problem(403);
        delete(&app, "/v1/skills/excel", token).await.problem(403);
    }
    let r = app
        .post(
            "/v1/skills",
            Some(&admin),
            json!({"name": "Excel Avanzado!", "label": "x"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "name");

    // Retired: kept where it is, refused on new workers and tasks, listed only on request.
    let r = delete(&app, "/v1/skills/excel", &admin).await;
    assert_eq!(r.status, 204, "{}", r.text);
    delete(&app, "/v1/skills/no-such-skill", &admin)
        .await
        .problem(404);
    let active = app.get("/v1/skills", Some(&worker)).await;
    assert!(
        !active.ok(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "excel")
    );
    let all = app
        .get("/v1/skills?include_retired=true", Some(&admin))
        .await;
    let excel = all.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "excel")
        .cloned()
        .unwrap();
    assert_eq!(excel["active"], false);
    app.post("/v1/workers", Some(&admin), worker_body(json!(["excel"])))
        .await
        .problem(422);
    app.post("/v1/tasks", Some(&owner), task).await.problem(422);
    let kept = app
        .get(&format!("/v1/workers/{with_excel}"), Some(&admin))
        .await;
    assert_eq!(kept.ok(200)["skills"], json!(["excel"]));
}

#[tokio::test]
async fn places_are_danes_with_their_codes() {
    let app = spawn_app_without_worker().await;
    let admin = app.admin_token().await;
    let body = |municipality: &str, department: &str| {
        json!({"name": "Luz", "email": format!("luz-{}@correo.test", short_id()),
               "password": PASSWORD, "municipality": municipality, "department": department,
               "skills": ["data-entry"], "payout_method": {"kind": "nequi", "phone": "3001234567"}})
    };
    let r = app
        .post("/v1/workers", Some(&admin), body("Chaparal", "Tolima"))
        .await;
    r.problem(422);
    assert_eq!(r.code(), "unknown_municipality");
    assert_eq!(r.field(), "municipality");
    assert_eq!(
        r.body["detail_es"],
        "«Chaparal» no es un municipio de Tolima según el DANE; ¿quiso decir «Chaparral»?"
    );
    let r = app
        .post(
            "/v1/workers",
            Some(&admin),
            body("Chaparral", "Tolimá del Sur"),
        )
        .await;
    r.problem(422);
    assert_eq!(r.code(), "unknown_department");
    assert_eq!(r.field(), "department");

    // Any case and accents; stored as DANE names it, with its codes.
    let email = format!("luz-{}@correo.test", short_id());
    let mut ok = body(" CHAPARRAL", "tolima");
    ok["email"] = json!(email);
    let r = app.post("/v1/workers", Some(&admin), ok).await;
    let w = r.ok(201);
    assert_eq!(w["municipality"], "Chaparral");
    assert_eq!(w["municipality_code"], "73168");
    assert_eq!(w["department"], "Tolima");
    assert_eq!(w["department_code"], "73");
    let path = format!("/v1/workers/{}", w["id"].as_str().unwrap());
    let luz = app.login(&email, PASSWORD).await;

    // She moves within Tolima; a department alone must still hold her municipality.
    let r = app
        .patch(&path, Some(&luz), json!({"municipality": "ataco"}))
        .await;
    assert_eq!(r.ok(200)["municipality"], "Ataco");
    assert_eq!(r.body["municipality_code"], "73067");
    let r = app
        .patch(&path, Some(&luz), json!({"department": "Huila"}))
        .await;
    r.problem(422);
    assert_eq!(r.field(), "municipality");
    assert!(
        r.body["detail_es"]
            .as_str()
            .unwrap()
            .contains("no es un municipio de Huila"),
        "{}",
        r.body["detail_es"]
    );
    let r = app
        .patch(
            &path,
            Some(&luz),
            json!({"municipality": "Pitalito", "department": "Huila"}),
        )
        .await;
    assert_eq!(r.ok(200)["municipality_code"], "41551");
    assert_eq!(r.body["department_code"], "41");
    // Her own view has no staff-only flags.
    let own = app.get(&path, Some(&luz)).await;
    assert!(own.ok(200).get("duplicate_payout").is_none());
}

/// Rows written before places were checked get DANE's codes where their names match one, and
/// keep NULL codes where they match none; every row gets its payout key (both dialects).
#[tokio::test]
async fn rows_from_before_get_their_codes_where_the_names_match() {
    let app = spawn_app_without_worker().await;
    let admin = app.admin_token().await;
    let (matching, _) = app.worker(&admin, &["labelling"]).await;
    let (unknown, _) = app.worker(&admin, &["labelling"]).await;
    // As migration 0014 found them: free text, no codes, no payout key.
    for (id, municipality, department) in [
        (&matching, " chaparral", "TOLIMA"),
        (&unknown, "Villa Nada", "Tolima"),
    ] {
        on_db!(&app.db, |p| sqlx::query(
            "UPDATE worker_profiles SET municipality = $1, department = $2, \
             municipality_code = NULL, department_code = NULL, payout_key = NULL WHERE id = $3"
        )
        .bind(municipality)
        .bind(department)
        .bind(id)
        .execute(p)
        .await
        .map(|_| ())
        .unwrap());
    }
    let filled = vereda_store::backfill::worker_places_and_payouts(&app.db)
        .await
        .unwrap();
    assert_eq!(filled, 2);
    let again = vereda_store::backfill::worker_places_and_payouts(&app.db)
        .await
        .unwrap();
    assert_eq!(again, 0, "done once");

    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let read = |id: String| {
        let db = &app.db;
        async move {
            on_db!(db, |p| sqlx::query_as::<_, Row>(
                "SELECT municipality, department, municipality_code, department_code, \
                 payout_key FROM worker_profiles WHERE id = $1"
            )
            .bind(&id)
            .fetch_one(p)
            .await
            .unwrap())
        }
    };
    assert_eq!(
        read(matching.clone()).await,
        (
            "Chaparral".into(),
            "Tolima".into(),
            Some("73168".into()),
            Some("73".into()),
            Some("phone:3105551234".into())
        )
    );
    assert_eq!(
        read(unknown.clone()).await,
        (
            "Villa Nada".into(),
            "Tolima".into(),
            None,
            None,
            Some("phone:3105551234".into())
        )
    );
    let seen = app
        .get(&format!("/v1/workers/{unknown}"), Some(&admin))
        .await;
    let seen = seen.ok(200);
    assert!(seen.get("municipality_code").is_none());
    // Both were paid to the same phone all along (the test helper's): now it shows.
    assert_eq!(seen["duplicate_payout"][0]["worker_id"], matching.as_str());
}

async fn claim(app: &TestApp, token: &str, task: &str) -> Resp {
    app.send(
        app.client
            .post(app.url(&format!("/v1/tasks/{task}/claims")))
            .bearer_auth(token),
    )
    .await
}

async fn published(app: &TestApp, owner: &str, slots: i64) -> String {
    let task = app
        .post(
            "/v1/tasks",
            Some(owner),
            json!({
                "title": "Etiquetar", "instructions": "Según la guía.", "category": "labelling",
                "required_skills": ["labelling"],
                "pricing": {"kind": "fixed", "price": "120000", "estimated_hours": "4"},
                "slots": slots, "claim_minutes": 600, "review_hours": 72
            }),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/v1/tasks/{task}/publish"), Some(owner), json!({}))
        .await
        .ok(200);
    task
}

#[tokio::test]
async fn a_deactivated_worker_frees_her_claims_keeps_her_work_and_can_come_back() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (company, owner) = app.company(&admin, "Tienda").await;
    let (worker_id, worker) = app.worker(&admin, &["labelling"]).await;
    let (_, other) = app.worker(&admin, &["labelling"]).await;
    let me = app.get("/v1/me", Some(&worker)).await.ok(200).clone();
    let (user_id, email) = (
        me["id"].as_str().unwrap().to_string(),
        me["email"].as_str().unwrap().to_string(),
    );

    // One claim open, one piece of work delivered and verified.
    let open_task = published(&app, &owner, 1).await;
    let open = claim(&app, &worker, &open_task).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done_task = published(&app, &owner, 1).await;
    let done = claim(&app, &worker, &done_task).await.ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/v1/assignments/{done}/submission"),
        Some(&worker),
        json!({"deliverable_url": "https://x.example/hecho"}),
    )
    .await
    .ok(200);
    eventually(Duration::from_secs(60), || async {
        (app.get(&format!("/v1/assignments/{done}"), Some(&owner))
            .await
            .body["status"]
            == "verified")
            .then_some(())
    })
    .await
    .expect("verified");

    let deactivate = format!("/v1/users/{user_id}/deactivate");
    let r = app.post(&deactivate, Some(&admin), json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    // Signed out, and cannot sign in.
    app.get("/v1/me", Some(&worker)).await.problem(401);
    app.post(
        "/v1/auth/login",
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await
    .problem(401);
    // The open claim is released and its slot taken by someone else...
    let a = app
        .get(&format!("/v1/assignments/{open}"), Some(&owner))
        .await;
    assert_eq!(a.ok(200)["status"], "released");
    claim(&app, &other, &open_task).await.ok(201);
    // ...while the delivered work is still reviewed and paid: approved, it accrues to her.
    app.post(
        &format!("/v1/assignments/{done}/review"),
        Some(&owner),
        json!({"decision": "approve"}),
    )
    .await
    .ok(200);
    let accrued = eventually(Duration::from_secs(60), || async {
        let n: i64 = on_db!(&app.db, |p| sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM accruals WHERE assignment_id = $1"
        )
        .bind(&done)
        .fetch_one(p)
        .await
        .unwrap());
        (n == 1).then_some(())
    })
    .await;
    assert!(accrued.is_some(), "the approved work accrued");
    // Her profile and history stay for staff.
    app.get(&format!("/v1/workers/{worker_id}"), Some(&finance))
        .await
        .ok(200);
    let events: i64 = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM assignment_events WHERE assignment_id = $1 \
         AND action = 'account_deactivated'"
    )
    .bind(&open)
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(events, 1);

    // Only admin reactivates; she signs in again with her password.
    let reactivate = format!("/v1/users/{user_id}/reactivate");
    app.post(&reactivate, Some(&finance), json!({}))
        .await
        .problem(403);
    app.post(&reactivate, Some(&owner), json!({}))
        .await
        .problem(404);
    app.post(&reactivate, Some(&other), json!({}))
        .await
        .problem(403);
    app.post(&reactivate, None, json!({})).await.problem(401);
    let r = app.post(&reactivate, Some(&admin), json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let back = app.login(&email, PASSWORD).await;
    assert_eq!(app.get("/v1/me", Some(&back)).await.ok(200)["id"], user_id);
    // Again: nothing changes; the released claim stays released.
    let r = app.post(&reactivate, Some(&admin), json!({})).await;
    assert_eq!(r.status, 204);
    let a = app
        .get(&format!("/v1/assignments/{open}"), Some(&owner))
        .await;
    assert_eq!(a.ok(200)["status"], "released");
    let kinds: Vec<String> = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT kind FROM account_events WHERE user_id = $1 ORDER BY created_at, id"
    )
    .bind(&user_id)
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(kinds, ["deactivated", "reactivated"]);

    // A member her company removed is not reactivated.
    let reviewer = app.reviewer(&owner, &company).await;
    let member = app.get("/v1/me", Some(&reviewer)).await.ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = delete(
        &app,
        &format!("/v1/companies/{company}/members/{member}"),
        &owner,
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = app
        .post(
            &format!("/v1/users/{member}/reactivate"),
            Some(&admin),
            json!({}),
        )
        .await;
    r.problem(409);
    assert_eq!(r.code(), "member_removed");
    app.post(
        "/v1/users/01900000-0000-7000-8000-000000000000/reactivate",
        Some(&admin),
        json!({}),
    )
    .await
    .problem(404);
}
