fn main() {
    // The page comes from the in-process service (http://127.0.0.1:PORT), not from Tauri's
    // assets, so its commands are declared here and allowed by capabilities/service-page.json.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&["leave_kiosk", "painted"])),
    )
    .expect("tauri-build failed");
}
