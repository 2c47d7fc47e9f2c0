//! The `vereda-api` binary as an operator meets it: bad configuration stops it with a message
//! naming the setting, `openapi` prints the committed contract, `check` reports the database,
//! queue and mail before going live, and its logs, written to a pipe, are JSON lines without
//! colour codes, each request's lines carrying its id.

use std::process::Command;

fn api() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vereda-api"));
    // Start from a clean slate: no VEREDA_* from the caller's environment.
    for (k, _) in std::env::vars() {
        if k.starts_with("VEREDA_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

#[test]
fn invalid_configuration_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("VEREDA_LISTEN", "not-an-address"),
        ("VEREDA_DATABASE_URL", "mysql://localhost/vereda"),
        ("VEREDA_MARGIN", "2"),
        ("VEREDA_ADMIN_EMAIL", "nobody"),
        ("VEREDA_ADMIN_PASSWORD", "short"),
        ("VEREDA_SMTP_URL", "http://mail"),
        ("VEREDA_LOG_FORMAT", "xml"),
    ];
    for (var, value) in cases {
        let out = api()
            .env("VEREDA_DATA_DIR", dir.path())
            .env(var, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(var), "{var}: {stderr}");
        if var == "VEREDA_ADMIN_PASSWORD" {
            assert!(
                !stderr.contains(value),
                "the secret itself is not printed: {stderr}"
            );
        }
    }

    let file = dir.path().join("vereda.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nmystery = 1\n").unwrap();
    let out = api().env("VEREDA_CONFIG", &file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mystery"));
}

#[test]
fn openapi_subcommand_prints_the_committed_contract() {
    let out = api().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../contracts/openapi.json")).unwrap();
    assert_eq!(
        printed, committed,
        "regenerate with `cargo run -p vereda-api -- openapi > contracts/openapi.json`"
    );
}

/// Read the answer of one HTTP/1.1 GET: its head, lower-cased.
fn get(addr: &str, path: &str, request_id: Option<&str>) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let id = request_id.map_or(String::new(), |id| format!("X-Request-Id: {id}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{id}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer.split("\r\n\r\n").next().unwrap().to_lowercase()
}

#[test]
fn logs_to_a_pipe_are_json_lines_with_the_request_id() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let mut child = api()
        .env("VEREDA_DATA_DIR", dir.path())
        .env("VEREDA_LISTEN", "127.0.0.1:0")
        .env("VEREDA_ADMIN_PASSWORD", "admin-password-for-tests")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || rx.recv_timeout(std::time::Duration::from_secs(60));
    let mut seen = Vec::new();
    // The banner (plain text, for a person) names the address.
    let addr = loop {
        let line = next().expect("vereda-api stopped before it listened");
        seen.push(line.clone());
        if let Some(rest) = line.strip_prefix("App: http://") {
            break rest.trim_end_matches('/').to_string();
        }
    };
    // A proxy's id is kept and returned; without one, an id is made.
    let head = get(&addr, "/healthz", Some("prueba-123"));
    assert!(head.contains("x-request-id: prueba-123"), "{head}");
    let head = get(&addr, "/readyz", Some("no vale; esto"));
    let made = head
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .expect("an id made for the request")
        .to_string();
    assert!(
        made.len() == 32 && made.bytes().all(|b| b.is_ascii_hexdigit()),
        "{made}"
    );
    let mut found = (false, false);
    while found != (true, true) {
        let line = next().expect("the request lines");
        seen.push(line.clone());
        if !line.starts_with('{') {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v["path"] == "/healthz" {
            assert_eq!(v["span"]["request_id"], "prueba-123", "{line}");
            assert_eq!(v["status"], 200);
            found.0 = true;
        }
        if v["path"] == "/readyz" {
            assert_eq!(v["span"]["request_id"], made.as_str(), "{line}");
            found.1 = true;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    // Logs (after the banner) are JSON, and nothing carries a terminal colour code.
    assert!(seen.iter().all(|l| !l.contains('\u{1b}')), "{seen:#?}");
    assert!(
        seen.iter().filter(|l| l.starts_with('{')).count() >= 3,
        "{seen:#?}"
    );
}

#[test]
fn check_reports_the_database_queue_and_mail_and_fails_on_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vereda.db");
    let url = format!("sqlite:{}", db.display());
    let known = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite"))
        .unwrap()
        .count();
    let check = |smtp: Option<&str>| {
        let mut cmd = api();
        cmd.arg("check")
            .env("VEREDA_DATA_DIR", dir.path())
            .env("VEREDA_DATABASE_URL", &url)
            .env("VEREDA_ADMIN_PASSWORD", "una-clave-muy-secreta");
        if let Some(smtp) = smtp {
            cmd.env("VEREDA_SMTP_URL", smtp);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(!stdout.contains("una-clave-muy-secreta"), "{stdout}");
        (out.status.code(), stdout)
    };

    // A database never started on: it answers, nothing applied yet, no problem.
    let (code, out) = check(None);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("0 applied of {known} known")),
        "{out}"
    );
    assert!(
        out.contains("not configured") && out.contains("result: ok"),
        "{out}"
    );

    // Once the product has migrated it: all applied, the queue read.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = vereda_store::db::Db::connect(&url, &Default::default())
            .await
            .unwrap();
        db.migrate().await.unwrap();
    });
    let (code, out) = check(None);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("{known} applied of {known} known")),
        "{out}"
    );
    assert!(out.contains("0 waiting, 0 running, 0 given up"), "{out}");

    // An SMTP server that does not answer is a problem; its password is never printed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (code, out) = check(Some(&format!(
        "smtp://vereda:hunter2-smtp@127.0.0.1:{port}"
    )));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("PROBLEM") && out.contains("SMTP server does not answer"),
        "{out}"
    );
    assert!(out.contains("smtp://vereda:***@127.0.0.1"), "{out}");
    assert!(!out.contains("hunter2"), "{out}");
}

