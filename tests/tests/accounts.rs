//! Staff, companies and their members, workers and their personal data (issue 2 §5).

use serde_json::json;
use vereda_tests::*;

#[tokio::test]
async fn admin_creates_staff_and_only_admin_may() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let r = app
        .post("/v1/staff", Some(&admin), json!({"name": "Carolina", "email": "Carolina@Vereda.Test", "password": PASSWORD, "role": "finance"}))
        .await;
    let me = r.ok(201);
    assert_eq!(me["role"], "finance");
    assert_eq!(
        me["email"], "carolina@vereda.test",
        "e-mails are stored lower-case"
    );
    let finance = app.login("carolina@vereda.test", PASSWORD).await;

    // Same e-mail in another case: 409 naming the field.
    let dup = app
        .post("/v1/staff", Some(&admin), json!({"name": "Otra", "email": "CAROLINA@vereda.test", "password": PASSWORD, "role": "admin"}))
        .await;
    dup.problem(409);
    assert_eq!(dup.code(), "email_taken");
    assert_eq!(dup.field(), "email");

    let body =
        json!({"name": "X", "email": "x@vereda.test", "password": PASSWORD, "role": "admin"});
    app.post("/v1/staff", Some(&finance), body.clone())
        .await
        .problem(403);
    app.post("/v1/staff", None, body.clone()).await.problem(401);
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    app.post("/v1/staff", Some(&worker), body)
        .await
        .problem(403);

    // A role that is not staff is not an input here.
    let r = app
        .post(
            "/v1/staff",
            Some(&admin),
            json!({"name": "X", "email": "y@vereda.test", "password": PASSWORD, "role": "worker"}),
        )
        .await;
    r.problem(422);
    assert_eq!(r.field(), "role");
}

#[tokio::test]
async fn a_company_is_created_with_its_owner_and_sees_only_itself() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (acme, owner) = app.company(&admin, "Tienda Andina S.A.S.").await;
    let (other, other_owner) = app.company(&admin, "Otra Empresa").await;

    let me = app.get("/v1/me", Some(&owner)).await;
    let me = me.ok(200);
    assert_eq!(me["role"], "company");
    assert_eq!(me["company_id"], acme.as_str());
    assert_eq!(me["member_role"], "owner");

    let own = app
        .get(&format!("/v1/companies/{acme}"), Some(&owner))
        .await;
    assert_eq!(own.ok(200)["name"], "Tienda Andina S.A.S.");
    assert!(own.body.get("margin").is_none());
    app.get(&format!("/v1/companies/{other}"), Some(&owner))
        .await
        .problem(404);
    app.get(&format!("/v1/companies/{acme}"), Some(&other_owner))
        .await
        .problem(404);
    app.get(
        "/v1/companies/00000000-0000-7000-8000-000000000000",
        Some(&admin),
    )
    .await
    .problem(404);

    let list = app.get("/v1/companies", Some(&owner)).await;
    let items = list.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], acme.as_str());
    let all = app.get("/v1/companies", Some(&admin)).await;
    assert_eq!(all.ok(200)["items"].as_array().unwrap().len(), 2);

    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    app.get(&format!("/v1/companies/{acme}"), Some(&worker))
        .await
        .problem(403);
    app.get("/v1/companies", Some(&worker)).await.problem(403);
}

#[tokio::test]
async fn owners_edit_their_company_but_not_its_margin_or_nit() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (acme, owner) = app.company(&admin, "Tienda").await;
    let path = format!("/v1/companies/{acme}");

    let r = app
        .patch(
            &path,
            Some(&owner),
            json!({"name": "Tienda Nueva", "billing_cycle": "weekly"}),
        )
        .await;
    let body = r.ok(200);
    assert_eq!(body["name"], "Tienda Nueva");
    assert_eq!(body["billing_cycle"], "weekly");

    let r = app
        .patch(&path, Some(&owner), json!({"margin": "0.01"}))
        .await;
    r.problem(403);
    assert_eq!(r.field(), "margin");
    app.patch(&path, Some(&owner), json!({"nit": random_nit()}))
        .await
        .problem(403);
    let r = app
        .patch(&path, Some(&owner), json!({"company_id": "x"}))
        .await;
    r.problem(422);
    assert_eq!(r.field(), "company_id");

    let r = app
        .patch(&path, Some(&admin), json!({"margin": "0.15"}))
        .await;
    assert_eq!(r.ok(200)["margin"], "0.15");
    let r = app
        .patch(&path, Some(&admin), json!({"margin": "1.5"}))
        .await;
    r.problem(422);
    assert_eq!(r.field(), "margin");
    // The rejected change left nothing behind.
    assert_eq!(app.get(&path, Some(&admin)).await.body["margin"], "0.15");
}

