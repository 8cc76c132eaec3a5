//! The UI in `ui/dist` is embedded by `rust-embed` in release builds; debug builds read it from
//! disk at each request, but only if the folder existed when they were compiled (else the embed
//! is empty: `allow_missing`). So:
//! - no `ui/dist` yet: watch `ui/`, so the binary is rebuilt once the UI is built;
//! - release: watch `ui/dist` (Vite names assets by hash: new files on every UI build);
//! - debug with `ui/dist`: watch nothing there, so a UI rebuild does not recompile the service.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    if !std::path::Path::new("../ui/dist").exists() {
        println!("cargo:rerun-if-changed=../ui");
    } else if release {
        println!("cargo:rerun-if-changed=../ui/dist");
    }
}
