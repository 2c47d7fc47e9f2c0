//! Every SQL statement the product runs is prepared on the database of this pass (SQLite, or
//! PostgreSQL with `VEREDA_TEST_POSTGRES_URL`) against the migrated schema (issue 16 §3).
//!
//! sqlx's compile-time checked macros need one database at build time and cannot check one
//! query against two dialects, so this test does it at run time instead: it reads the sources
//! of the crates that talk to the database, takes the string literal (or the `const` of the
//! same file) given to every `query`, `query_as` and `query_scalar` call, and asks the server
//! to prepare it. A misspelt column, a table a migration forgot in one dialect or SQL only one
//! dialect understands fails here, with its file and line, instead of in front of a person.
//! Statements assembled at run time (`AssertSqlSafe(format!(…))`) cannot be read this way;
//! the test counts them so the number can only go down knowingly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use vereda_store::db::Db;
use vereda_tests::*;

/// Statements built at run time, which this test cannot prepare. Lower it when one becomes a
/// literal; raising it needs a reason in the commit (62: the data export reads its sections
/// from a table of statements, each run on both databases by `data_export.rs`).
const DYNAMIC_AT_MOST: usize = 62;

/// The crates whose sources hold SQL the product runs.
const SOURCES: [&str; 3] = ["api/src", "worker/src", "store/src"];

/// Which database a statement is for: the few written for one dialect only (the queue's own
/// tables, advisory locks, casts) run inside that dialect's arm of a `match` on the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum For {
    Both,
    Sqlite,
    Postgres,
}

fn dialect_of(sql: &str) -> For {
    let pg = ["apalis.", "pg_advisory", "::bigint", "::text", "::int"];
    let sqlite = ["FROM Jobs", "JOIN Jobs", "sqlite_", "PRAGMA", "VACUUM INTO"];
    if pg.iter().any(|m| sql.contains(m)) {
        For::Postgres
    } else if sqlite.iter().any(|m| sql.contains(m)) {
        For::Sqlite
    } else {
        For::Both
    }
}

#[derive(Debug)]
struct Statement {
    sql: String,
    at: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn string_value(t: &TokenTree) -> Option<String> {
    let TokenTree::Literal(lit) = t else {
        return None;
    };
    syn::parse2::<syn::LitStr>(TokenStream::from(TokenTree::Literal(lit.clone())))
        .ok()
        .map(|s| s.value())
}

/// `const NAME: &str = "…";` anywhere in the file (token order: const, NAME, :, &, str, =, lit).
fn consts(tokens: &[TokenTree], out: &mut HashMap<String, String>) {
    for w in tokens.windows(7) {
        if let (TokenTree::Ident(k), TokenTree::Ident(name)) = (&w[0], &w[1])
            && k == "const"
            && let Some(value) = string_value(&w[6])
        {
            out.insert(name.to_string(), value);
        }
    }
    for t in tokens {
        if let TokenTree::Group(g) = t {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            consts(&inner, out);
        }
    }
}

/// The first argument of every `query(…)`, `query_as(…)`, `query_scalar(…)` (turbofish
/// allowed), inside macros too: token streams keep macro bodies whole.
fn calls(
    tokens: &[TokenTree],
    file: &str,
    consts: &HashMap<String, String>,
    found: &mut Vec<Statement>,
    dynamic: &mut Vec<String>,
) {
    for (i, t) in tokens.iter().enumerate() {
        match t {
            TokenTree::Ident(id)
                if ["query", "query_as", "query_scalar"].contains(&id.to_string().as_str()) =>
            {
                // Skip a turbofish `::<…>` to the argument list.
                let mut j = i + 1;
                if matches!(tokens.get(j), Some(TokenTree::Punct(p)) if p.as_char() == ':') {
                    let mut depth = 0;
                    while let Some(t) = tokens.get(j) {
                        if let TokenTree::Punct(p) = t {
                            match p.as_char() {
                                '<' => depth += 1,
                                '>' => {
                                    depth -= 1;
                                    if depth == 0 {
                                        j += 1;
                                        break;
                                    }
                                }
                                _ => {}
                            }
                        }
                        j += 1;
                    }
                }
                let Some(TokenTree::Group(args)) = tokens.get(j) else {
                    continue;
                };
                if args.delimiter() != Delimiter::Parenthesis {
                    continue;
                }
                let line = id.span().start().line;
                let at = format!("{file}:{line}");
                let first = args.stream().into_iter().next();
                match first.as_ref() {
                    Some(t) if string_value(t).is_some() => found.push(Statement {
                        sql: string_value(t).unwrap_or_default(),
                        at,
                    }),
                    Some(TokenTree::Ident(name)) if consts.contains_key(&name.to_string()) => found
                        .push(Statement {
                            sql: consts[&name.to_string()].clone(),
                            at,
                        }),
                    // `fn query(…)` declarations and calls with no argument are not SQL.
                    None => {}
                    Some(_) => dynamic.push(at),
                }
            }
            TokenTree::Group(g) => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                calls(&inner, file, consts, found, dynamic);
            }
            _ => {}
        }
    }
}

