//! `sqlx::migrate!` embeds `../migrations` at compile time but cannot ask Cargo
//! to rebuild when a migration is added; this does.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
