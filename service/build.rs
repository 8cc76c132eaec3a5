//! The UI in `ui/dist` is embedded by `rust-embed` in release builds (debug builds read it from
//! disk). Vite names its assets by hash, so new files appear on every UI build: a release build
//! watches the folder (or `ui/` until it exists) so the binary is rebuilt with them. A debug
//! build watches nothing there, so a UI rebuild does not recompile the service.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        return;
    }
    if std::path::Path::new("../ui/dist").exists() {
        println!("cargo:rerun-if-changed=../ui/dist");
    } else {
        println!("cargo:rerun-if-changed=../ui");
    }
}
