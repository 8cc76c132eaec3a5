//! The UI in `ui/dist` is embedded by `rust-embed` in release builds. Vite names its assets by
//! hash, so new files appear on every UI build: watch the folder (or `ui/` until it exists) so
//! the binary is rebuilt with them.
fn main() {
    if std::path::Path::new("../ui/dist").exists() {
        println!("cargo:rerun-if-changed=../ui/dist");
    } else {
        println!("cargo:rerun-if-changed=../ui");
    }
}
