// Migrations are embedded with include_dir; make cargo rebuild when one is added or changed.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
