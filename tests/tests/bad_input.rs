//! The bad-input catalogue (issue 8 §3): every write route in the OpenAPI document gets the
//! generic body attacks — over the limit, deeply nested, invalid UTF-8, NUL bytes, wrong
//! shapes, wrong content types — and answers a clear 4xx problem naming the field, with nothing
//! written. Then the field-level cases: accented and emoji text round-trips, SQL and HTML stay
//! plain text, bad amounts and far dates are refused.

use crate::write_routes::*;
use serde_json::{Value, json};
use vereda_tests::*;

/// Send raw bytes with a content type (or none) to a catalogue route.
async fn raw(
    app: &TestApp,
    fx: &Fixture,
    w: &Write,
    content_type: Option<&str>,
    bytes: Vec<u8>,
) -> Resp {
    let mut req = app
        .client
        .request(w.method.parse().unwrap(), app.url(&fx.path(w.path)))
        .body(bytes);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(t) = fx.token(w.actor) {
        req = req.bearer_auth(t);
    }
    app.send(req).await
}

/// A valid body's string fields, as dotted paths (one level of nesting, and array items).
fn string_fields(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::String(_) => out.push(prefix.to_string()),
        Value::Object(m) => {
            for (k, sub) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                string_fields(sub, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, sub) in items.iter().enumerate() {
                string_fields(sub, &format!("{prefix}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Set the value at a dotted path written by [`string_fields`].
fn set_at(v: &mut Value, path: &str, new: Value) {
    let mut cur = v;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, Some(i.trim_end_matches(']').parse::<usize>().unwrap())),
            None => (part, None),
        };
        cur = &mut cur[name];
        if let Some(i) = index {
            cur = &mut cur[i];
        }
    }
    *cur = new;
}

#[tokio::test]
async fn every_write_route_refuses_the_generic_attacks_and_writes_nothing() {
    let app = spawn_app_without_worker().await;
    let fx = Fixture::new(&app).await;
    let catalogue = catalogue();

    // Every write route of the contract is in the catalogue, and nothing else.
    let spec = app.get("/openapi.json", None).await;
    let documented = documented_writes(spec.ok(200));
    let declared = catalogue
        .iter()
        .map(|w| generic(w.method, w.path))
        .collect();
    assert_eq!(
        documented, declared,
        "write routes missing from the bad-input catalogue (or stale entries)"
    );

    let before = row_counts(&app.db).await;
    let mut failures = Vec::new();
    let mut check = |w: &Write, attack: &str, r: &Resp, status: u16, field: Option<&str>| {
        let problem = r.content_type.starts_with("application/problem+json");
        let field_ok = field.is_none_or(|f| r.field() == f);
        if r.status != status || !problem || !field_ok {
            failures.push(format!(
                "{} {} ({attack}): expected {status}{}, got {} {}",
                w.method,
                w.path,
                field.map(|f| format!(" naming `{f}`")).unwrap_or_default(),
                r.status,
                r.text
            ));
        }
    };
    let big = format!("{{\"name\": \"{}\"}}", "a".repeat(2 * 1024 * 1024)).into_bytes();
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();

    for w in &catalogue {
        match &w.body {
            Body::None => {
                // No body is read: junk sent anyway changes nothing and breaks nothing. (The
                // call itself may act, so these run on a copy of the counts below.)
                continue;
            }
            Body::Csv(_) => {
                let ct = Some("text/csv");
                let r = raw(&app, &fx, w, ct, big.clone()).await;
                check(w, "over the limit", &r, 413, None);
                // Not UTF-8 is read as Windows-1252 (Excel in Colombia); a binary file is not
                // text either way: the start of an .xlsx.
                let xlsx = vec![b'P', b'K', 3, 4, 0x14, 6, 0x08, b'\n'];
                let r = raw(&app, &fx, w, ct, xlsx).await;
                check(w, "a binary .xlsx", &r, 400, None);
                let r = raw(&app, &fx, w, ct, b"reference,amount\nA\0B,1\n".to_vec()).await;
                check(w, "NUL byte", &r, 400, None);
                let r = raw(&app, &fx, w, Some("application/json"), b"{}".to_vec()).await;
                check(w, "wrong content type", &r, 415, None);
            }
            Body::Json(valid) => {
                let json_ct = Some("application/json");
                let valid = fx.body(valid);
                let r = raw(&app, &fx, w, json_ct, big.clone()).await;
                check(w, "over the limit", &r, 413, None);
                let r = raw(&app, &fx, w, json_ct, deep.clone()).await;
                check(w, "deeply nested", &r, 400, None);
                let r = raw(&app, &fx, w, json_ct, b"{\"name\": \"\xff\xfe\"}".to_vec()).await;
                check(w, "invalid UTF-8", &r, 400, None);
                let r = raw(&app, &fx, w, json_ct, b"{\"name\": ".to_vec()).await;
                check(w, "truncated JSON", &r, 400, None);
                let r = raw(&app, &fx, w, json_ct, Vec::new()).await;
                check(w, "empty body", &r, 400, None);
                let bytes = valid.to_string().into_bytes();
                let r = raw(&app, &fx, w, Some("text/plain"), bytes.clone()).await;
                check(w, "text/plain", &r, 415, None);
                let r = raw(
                    &app,
                    &fx,
                    w,
                    Some("application/x-www-form-urlencoded"),
                    bytes.clone(),
                )
                .await;
                check(w, "form content type", &r, 415, None);
                let r = raw(&app, &fx, w, None, bytes).await;
                check(w, "no content type", &r, 415, None);
                for shape in ["[]", "[null, null]", "null", "42", "\"text\""] {
                    let r = raw(&app, &fx, w, json_ct, shape.as_bytes().to_vec()).await;
                    check(w, &format!("body {shape}"), &r, 422, None);
                }
                let mut fields = Vec::new();
                string_fields(&valid, "", &mut fields);
                for field in fields {
                    let mut body = valid.clone();
                    set_at(&mut body, &field, json!("a\u{0}b"));
                    let r = app
                        .send(
                            app.client
                                .request(w.method.parse().unwrap(), app.url(&fx.path(w.path)))
                                .json(&body)
                                .bearer_auth(fx.token(w.actor).unwrap_or("")),
                        )
                        .await;
                    check(w, "NUL in a string", &r, 422, Some(&field));
                    // A string where the contract has an object or an array of them.
                    if let Some((parent, _)) = field.rsplit_once('.') {
                        let mut body = valid.clone();
                        set_at(&mut body, parent, json!(["x", "y"]));
                        let r = app
                            .send(
                                app.client
                                    .request(w.method.parse().unwrap(), app.url(&fx.path(w.path)))
                                    .json(&body)
                                    .bearer_auth(fx.token(w.actor).unwrap_or("")),
                            )
                            .await;
                        check(w, "array for an object", &r, 422, None);
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} bad-input answers were wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        row_counts(&app.db).await,
        before,
        "a refused request wrote something"
    );

    // Routes without a body never read one: junk bytes neither break them nor get parsed.
    for w in catalogue.iter().filter(|w| matches!(w.body, Body::None)) {
        let r = raw(&app, &fx, w, Some("application/json"), b"\xff{[".to_vec()).await;
        assert!(r.status < 500, "{} {}: {}", w.method, w.path, r.text);
    }
}

#[tokio::test]
async fn accented_and_emoji_text_round_trips_intact() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let name = "Luz Ñáñez 👩🏽‍💻";
    let email = format!("luz-{}@correo.test", short_id());
    let r = app
        .post(
            "/v1/workers",
            Some(&admin),
            json!({"name": name, "email": email, "password": PASSWORD, "municipality": "Ibagué",
                "department": "Tolima", "skills": ["labelling"],
                "payout_method": {"kind": "daviplata", "phone": "3001234567"}}),
        )
        .await;
    let worker_id = r.ok(201)["id"].as_str().unwrap().to_string();
    let read = app
        .get(&format!("/v1/workers/{worker_id}"), Some(&admin))
        .await;
    assert_eq!(read.ok(200)["name"], name);
    assert_eq!(read.body["municipality"], "Ibagué");
    assert_eq!(read.body["payout_method"]["kind"], "daviplata");

    let (company, owner) = app.company(&admin, "Panadería Ñandú 👩🏽‍💻").await;
    let read = app
        .get(&format!("/v1/companies/{company}"), Some(&owner))
        .await;
    assert_eq!(read.ok(200)["name"], "Panadería Ñandú 👩🏽‍💻");

    let mut task = fixed_task();
    task["title"] = json!("Diseño del año 👩🏽‍💻");
    task["instructions"] = json!("Señalar cada árbol; ¿dudas? Pregúntale a Ñico.");
    let id = app
        .post("/v1/tasks", Some(&owner), task.clone())
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let read = app.get(&format!("/v1/tasks/{id}"), Some(&owner)).await;
    assert_eq!(read.ok(200)["title"], task["title"]);
    assert_eq!(read.body["instructions"], task["instructions"]);
}

#[tokio::test]
async fn sql_and_html_metacharacters_are_stored_as_plain_text() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let nasty = "Robert'); DROP TABLE tasks;-- <script>alert(\"x\")</script> & 1=1 \\ %_";
    let (company, owner) = app.company(&admin, nasty).await;
    let mut task = fixed_task();
    task["title"] = json!(nasty);
    task["instructions"] = json!(format!("' OR '1'='1 {nasty}"));
    let id = app
        .post("/v1/tasks", Some(&owner), task.clone())
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let read = app.get(&format!("/v1/tasks/{id}"), Some(&owner)).await;
    assert_eq!(read.ok(200)["title"], nasty);
    assert_eq!(read.body["instructions"], task["instructions"]);
    assert_eq!(
        app.get(&format!("/v1/companies/{company}"), Some(&owner))
            .await
            .ok(200)["name"],
        nasty
    );
    // The tables are still there, and a filter made of metacharacters matches nothing.
    let list = app.get("/v1/tasks", Some(&owner)).await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 1);
    let r = app
        .get("/v1/tasks?category=%27%20OR%20%271%27%3D%271", Some(&owner))
        .await;
    assert!(r.status == 200 || r.status == 422, "{}", r.text);
    if r.status == 200 {
        assert!(r.body["items"].as_array().unwrap().is_empty(), "{}", r.text);
    }
}

/// Amounts that are not a positive whole number of pesos written plainly.
const BAD_AMOUNTS: &[&str] = &[
    "-1",
    "0",
    "-0",
    "1000.5",
    "0.01",
    "1e5",
    "1E+3",
    "99999999999999999999999999999",
    "1,000",
    "1.000.000",
    "NaN",
    "Infinity",
    "",
    " ",
    "$1000",
    // Issue 14 §1 and 13 §11: only ASCII digits (a clerk's `100.000` is not 100).
    "100.000",
    "100,000",
    "+5",
    " 5",
    "5 ",
    "0x10",
    "٥",
    "19999.9999999999999999999999999999999",
];

#[tokio::test]
async fn bad_amounts_are_422_naming_the_field_and_write_nothing() {
    let app = spawn_app_without_worker().await;
    let fx = Fixture::new(&app).await;
    let before = row_counts(&app.db).await;
    for bad in BAD_AMOUNTS {
        let mut task = fixed_task();
        task["pricing"]["price"] = json!(bad);
        let r = app.post("/v1/tasks", Some(&fx.owner), task).await;
        r.problem(422);
        assert_eq!(r.field(), "pricing.price", "{bad}: {}", r.text);

        let mut task = fixed_task();
        task["pricing"] = json!({"kind": "hourly", "rate": bad, "estimated_hours": "4"});
        let r = app.post("/v1/tasks", Some(&fx.owner), task).await;
        r.problem(422);
        assert!(r.field().starts_with("pricing."), "{bad}: {}", r.text);

        let r = app
            .post(
                "/v1/invoices/01900000-0000-7000-8000-000000000000/payments",
                Some(&fx.finance),
                json!({"amount": bad, "paid_at": "2026-01-02T00:00:00Z", "reference": "TRF-1"}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.field(), "amount", "{bad}: {}", r.text);
    }
    // A JSON number instead of the decimal string (floats never carry money).
    for number in [json!(1000), json!(1000.5), json!(1e5)] {
        let mut task = fixed_task();
        task["pricing"]["price"] = number.clone();
        let r = app.post("/v1/tasks", Some(&fx.owner), task).await;
        r.problem(422);
        assert_eq!(r.field(), "pricing.price", "{number}: {}", r.text);
    }
    assert_eq!(
        row_counts(&app.db).await,
        before,
        "a refused amount wrote something"
    );
}

#[tokio::test]
async fn far_past_and_far_future_dates_are_refused_cleanly() {
    let app = spawn_app_without_worker().await;
    let fx = Fixture::new(&app).await;
    let before = row_counts(&app.db).await;
    let entries = format!("/v1/assignments/{}/time-entries", fx.assignment);
    for (start, end) in [
        ("0001-01-01T00:00:00Z", "0001-01-01T01:00:00Z"),
        ("1900-01-01T08:00:00Z", "1900-01-01T09:00:00Z"),
        ("9999-12-31T22:00:00Z", "9999-12-31T23:00:00Z"),
        ("2999-01-01T08:00:00Z", "2999-01-01T09:00:00Z"),
        ("+275760-09-13T00:00:00Z", "+275760-09-13T01:00:00Z"),
        ("-000001-01-01T00:00:00Z", "-000001-01-01T01:00:00Z"),
    ] {
        let r = app
            .post(
                &entries,
                Some(&fx.worker),
                json!({"started_at": start, "ended_at": end}),
            )
            .await;
        r.problem(422);
        assert!(
            ["started_at", "ended_at"].contains(&r.field()),
            "{start}: {}",
            r.text
        );
    }
    for day in [
        "0001-01-01",
        "1900-01-01",
        "9999-12-31",
        "2999-01-01",
        "2026-02-30",
        "20260101",
    ] {
        let r = app
            .post(
                "/v1/billing-runs",
                Some(&fx.finance),
                json!({"period_end": day}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.field(), "period_end", "{day}: {}", r.text);
    }
    for month in ["0001-01", "9999-12", "2999-01", "2026-13", "2026-1"] {
        let r = app
            .post(
                "/v1/statement-runs",
                Some(&fx.finance),
                json!({"month": month}),
            )
            .await;
        r.problem(422);
        assert_eq!(r.field(), "month", "{month}: {}", r.text);
    }
    for deadline in ["1900-01-01T00:00:00Z", "9999-12-31T00:00:00Z"] {
        let mut task = fixed_task();
        task["deadline"] = json!(deadline);
        let r = app.post("/v1/tasks", Some(&fx.owner), task).await;
        r.problem(422);
        assert_eq!(r.field(), "deadline", "{deadline}: {}", r.text);
    }
    let r = app
        .post(
            "/v1/invoices/01900000-0000-7000-8000-000000000000/payments",
            Some(&fx.finance),
            json!({"amount": "1000", "paid_at": "9999-12-31T00:00:00Z", "reference": "TRF-1"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "paid_at", "{}", r.text);
    assert_eq!(
        row_counts(&app.db).await,
        before,
        "a refused date wrote something"
    );
}

#[tokio::test]
async fn a_wrong_method_is_405_with_the_allowed_ones() {
    let app = spawn_app_without_worker().await;
    let admin = app.admin_token().await;
    for (method, path, allow) in [
        ("DELETE", "/v1/me", "GET"),
        ("PUT", "/v1/time-entries/sync", "POST"),
        ("POST", "/v1/time-entries/0190", "PATCH, DELETE"),
        ("DELETE", "/v1/companies", "POST, GET"),
    ] {
        let r = app
            .send(
                app.client
                    .request(method.parse().unwrap(), app.url(path))
                    .bearer_auth(&admin),
            )
            .await;
        r.problem(405);
        let mut got: Vec<&str> = r.headers["allow"].to_str().unwrap().split(", ").collect();
        let mut want: Vec<&str> = allow.split(", ").collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{method} {path}");
    }
}

#[tokio::test]
async fn null_is_not_a_value_for_an_optional_field() {
    let app = spawn_app_without_worker().await;
    let fx = Fixture::new(&app).await;
    let before = row_counts(&app.db).await;
    let r = app
        .post(
            "/v1/time-entries/sync",
            Some(&fx.worker),
            json!({"entries": [{"client_id": "c-1", "assignment_id": fx.assignment,
                "started_at": "2026-01-01T08:00:00Z", "ended_at": "2026-01-01T09:00:00Z",
                "source": "offline", "note": null}]}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "entries[0].note");
    let r = app
        .patch(
            &format!("/v1/workers/{}", fx.worker_id),
            Some(&fx.worker),
            json!({"municipality": null}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "municipality");
    assert_eq!(row_counts(&app.db).await, before);
}
