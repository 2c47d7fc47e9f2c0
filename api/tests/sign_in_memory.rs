//! Memory exhaustion without signing in (issue 13 §3): the real `vereda-api` binary in its own
//! process takes three storms of 1,000 simultaneous failed sign-ins, each from its own address (a botnet, so
//! the per-address limit does not help and every one reaches password hashing), while
//! `/healthz` is asked throughout. Its resident memory, sampled from /proc every 20 ms, must
//! stay under 300 MB, what the storms leave behind must level off (memory is reused, not
//! piled up: the old code never gave back what each burst took), and every sign-in must get a clean answer: 401, or 503/429 with
//! `Retry-After` when the hashing queue is full. On SQLite, or on PostgreSQL when
//! `VEREDA_TEST_POSTGRES_URL` is set.
//!
//! Raw HTTP/1.1 over sockets bound to 127.1.x.y: anything in 127.0.0.0/8 is this machine's
//! loopback, so each request has its own source address and nothing leaves the machine.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vereda_store::scratch::ScratchDb;

const SIGN_INS: usize = 1_000;
/// Storms, one after the other. What each leaves behind (allocator arenas, connection and
/// SQLite caches; measured over seven storms: 120, 131, 140, 143, 144, 144, 155 MB) must stay
/// small: the old code kept 19 MiB for every hash that ran at once.
const ROUNDS: u8 = 3;
const LIMIT_KB: u64 = 300 * 1024;

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(url: &str, dir: &std::path::Path) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vereda-api"));
    for (k, _) in std::env::vars() {
        if k.starts_with("VEREDA_") {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .env("VEREDA_DATABASE_URL", url)
        .env("VEREDA_DATA_DIR", dir)
        .env("VEREDA_LISTEN", "127.0.0.1:0")
        .env("VEREDA_ADMIN_EMAIL", "admin@memoria.test")
        .env("VEREDA_ADMIN_PASSWORD", "admin-password-for-tests")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vereda-api");
    // The banner's first address is the app's: "App: http://127.0.0.1:PORT/".
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("vereda-api stopped before it listened")
            .unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest
                .trim_end_matches("/docs")
                .trim_end_matches('/')
                .parse()
                .unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, addr }
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// One HTTP/1.1 request from `from`; the status and whether `Retry-After` came with it.
async fn request(
    to: SocketAddr,
    from: Option<IpAddr>,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, bool)> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    if let Some(ip) = from {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let mut s = socket.connect(to).await?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {to}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, text.contains("\r\nretry-after:")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_failed_sign_ins_keep_the_server_small_and_answering() {
    let dir = tempfile::tempdir().unwrap();
    // Declared before the server, so it is dropped after it.
    let db = ScratchDb::for_tests("vereda_mem", dir.path()).await;
    let server = start(&db.url, dir.path());
    let pid = server.child.id();
    let addr = server.addr;
    let baseline = rss_kb(pid).unwrap();

    // Sample memory throughout; over the limit, stop the server at once (the old code went to
    // gigabytes within seconds on a shared machine).
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(baseline));
    let sampler = {
        let (done, peak) = (done.clone(), peak.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                match rss_kb(pid) {
                    Some(kb) => {
                        peak.fetch_max(kb, Ordering::SeqCst);
                        if kb > LIMIT_KB {
                            let _ = Command::new("kill").arg(pid.to_string()).status();
                            return;
                        }
                    }
                    None => return,
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    // Liveness throughout: every probe answers 200. The bound is for a server that has stopped
    // answering (the old one swapped itself to death), not a speed: on a 2-core machine shared
    // with builds, a probe queued behind the storm's 1,000 connections took just over 2 s.
    let health = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut slow = Vec::new();
            let mut probes = 0;
            while !done.load(Ordering::SeqCst) {
                let t = Instant::now();
                let r = tokio::time::timeout(
                    Duration::from_secs(10),
                    request(addr, None, "GET", "/healthz", ""),
                )
                .await;
                probes += 1;
                match r {
                    Ok(Ok((200, _))) => {}
                    other => slow.push(format!("{other:?} after {:?}", t.elapsed())),
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (probes, slow)
        })
    };

    let mut answers = Vec::new();
    let mut after = Vec::new();
    let started = Instant::now();
    for round in 0..ROUNDS {
        answers.extend(
            futures::future::join_all((0..SIGN_INS).map(|i| async move {
                let from = IpAddr::V4(Ipv4Addr::new(
                    127,
                    1 + round,
                    (i / 250) as u8,
                    (i % 250 + 1) as u8,
                ));
                let body = format!(
                    r#"{{"email": "nadie-{round}-{i}@ataque.test", "password": "adivina-{i}-adivina"}}"#
                );
                request(addr, Some(from), "POST", "/v1/auth/login", &body).await
            }))
            .await,
        );
        // A few seconds more, for memory that is kept after the storm.
        tokio::time::sleep(Duration::from_secs(3)).await;
        after.push(rss_kb(pid).unwrap_or(u64::MAX));
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::SeqCst);
    sampler.join().unwrap();
    let (probes, slow) = health.await.unwrap();

    let peak = peak.load(Ordering::SeqCst);
    let mut counts = std::collections::BTreeMap::new();
    let mut bad = Vec::new();
    for (i, a) in answers.iter().enumerate() {
        match a {
            Ok((401, _)) => *counts.entry(401).or_insert(0) += 1,
            Ok((s @ (503 | 429), true)) => *counts.entry(*s).or_insert(0) += 1,
            other => bad.push(format!("sign-in {i}: {other:?}")),
        }
    }
    eprintln!(
        "{ROUNDS} x {SIGN_INS} sign-ins in {elapsed:?}: {counts:?}; RSS baseline {} MB, peak {} MB, \
         after each storm {:?} MB; {probes} health probes",
        baseline / 1024,
        peak / 1024,
        after.iter().map(|kb| kb / 1024).collect::<Vec<_>>()
    );
    assert!(
        peak <= LIMIT_KB,
        "the server grew to {} MB (stopped)",
        peak / 1024
    );
    assert!(
        after[2] <= after[0] + 64 * 1024,
        "memory piles up from storm to storm: {after:?} kB"
    );
    assert!(
        bad.is_empty(),
        "{} unclean answers: {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
    assert!(
        counts.get(&401).copied().unwrap_or(0) > 0,
        "no sign-in was ever checked: {counts:?}"
    );
    assert!(probes > 0 && slow.is_empty(), "/healthz stalled: {slow:?}");
    drop(server);
}