#[test]
fn backup_and_restore_from_the_command_line() {
    let live = tempfile::tempdir().unwrap();
    let live_db = live.path().join("vereda.db");
    let url = format!("sqlite:{}", live_db.display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    // A migrated database with a person in it, and a mail in the outbox.
    rt.block_on(async {
        let db = vereda_store::db::Db::connect(&url, &Default::default())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        vereda_store::on_db!(&db, |p| sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) \
             VALUES ('u1', 'respaldo@vereda.test', 'Ana Respaldo', 'x', 'admin', 1, 1)"
        )
        .execute(p)
        .await
        .unwrap()
        .rows_affected());
        db.close().await;
    });
    std::fs::create_dir_all(live.path().join("outbox")).unwrap();
    std::fs::write(live.path().join("outbox/uno.eml"), "hola").unwrap();
    let run = |dir: &std::path::Path, args: &[&str]| {
        let out = api()
            .env("VEREDA_DATA_DIR", dir)
            .env("VEREDA_ADMIN_PASSWORD", "una-clave-muy-secreta")
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };

    let archive = tempfile::tempdir().unwrap();
    let tar = archive.path().join("copia.tar");
    let tar_arg = tar.to_str().unwrap();
    let (code, out) = run(live.path(), &["backup", "--to", tar_arg]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("backup written") && out.contains("1 outbox files"),
        "{out}"
    );

    // Nothing to back up in an empty folder; not a backup; onto a database that is there.
    let empty = tempfile::tempdir().unwrap();
    let (code, out) = run(empty.path(), &["backup", "--to", tar_arg]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("no database"), "{out}");
    assert!(
        !empty.path().join("vereda.db").exists(),
        "backup creates no database"
    );
    let junk = archive.path().join("junk.tar");
    std::fs::write(&junk, "not a tar file at all").unwrap();
    let (code, out) = run(empty.path(), &["restore", "--from", junk.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("not a Vereda backup"), "{out}");
    assert!(!empty.path().join("vereda.db").exists());
    let (code, out) = run(live.path(), &["restore", "--from", tar_arg]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("--force"), "{out}");

    // Into a new folder: the person and the mail are there.
    let fresh = tempfile::tempdir().unwrap();
    let (code, out) = run(fresh.path(), &["restore", "--from", tar_arg]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        std::fs::read_to_string(fresh.path().join("outbox/uno.eml")).unwrap(),
        "hola"
    );
    let fresh_url = format!("sqlite:{}", fresh.path().join("vereda.db").display());
    let name: String = rt.block_on(async {
        let db = vereda_store::db::Db::connect(&fresh_url, &Default::default())
            .await
            .unwrap();
        let name = vereda_store::on_db!(&db, |p| sqlx::query_scalar(
            "SELECT name FROM users WHERE id = 'u1'"
        )
        .fetch_one(p)
        .await
        .unwrap());
        // As if a newer Vereda had migrated it further.
        vereda_store::on_db!(&db, |p| sqlx::query(
            "INSERT INTO _vereda_migrations \
             (version, description, success, checksum, execution_time) \
             VALUES (99990101, 'from the future', 1, x'00', 0)"
        )
        .execute(p)
        .await
        .unwrap()
        .rows_affected());
        db.close().await;
        name
    });
    assert_eq!(name, "Ana Respaldo");

    // This version will not start on a database a newer one migrated; check says so too.
    let (code, out) = run(fresh.path(), &["--listen", "127.0.0.1:0"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("newer Vereda") && out.contains("99990101"),
        "{out}"
    );
    let (code, out) = run(fresh.path(), &["check"]);
    assert_eq!(code, Some(1), "{out}");

    // Forced over a database: it is kept aside, not lost.
    let (code, out) = run(fresh.path(), &["restore", "--from", tar_arg, "--force"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("kept as"), "{out}");
    let aside: Vec<String> = std::fs::read_dir(fresh.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| {
            n.starts_with("vereda.db.before-restore-")
                && !n.ends_with("-wal")
                && !n.ends_with("-shm")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
}