#[tokio::test]
async fn owners_add_reviewers_who_cannot_manage_the_company() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (acme, owner) = app.company(&admin, "Tienda").await;
    let reviewer = app.reviewer(&owner, &acme).await;
    let me = app.get("/v1/me", Some(&reviewer)).await;
    assert_eq!(me.ok(200)["member_role"], "reviewer");

    let members = app
        .get(&format!("/v1/companies/{acme}/members"), Some(&reviewer))
        .await;
    assert_eq!(members.ok(200)["items"].as_array().unwrap().len(), 2);

    app.post(
        &format!("/v1/companies/{acme}/members"),
        Some(&reviewer),
        json!({"name": "X", "email": "x@empresa.test", "password": PASSWORD, "member_role": "owner"}),
    )
    .await
    .problem(403);
    app.patch(
        &format!("/v1/companies/{acme}"),
        Some(&reviewer),
        json!({"name": "Mine"}),
    )
    .await
    .problem(403);

    let (other, other_owner) = app.company(&admin, "Otra").await;
    app.post(
        &format!("/v1/companies/{acme}/members"),
        Some(&other_owner),
        json!({"name": "X", "email": "x@empresa.test", "password": PASSWORD, "member_role": "reviewer"}),
    )
    .await
    .problem(404);
    app.get(&format!("/v1/companies/{other}/members"), Some(&owner))
        .await
        .problem(404);
}

#[tokio::test]
async fn company_input_is_validated_field_by_field() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let good = json!({
        "name": "Tienda", "nit": "900123456", "billing_email": "f@tienda.test", "billing_cycle": "monthly",
        "owner": {"name": "Andrés", "email": "andres@tienda.test", "password": PASSWORD}
    });
    let cases = [
        ("/nit", json!("900123456-0"), "nit"),
        ("/nit", json!("12"), "nit"),
        ("/name", json!("   "), "name"),
        ("/billing_email", json!("not-an-email"), "billing_email"),
        ("/owner/email", json!("andres"), "owner.email"),
        ("/owner/password", json!("short"), "owner.password"),
        ("/billing_cycle", json!("daily"), "billing_cycle"),
        ("/name", json!(42), "name"),
    ];
    for (pointer, value, field) in cases {
        let mut body = good.clone();
        *body.pointer_mut(pointer).unwrap() = value;
        let r = app.post("/v1/companies", Some(&admin), body).await;
        r.problem(422);
        assert_eq!(r.field(), field, "{}", r.text);
    }
    let mut missing = good.clone();
    missing["owner"].as_object_mut().unwrap().remove("email");
    let r = app.post("/v1/companies", Some(&admin), missing).await;
    r.problem(422);
    assert_eq!(r.field(), "owner.email");

    // Nothing was half-written by the refusals.
    let list = app.get("/v1/companies", Some(&admin)).await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 0);

    app.post("/v1/companies", Some(&admin), good.clone())
        .await
        .ok(201);
    // Same NIT again: 409, and the new owner e-mail was not created either.
    let mut again = good.clone();
    again["owner"]["email"] = json!("otro@tienda.test");
    let r = app.post("/v1/companies", Some(&admin), again).await;
    r.problem(409);
    assert_eq!(r.field(), "nit");
    app.post(
        "/v1/auth/login",
        None,
        json!({"email": "otro@tienda.test", "password": PASSWORD}),
    )
    .await
    .problem(401);
    // Same owner e-mail under a new NIT: 409 naming owner.email, and no company left behind.
    let mut dup_owner = good.clone();
    dup_owner["nit"] = json!(random_nit());
    let r = app.post("/v1/companies", Some(&admin), dup_owner).await;
    r.problem(409);
    assert_eq!(r.field(), "owner.email");
    let list = app.get("/v1/companies", Some(&admin)).await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn workers_personal_data_is_for_the_worker_and_staff_only() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let finance = app.finance_token(&admin).await;
    let (luz, luz_token) = app.worker(&admin, &["data-cleaning", "data-entry"]).await;
    let (_, other_worker) = app.worker(&admin, &["support"]).await;
    let (_, owner) = app.company(&admin, "Tienda").await;
    let path = format!("/v1/workers/{luz}");

    let own = app.get(&path, Some(&luz_token)).await;
    let own = own.ok(200);
    assert_eq!(own["document_id"], "1012345678");
    assert_eq!(
        own["payout_method"],
        json!({"kind": "nequi", "phone": "3105551234"})
    );
    assert_eq!(own["skills"], json!(["data-cleaning", "data-entry"]));
    app.get(&path, Some(&finance)).await.ok(200);
    app.get(&path, Some(&admin)).await.ok(200);
    app.get(&path, Some(&other_worker)).await.problem(404);
    app.get(&path, Some(&owner)).await.problem(404);
    app.get("/v1/workers", Some(&owner)).await.problem(403);
    app.get("/v1/workers", Some(&luz_token)).await.problem(403);
    let list = app.get("/v1/workers?skill=support", Some(&finance)).await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 1);

    // The worker updates their payout method (with her password: issue 13 §8, tested in
    // account_security.rs); skills are not theirs to change.
    let r = app
        .patch(&path, Some(&luz_token), json!({"payout_method": {"kind": "bank", "bank": "Bancolombia", "account_type": "savings", "account_number": "123-456789-01"}, "current_password": PASSWORD}))
        .await;
    assert_eq!(r.ok(200)["payout_method"]["account_number"], "12345678901");
    let r = app
        .patch(&path, Some(&luz_token), json!({"skills": ["qa-testing"]}))
        .await;
    r.problem(403);
    assert_eq!(r.field(), "skills");
    let r = app
        .patch(
            &path,
            Some(&admin),
            json!({"skills": ["qa-testing", "data-entry"]}),
        )
        .await;
    assert_eq!(r.ok(200)["skills"], json!(["data-entry", "qa-testing"]));
    app.patch(&path, Some(&other_worker), json!({"phone": "3001234567"}))
        .await
        .problem(404);
}

