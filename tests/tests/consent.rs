//! Consent to sensitive data (issue 22 §1): asked with its text and purpose, each item
//! optional, a ledger of given and withdrawn rows naming the text's version and hash, the
//! channel and who helped; withdrawing deletes what was given; only she and admins see it.

use serde_json::{Value, json};
use vereda_tests::spawn_app;

async fn policy(app: &vereda_tests::TestApp) -> Value {
    app.get("/v1/consent-policy", None).await.ok(200).clone()
}

#[tokio::test]
async fn a_worker_gives_and_withdraws_consent_and_the_ledger_keeps_both() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (luz, luz_token) = app.worker(&admin, &["data-entry"]).await;
    let (_, other_token) = app.worker(&admin, &["data-entry"]).await;
    let (_, owner) = app.company(&admin, "Datos Andinos SAS").await;
    let finance = app.finance_token(&admin).await;

    // What she is asked: the text, its hash, the purpose, the groups in use.
    let p = policy(&app).await;
    let text = p["text"].as_str().unwrap();
    assert!(text.contains("reportes de impacto agregados"), "{text}");
    assert!(text.contains("nunca cambia mi acceso al trabajo"), "{text}");
    assert_eq!(p["text_hash"], vereda_tests::sha256_hex(text));
    assert_eq!(p["purpose"], "impact_reports");
    let groups: Vec<&str> = p["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect();
    assert!(groups.contains(&"conflict_victim"), "{groups:?}");

    let path = format!("/v1/workers/{luz}/consent");
    let answer = |baseline: Option<&str>, groups: Value| {
        let mut b = json!({
            "policy_version": p["version"], "text_hash": p["text_hash"], "groups": groups
        });
        if let Some(x) = baseline {
            b["baseline_monthly_income"] = json!(x);
        }
        b
    };

    // Refusals name their field and write nothing.
    let mut stale = answer(Some("600000"), json!([]));
    stale["policy_version"] = json!("2020-01-01");
    let r = app.post(&path, Some(&luz_token), stale).await;
    r.problem(409);
    assert_eq!((r.code(), r.field()), ("policy_changed", "policy_version"));
    let mut wrong = answer(Some("600000"), json!([]));
    wrong["text_hash"] = json!("0".repeat(64));
    let r = app.post(&path, Some(&luz_token), wrong).await;
    assert_eq!((r.code(), r.field()), ("policy_text_mismatch", "text_hash"));
    let cases = [
        (answer(None, json!([])), "nothing_given", "groups"),
        (
            answer(None, json!(["desplazada"])),
            "unknown_group",
            "groups",
        ),
        (
            answer(Some("-5"), json!([])),
            "baseline_out_of_range",
            "baseline_monthly_income",
        ),
        (
            answer(Some("600000.50"), json!([])),
            "baseline_out_of_range",
            "baseline_monthly_income",
        ),
        (
            answer(Some("999999999"), json!([])),
            "baseline_out_of_range",
            "baseline_monthly_income",
        ),
    ];
    for (body, code, field) in cases {
        let r = app.post(&path, Some(&luz_token), body.clone()).await;
        r.problem(422);
        assert_eq!((r.code(), r.field()), (code, field), "{body}: {}", r.text);
        assert!(
            r.body["detail_es"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            r.text
        );
    }
    let state = app.get(&path, Some(&luz_token)).await;
    let state = state.ok(200);
    assert_eq!(state["consenting"], false);
    assert_eq!(state["history"], json!([]));

    // Others may not read or give it: another worker is told it does not exist, a company
    // and finance are refused.
    app.get(&path, Some(&other_token)).await.problem(404);
    app.get(&path, Some(&owner)).await.problem(403);
    app.get(&path, Some(&finance)).await.problem(403);
    app.post(&path, Some(&other_token), answer(Some("1"), json!([])))
        .await
        .problem(404);

    // She gives both, herself.
    let given = app
        .post(
            &path,
            Some(&luz_token),
            answer(
                Some("650000"),
                json!(["woman_head_of_household", "conflict_victim"]),
            ),
        )
        .await;
    let given = given.ok(200);
    assert_eq!(given["consenting"], true);
    assert_eq!(given["baseline_monthly_income"], "650000");
    assert_eq!(
        given["groups"],
        json!(["conflict_victim", "woman_head_of_household"])
    );
    let first = &given["history"][0];
    assert_eq!(first["action"], "given");
    assert_eq!(first["channel"], "app");
    assert_eq!(first["policy_version"], p["version"]);
    assert_eq!(first["text_hash"], p["text_hash"]);
    assert!(first.get("helped_by").is_none());

    // The admin changes the answer on her behalf (she phoned): assisted, the admin named.
    let helped = app
        .post(&path, Some(&admin), answer(None, json!(["youth"])))
        .await;
    let helped = helped.ok(200);
    assert_eq!(helped["groups"], json!(["youth"]));
    assert!(helped.get("baseline_monthly_income").is_none(), "{helped}");
    assert_eq!(helped["history"][1]["channel"], "assisted");
    assert!(helped["history"][1]["helped_by"].is_string(), "{helped}");

    // Withdrawn: what she gave is gone at once, the ledger keeps all three rows.
    let w = app
        .post(&format!("{path}/withdrawal"), Some(&luz_token), json!({}))
        .await;
    let w = w.ok(200);
    assert_eq!(w["consenting"], false);
    assert_eq!(w["groups"], json!([]));
    assert!(w.get("baseline_monthly_income").is_none());
    let actions: Vec<&str> = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["given", "given", "withdrawn"]);
    let again = app
        .post(&format!("{path}/withdrawal"), Some(&luz_token), json!({}))
        .await;
    again.problem(409);
    assert_eq!(again.code(), "no_consent");

    // The admin's reads are in her access log; hers are not.
    let log = app
        .get(&format!("/v1/workers/{luz}/data-access"), Some(&luz_token))
        .await;
    let routes: Vec<&str> = log.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["route"].as_str().unwrap())
        .collect();
    assert!(routes.is_empty(), "{routes:?}");
    app.get(&path, Some(&admin)).await.ok(200);
    let log = app
        .get(&format!("/v1/workers/{luz}/data-access"), Some(&luz_token))
        .await;
    let items = log.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["route"], "GET /v1/workers/{id}/consent");
    assert!(
        items[0]["fields_es"]
            .as_str()
            .unwrap()
            .contains("grupos del programa"),
        "{items:?}"
    );

    // Her copy of her data holds the whole ledger.
    let export = app
        .get(&format!("/v1/workers/{luz}/data-export"), Some(&luz_token))
        .await;
    assert_eq!(
        export.ok(200)["sections"]["consents"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn staff_keep_the_groups_and_a_retired_group_is_refused_on_new_answers() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (luz, luz_token) = app.worker(&admin, &["data-entry"]).await;
    let finance = app.finance_token(&admin).await;

    let r = app
        .post(
            "/v1/programme-groups",
            Some(&admin),
            json!({"code": "indigenous", "label": "Población indígena"}),
        )
        .await;
    r.ok(201);
    app.post(
        "/v1/programme-groups",
        Some(&finance),
        json!({"code": "x_y", "label": "X"}),
    )
    .await
    .problem(403);
    let bad = app
        .post(
            "/v1/programme-groups",
            Some(&admin),
            json!({"code": "Indígena!", "label": "X"}),
        )
        .await;
    bad.problem(422);
    assert_eq!(bad.field(), "code");

    let p = policy(&app).await;
    assert!(
        p["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["code"] == "indigenous")
    );
    let path = format!("/v1/workers/{luz}/consent");
    let body = json!({
        "policy_version": p["version"], "text_hash": p["text_hash"], "groups": ["indigenous"]
    });
    app.post(&path, Some(&luz_token), body.clone())
        .await
        .ok(200);

    // Retired: she keeps it; a new answer naming it is refused.
    let gone = app
        .send(
            app.client
                .delete(app.url("/v1/programme-groups/indigenous"))
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    let p = policy(&app).await;
    assert!(
        !p["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["code"] == "indigenous")
    );
    assert_eq!(
        app.get(&path, Some(&luz_token)).await.ok(200)["groups"],
        json!(["indigenous"])
    );
    let r = app.post(&path, Some(&luz_token), body).await;
    r.problem(422);
    assert_eq!(r.code(), "unknown_group");
}

#[tokio::test]
async fn the_group_given_at_enrolment_is_her_assisted_consent() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/v1/workers",
            Some(&admin),
            json!({
                "name": "Marta Cabeza de Hogar", "email": "marta@correo.test",
                "password": vereda_tests::PASSWORD,
                "municipality": "Chaparral", "department": "Tolima", "skills": ["data-entry"],
                "payout_method": {"kind": "nequi", "phone": "3105550000"},
                "programme_group": "woman_head_of_household"
            }),
        )
        .await;
    let worker = r.ok(201).clone();
    assert!(worker.get("programme_group").is_none(), "{worker}");
    let id = worker["id"].as_str().unwrap();
    let c = app
        .get(&format!("/v1/workers/{id}/consent"), Some(&admin))
        .await;
    let c = c.ok(200);
    assert_eq!(c["consenting"], true);
    assert_eq!(c["groups"], json!(["woman_head_of_household"]));
    assert_eq!(c["history"][0]["channel"], "assisted");
    assert_eq!(c["history"][0]["helped_by"], "Administración Vereda");
}
