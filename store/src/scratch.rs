//! Throw-away databases, for the test suites and the benchmark: a new PostgreSQL database on a
//! server the caller names (dropped with the value), or a SQLite file in a folder. Written once
//! here because the API's, the worker's and the product's tests and the benchmark all need it.

use std::path::Path;

use sqlx::Connection;

/// The variable naming the PostgreSQL server where tests may create and drop databases.
pub const TEST_POSTGRES_URL: &str = "VEREDA_TEST_POSTGRES_URL";

/// `VEREDA_TEST_POSTGRES_URL`, when set and not empty. Where PostgreSQL must be tested
/// (`VEREDA_REQUIRE_POSTGRES=1`, CI's PostgreSQL pass), its absence fails the test instead of
/// quietly running it on SQLite.
pub fn test_postgres_url() -> Option<String> {
    let url = std::env::var(TEST_POSTGRES_URL)
        .ok()
        .filter(|s| !s.is_empty());
    if url.is_none() && std::env::var("VEREDA_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
        panic!("VEREDA_REQUIRE_POSTGRES=1 but {TEST_POSTGRES_URL} is not set");
    }
    url
}

/// A fresh database, dropped (PostgreSQL) when this value is dropped. A SQLite file goes with
/// the folder the caller keeps.
#[derive(Debug)]
pub struct ScratchDb {
    pub url: String,
    /// The server's admin URL and the database's name.
    postgres: Option<(String, String)>,
}

impl ScratchDb {
    /// On `VEREDA_TEST_POSTGRES_URL`'s server when it is set, else `vereda.db` in `dir`.
    /// `prefix` starts the PostgreSQL database's name (it says which test left it behind).
    pub async fn for_tests(prefix: &str, dir: &Path) -> ScratchDb {
        match test_postgres_url() {
            Some(admin) => ScratchDb::postgres(&admin, prefix)
                .await
                .unwrap_or_else(|e| panic!("a test database on {TEST_POSTGRES_URL}: {e}")),
            None => ScratchDb::sqlite(dir),
        }
    }

    /// On `VEREDA_TEST_POSTGRES_URL`'s server, or None (after saying so) when it is not set.
    pub async fn for_postgres_tests(prefix: &str) -> Option<ScratchDb> {
        let Some(admin) = test_postgres_url() else {
            println!("skipped: {TEST_POSTGRES_URL} is not set");
            return None;
        };
        Some(
            ScratchDb::postgres(&admin, prefix)
                .await
                .unwrap_or_else(|e| panic!("a test database on {TEST_POSTGRES_URL}: {e}")),
        )
    }

    /// A SQLite file `vereda.db` in `dir`.
    pub fn sqlite(dir: &Path) -> ScratchDb {
        ScratchDb {
            url: format!("sqlite:{}", dir.join("vereda.db").display()),
            postgres: None,
        }
    }

    /// A new database `<prefix>_<random>` on the server `admin_url` names.
    pub async fn postgres(admin_url: &str, prefix: &str) -> Result<ScratchDb, sqlx::Error> {
        let name = format!(
            "{prefix}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        );
        let mut conn = sqlx::PgConnection::connect(admin_url).await?;
        // The name is ours (a prefix and hex digits), not input: safe to splice.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await?;
        Ok(ScratchDb {
            url: with_database(admin_url, &name),
            postgres: Some((admin_url.to_string(), name)),
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// The PostgreSQL database's name.
    pub fn name(&self) -> Option<&str> {
        self.postgres.as_ref().map(|(_, name)| name.as_str())
    }

    /// Keep the PostgreSQL database (the benchmark's `--keep`).
    pub fn keep(mut self) {
        self.postgres = None;
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop may run inside a runtime (a test's), where blocking on another is refused: use
        // a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

/// A PostgreSQL URL with its database name replaced (the query string kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_and_the_options_kept() {
        let cases = [
            ("postgres://u@h:5432/postgres", "postgres://u@h:5432/t"),
            ("postgres://u@h:5432", "postgres://u@h:5432/t"),
            (
                "postgres://u@h/db?sslmode=disable",
                "postgres://u@h/t?sslmode=disable",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "t"), expected, "{url}");
        }
    }
}
