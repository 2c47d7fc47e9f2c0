//! How the process asks glibc's malloc for memory (issue 23 §7).
//!
//! glibc gives a thread that finds the allocator busy an arena of its own, up to eight per core,
//! and keeps in each arena what is freed there. The server's threads (tokio's, the blocking
//! pool's, one per SQLite connection) each came to hold their own: measured with
//! `vereda-bench --scale small` on SQLite, the server peaked at 184 MB with glibc's defaults and
//! 151 MB with two arenas, for the same work. A fixed mmap threshold keeps large buffers (PDFs,
//! statement runs, a listing's bytes) in their own mappings, returned when freed: glibc
//! otherwise raises the threshold after each large free, and later buffers of that size stay in
//! the arenas.

/// A binary's `main`: tune malloc, then run `main` on a multi-threaded tokio runtime (what
/// `#[tokio::main]` does, which would start the threads first).
pub fn run<F: std::future::Future>(main: F) -> F::Output {
    tune_malloc();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
        .block_on(main)
}

/// Tune malloc before the process starts its threads. Does nothing outside glibc.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // mallopt has no safe wrapper; it only sets parameters and returns 1 on success.
        #[allow(unsafe_code)]
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        }
    }
}
