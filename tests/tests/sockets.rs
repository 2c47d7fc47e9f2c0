//! The database connections' sockets (alone in its binary, so no other test's connections are
//! open meanwhile).

use vereda_store::db::Db;
use vereda_store::on_db;
use vereda_tests::*;

/// The product's PostgreSQL connections send without Nagle's delay (`TCP_NODELAY`): sqlx
/// 0.9.0 stopped setting it and `db::disable_nagle_on_sockets` puts it back. Without it a
/// statement with a few hundred parameters waited ~40 ms for a delayed ACK.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn database_connections_send_without_delay() {
    let app = spawn_app().await;
    let Db::Postgres(_) = &app.db else {
        return; // SQLite has no socket.
    };
    app.get("/readyz", None).await.ok(200);
    let admin = app.admin_token().await;
    app.get("/v1/me", Some(&admin)).await.ok(200);
    // The local ports of the connections PostgreSQL serves for our database.
    let ports: Vec<i32> = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT client_port FROM pg_stat_activity \
         WHERE datname = current_database() AND client_port IS NOT NULL"
    )
    .fetch_all(p)
    .await
    .unwrap());
    // Their sockets: /proc/net/tcp gives local port → inode, /proc/self/fd inode → fd.
    let mut inodes = std::collections::HashSet::new();
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local_port = cols
                .get(1)
                .and_then(|l| l.rsplit(':').next())
                .and_then(|p| i32::from_str_radix(p, 16).ok());
            if local_port.is_some_and(|p| ports.contains(&p))
                && let Some(inode) = cols.get(9)
            {
                inodes.insert(format!("socket:[{inode}]"));
            }
        }
    }
    let mut checked = 0;
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        if !inodes.contains(target.to_string_lossy().as_ref()) {
            continue;
        }
        let fd: i32 = entry.file_name().to_str().unwrap().parse().unwrap();
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `value`.
        #[allow(unsafe_code)] // getsockopt has no safe wrapper that takes a raw fd.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0, "getsockopt on fd {fd}");
        assert_eq!(
            value, 1,
            "a database connection (fd {fd}) still uses Nagle's algorithm"
        );
        checked += 1;
    }
    assert!(checked > 0, "found none of the connections {ports:?}");
}