#[tokio::test]
async fn worker_input_is_validated_field_by_field() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let good = json!({
        "name": "Luz Ñáñez 👩🏽‍💻", "email": "luz@correo.test", "password": PASSWORD,
        "municipality": "Chaparral", "department": "Tolima", "skills": ["data-entry"],
        "payout_method": {"kind": "daviplata", "phone": "+57 310 555 1234"},
        "programme_group": "woman_head_of_household"
    });
    let cases = [
        (
            "/payout_method/phone",
            json!("12345"),
            "payout_method.phone",
        ),
        ("/payout_method/kind", json!("paypal"), "payout_method"),
        ("/skills", json!(["Data Entry!"]), "skills[0]"),
        ("/email", json!("luz@"), "email"),
        ("/municipality", json!(""), "municipality"),
        ("/programme_group", json!("other"), "programme_group"),
    ];
    for (pointer, value, field) in cases {
        let mut body = good.clone();
        *body.pointer_mut(pointer).unwrap() = value;
        let r = app.post("/v1/workers", Some(&admin), body).await;
        r.problem(422);
        assert!(r.field().starts_with(field), "{field}: {}", r.text);
    }
    let mut extra = good.clone();
    extra["role"] = json!("admin");
    let r = app.post("/v1/workers", Some(&admin), extra).await;
    r.problem(422);
    assert_eq!(r.field(), "role");

    let r = app.post("/v1/workers", Some(&admin), good).await;
    let w = r.ok(201);
    assert_eq!(w["name"], "Luz Ñáñez 👩🏽‍💻", "accents and emoji round-trip");
    assert_eq!(w["payout_method"]["phone"], "3105551234");
    let list = app.get("/v1/workers", Some(&admin)).await;
    assert_eq!(list.ok(200)["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn lists_page_with_an_opaque_cursor() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for i in 0..5 {
        app.company(&admin, &format!("Empresa {i}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/companies?limit=2&cursor={c}"),
            None => "/v1/companies?limit=2".to_string(),
        };
        let r = app.get(&path, Some(&admin)).await;
        let body = r.ok(200);
        for item in body["items"].as_array().unwrap() {
            seen.push(item["name"].as_str().unwrap().to_string());
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "Empresa 4",
            "Empresa 3",
            "Empresa 2",
            "Empresa 1",
            "Empresa 0"
        ],
        "newest first, each once"
    );
    let r = app.get("/v1/companies?limit=0", Some(&admin)).await;
    r.problem(422);
    assert_eq!(r.field(), "limit");
    let r = app.get("/v1/companies?cursor=garbage", Some(&admin)).await;
    r.problem(422);
    assert_eq!(r.field(), "cursor");
}
