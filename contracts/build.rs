// `sqlx::migrate!` embeds the migration files but does not tell cargo to watch the folder on
// stable Rust, so a new migration would not rebuild this crate without this.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
