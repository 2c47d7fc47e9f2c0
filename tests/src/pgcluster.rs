//! A throw-away PostgreSQL cluster of a test's own: `initdb` into a temporary folder, its own
//! free port and socket folder, started and stopped with `pg_ctl`. For tests that stop the
//! database under a running app, so the shared server of the rest of the suite is never
//! touched. `initdb` and `postgres` refuse to run as root (CI runs as root), so there they run
//! as the `postgres` OS user, in a folder handed over to it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct PgCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
    as_postgres: bool,
    running: bool,
}

impl PgCluster {
    /// Whether PostgreSQL's server binaries are installed (a test without them skips).
    pub fn available() -> bool {
        find_bin().is_some()
    }

    /// Create and start a cluster; `Err` says why it could not.
    pub fn start() -> Result<PgCluster, String> {
        let bin = find_bin().ok_or("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")?;
        let as_postgres = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("vereda-pgcluster-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        if as_postgres {
            let out = Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .output()
                .map_err(|e| format!("chown: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "cannot hand the folder to the postgres user: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        let port = free_port().map_err(|e| e.to_string())?;
        let mut cluster = PgCluster {
            bin,
            dir,
            port,
            as_postgres,
            running: false,
        };
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        cluster.start_again()?;
        Ok(cluster)
    }

    /// Where the test's app connects.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stop the cluster the hard way (`-m immediate`: no shutdown checkpoint, connections cut;
    /// the next start recovers from the WAL, as after a crash).
    pub fn stop(&mut self) -> Result<(), String> {
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &["-D", path_str(&data), "-m", "immediate", "-w", "stop"],
        )?;
        self.running = false;
        Ok(())
    }

    /// Start it (again), on the same port, and wait until it accepts connections.
    pub fn start_again(&mut self) -> Result<(), String> {
        let data = self.data_dir();
        let log = self.dir.path().join("postgres.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            path_str(self.dir.path())
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&log),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )?;
        self.running = true;
        Ok(())
    }

    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<Output, String> {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        // Run from a folder the postgres user may read (not the caller's working folder).
        let out = cmd
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{program} {args:?} failed: {}{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.log()
            ));
        }
        Ok(out)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.running {
            let _ = self.stop();
        }
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` that has `initdb` and `pg_ctl`.
fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// A free port *below* the kernel's ephemeral range. A port from that range (what binding to
/// port 0 hands out) can be taken while the cluster is down: the app's pool keeps dialling
/// 127.0.0.1:<port>, and one dial may be given <port> itself as its local port and connect to
/// itself (TCP simultaneous open), so `postgres` could not bind it again (seen in CI).
fn free_port() -> std::io::Result<u16> {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (from, span) = (10_000u16, low.saturating_sub(10_000).max(1));
    let seed = std::process::id()
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
    for i in 0..u32::from(span) {
        let port = from + ((seed.wrapping_add(i.wrapping_mul(7919))) % u32::from(span)) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}
