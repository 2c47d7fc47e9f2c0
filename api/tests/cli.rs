//! The `vereda-api` binary as an operator meets it: bad configuration stops it with a message
//! naming the setting, and `openapi` prints the committed contract.

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