fn statements() -> (Vec<Statement>, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in SOURCES {
        rust_files(&root.join(dir), &mut files);
    }
    files.sort();
    let (mut found, mut dynamic) = (Vec::new(), Vec::new());
    for path in files {
        let text = std::fs::read_to_string(&path).expect("source file");
        let tokens: Vec<TokenTree> = text
            .parse::<TokenStream>()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .into_iter()
            .collect();
        let mut named = HashMap::new();
        consts(&tokens, &mut named);
        let file = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        calls(&tokens, &file, &named, &mut found, &mut dynamic);
    }
    (found, dynamic)
}

#[test]
fn the_scan_finds_the_statements_it_should() {
    let (found, dynamic) = statements();
    // A floor well under today's count: if the scan broke, it would find next to nothing.
    assert!(found.len() > 150, "only {} statements found", found.len());
    assert!(
        found
            .iter()
            .any(|s| s.sql.starts_with("INSERT INTO ledger_entries")),
        "the journal's insert is among them"
    );
    assert!(
        dynamic.len() <= DYNAMIC_AT_MOST,
        "{} statements are assembled at run time (at most {DYNAMIC_AT_MOST}): {dynamic:#?}",
        dynamic.len()
    );
}

#[tokio::test]
async fn every_statement_prepares_on_this_database() {
    use sqlx::{Executor, SqlSafeStr};
    let app = spawn_app_without_worker().await;
    let (found, _) = statements();
    let (mut failures, mut undecided) = (Vec::new(), 0);
    for s in &found {
        let result = match (&app.db, dialect_of(&s.sql)) {
            (Db::Sqlite(_), For::Postgres) | (Db::Postgres(_), For::Sqlite) => continue,
            (Db::Sqlite(pool), _) => pool
                .prepare(sqlx::AssertSqlSafe(s.sql.clone()).into_sql_str())
                .await
                .map(|_| ()),
            (Db::Postgres(pool), _) => pool
                .prepare(sqlx::AssertSqlSafe(s.sql.clone()).into_sql_str())
                .await
                .map(|_| ()),
        };
        if let Err(e) = result {
            // PostgreSQL cannot always infer a parameter's type without the values sqlx sends
            // with them at run time (`$1 IS NULL OR …`); the statement parsed, which is what
            // can be checked here.
            let undecidable = e
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "42P18" || c == "42P08");
            undecided += usize::from(undecidable);
            if !undecidable {
                failures.push(format!("{}: {e}\n    {}", s.at, s.sql));
            }
        }
    }
    println!(
        "{} statements prepared, {undecided} parsed but with a parameter type only known at run time",
        found.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} statements do not prepare:\n{}",
        failures.len(),
        found.len(),
        failures.join("\n")
    );
}

/// A `Cop` binds as its centavos and reads back from a `BIGINT` column, on this database.
#[tokio::test]
async fn money_reads_and_writes_itself_as_centavos() {
    use vereda_contracts::money::Cop;
    let app = spawn_app_without_worker().await;
    for amount in [
        Cop::ZERO,
        Cop::pesos(48_485),
        Cop::pesos(-1_250),
        Cop::pesos(9_000_000_000),
    ] {
        let (back, centavos): (Cop, i64) = vereda_store::on_db!(&app.db, |p| sqlx::query_as(
            "SELECT CAST($1 AS BIGINT), CAST($1 AS BIGINT)"
        )
        .bind(amount)
        .fetch_one(p)
        .await)
        .expect("round trip");
        assert_eq!(back, amount);
        assert_eq!(centavos, amount.centavos());
    }
}
