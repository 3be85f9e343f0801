//! The data directory is private to the server's user.
//!
//! It holds password hashes, every message and the token signing secret, so
//! the directory is 0700 and every file in it 0600, whatever the umask. A
//! directory left readable by an older version or a careless copy is
//! tightened on start, and the change is logged.

use std::{
    fs::{DirBuilder, OpenOptions, Permissions},
    io,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::Path,
};

/// Mode of the data directory.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of every file in it.
pub(crate) const FILE_MODE: u32 = 0o600;

/// Creates `data_dir` (0700) if missing, tightens it and the regular files
/// directly inside it, and creates `database` (0600) if missing. SQLite gives
/// the `-wal` and `-shm` files it creates the mode of the database file, so
/// creating that one first keeps them private too.
pub(crate) fn prepare(data_dir: &Path, database: &Path) -> io::Result<()> {
    secure(data_dir)?;
    OpenOptions::new().write(true).create(true).truncate(false).mode(FILE_MODE).open(database)?;
    Ok(())
}

/// Creates the data directory if needed and makes it and the files in it
/// readable by the server's user alone (the PostgreSQL backend keeps only
/// the generated token secret there, which needs it all the same).
pub(crate) fn secure(data_dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(data_dir)?;
    tighten(data_dir, DIR_MODE)?;
    for entry in std::fs::read_dir(data_dir)? {
        let entry = entry?;
        // Symlinks are left alone: chmod would follow them out of the
        // directory.
        if entry.file_type()?.is_file() {
            tighten(&entry.path(), FILE_MODE)?;
        }
    }
    Ok(())
}

/// Removes every permission bit beyond `mode`, logging what it changed.
fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    let was = std::fs::symlink_metadata(path)?.permissions().mode() & 0o7777;
    if was & !mode == 0 {
        return Ok(());
    }
    let now = was & mode;
    std::fs::set_permissions(path, Permissions::from_mode(now))?;
    tracing::warn!(
        path = %path.display(),
        was = format!("{was:o}"),
        now = format!("{now:o}"),
        "tightened permissions: the data directory is private to the server's user"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_fresh_directory_is_created_private() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        let db = dir.join("chat.db");
        prepare(&dir, &db).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&db), 0o600);
    }

    #[test]
    fn an_open_directory_and_its_files_are_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chat.db");
        let other = dir.path().join("jwt_secret");
        std::fs::write(&db, b"").unwrap();
        std::fs::write(&other, b"x").unwrap();
        std::fs::set_permissions(dir.path(), Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&db, Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&other, Permissions::from_mode(0o666)).unwrap();
        prepare(dir.path(), &db).unwrap();
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&other), 0o600);
    }

    #[test]
    fn tighter_modes_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chat.db");
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, Permissions::from_mode(0o400)).unwrap();
        prepare(dir.path(), &db).unwrap();
        assert_eq!(mode(&db), 0o400);
    }
}
