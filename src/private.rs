//! Folders and files that hold secrets — the data folder, the SQLite database and its `-wal` and
//! `-shm` files, the private keys in `<data>/certs/` — are their owner's only (0700, 0600). They
//! are created so, never widened and narrowed afterwards: a file that was readable for a moment
//! may have been opened, and an open file stays readable. What an older install left open is
//! tightened, with a warning naming the path. Elsewhere than Unix these are plain calls.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// An IO failure that names the path it happened on.
fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Io(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", path.display()),
    ))
}

/// Creates `dir` and any missing parents as 0700. Existing folders are left as they are: the
/// database may live in a folder that is not ours to change.
pub(crate) fn create_dirs(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| io_err(dir, e))
}

/// Makes `dir` (`what` names it in messages) a folder only its owner may enter: created 0700,
/// or tightened to 0700 if it exists and is open to group or others.
pub(crate) fn dir(dir: &Path, what: &str) -> Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => tighten_to(dir, &meta, 0o700, what),
        Ok(_) => Err(Error::Config(format!(
            "{what} {} is not a folder",
            dir.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_dirs(dir),
        Err(e) => Err(io_err(dir, e)),
    }
}

/// Makes sure the file `path` exists and is its owner's only: created empty as 0600 if missing
/// (so whatever later writes to it starts private), tightened to 0600 if it is open.
pub(crate) fn file(path: &Path, what: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => tighten(path, what),
        Err(e) => Err(io_err(path, e)),
    }
}

/// Tightens the file `path` to 0600 if it exists and group or others may read it; a missing file
/// is fine.
pub(crate) fn tighten(path: &Path, what: &str) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) => tighten_to(path, &meta, 0o600, what),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path, e)),
    }
}

/// Writes `contents` to `path` as a 0600 file. The bytes go to a new file beside it, created
/// 0600, which then replaces `path`: no byte is ever in a file someone else could read (or had
/// open already), and a reader sees the old file or the new one, never half of it.
pub(crate) fn write(path: &Path, contents: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp: PathBuf = path.with_file_name(format!(".{name}.tmp"));
    // A leftover of a write that was interrupted; its bytes were private too.
    match std::fs::remove_file(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&temp, e)),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io_err(&temp, e));
    }
    std::fs::rename(&temp, path).map_err(|e| io_err(path, e))
}

#[cfg(unix)]
fn tighten_to(path: &Path, meta: &std::fs::Metadata, mode: u32, what: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let was = meta.permissions().mode() & 0o7777;
    if was & 0o077 == 0 {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
        Error::Config(format!(
            "{what} {} is open to group or others ({was:o}) and cannot be made {mode:o}: {e}",
            path.display()
        ))
    })?;
    tracing::warn!(
        path = %path.display(),
        was = %format!("{was:o}"),
        now = %format!("{mode:o}"),
        "{what} was open to group or others; made it its owner's only"
    );
    Ok(())
}

#[cfg(not(unix))]
fn tighten_to(_path: &Path, _meta: &std::fs::Metadata, _mode: u32, _what: &str) -> Result<()> {
    Ok(())
}
