//! Embeds the web client's bundle (`web/`, written by `scripts/build-web.sh`
//! and committed) in the binary: a table of file names and `include_bytes!`,
//! so the server needs nothing beside itself to serve the page. Cargo
//! rebuilds when anything under `web/` changes.

use std::{env, fmt::Write as _, fs, io, path::PathBuf};

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed=web");
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("web");
    let mut names = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            names.push(
                entry.file_name().into_string().map_err(|_| io::Error::other("a bundle file name is not UTF-8"))?,
            );
        }
    }
    names.sort();
    let mut table = String::from("/// Every file of the bundle, by name.\nstatic FILES: &[(&str, &[u8])] = &[\n");
    for name in &names {
        let path = dir.join(name);
        let _ = writeln!(table, "    ({name:?}, include_bytes!({:?})),", path.display().to_string());
    }
    table.push_str("];\n");
    fs::write(PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("web_bundle.rs"), table)
}
