//! Static files (firmware images, ring tones, backgrounds) under the data dir's `files/` folder,
//! served over HTTP and TFTP alike. A requested path is checked segment by segment before it
//! touches the file system, and the opened file must still lie inside the folder once symbolic
//! links are resolved: there is no way out.

use std::fs::{File, Metadata};
use std::io::Read as _;
use std::path::PathBuf;

use bytes::Bytes;

#[derive(Clone, Debug)]
pub struct StaticFiles {
    root: PathBuf,
}

/// An opened static file.
#[derive(Debug)]
pub struct StaticFile {
    pub content: StaticContent,
    /// The bytes that are sent.
    pub len: u64,
    /// A validator from size and modification time (no read of the content needed).
    pub etag: String,
}

/// Where a static file's bytes are.
#[derive(Debug)]
pub enum StaticContent {
    /// A small file (up to `SMALL_FILE`), read whole when opened: it needs no further trip to
    /// the blocking pool.
    Bytes(Bytes),
    File(File),
}

/// Longest path we look at.
const MAX_PATH: usize = 512;

/// Files up to this size are read whole when opened.
const SMALL_FILE: u64 = 64 * 1024;

impl StaticFiles {
    pub fn new(root: PathBuf) -> StaticFiles {
        StaticFiles { root }
    }

    /// The relative path a request names, if it is a safe one: `/` or `\` separate segments, a
    /// leading separator is dropped (an "absolute" path means the folder's root), and every
    /// segment is plain — not empty, not `.` or `..`, no leading dot, no `%` (no percent-encoded
    /// tricks; nothing here is decoded), no NUL, `:` or control character.
    pub fn relative(request: &str) -> Option<PathBuf> {
        if request.len() > MAX_PATH {
            return None;
        }
        let trimmed = request.trim_start_matches(['/', '\\']);
        let mut path = PathBuf::new();
        for segment in trimmed.split(['/', '\\']) {
            let plain = !segment.is_empty()
                && !segment.starts_with('.')
                && !segment
                    .chars()
                    .any(|c| c.is_control() || matches!(c, '%' | ':' | '\0'));
            if !plain {
                return None;
            }
            path.push(segment);
        }
        (!path.as_os_str().is_empty()).then_some(path)
    }

    /// Opens the file `request` names, if it is a safe path to a regular file inside the folder;
    /// a small one is read whole (see `StaticContent`).
    pub fn open(&self, request: &str) -> Option<StaticFile> {
        let relative = Self::relative(request)?;
        // The folder may be created after start, so its canonical form is not kept.
        let root = self.root.canonicalize().ok()?;
        let path = root.join(relative).canonicalize().ok()?;
        if !path.starts_with(&root) {
            return None;
        }
        // Check the kind before opening: opening a FIFO would block.
        if !std::fs::metadata(&path).ok()?.is_file() {
            return None;
        }
        let file = File::open(&path).ok()?;
        let meta: Metadata = file.metadata().ok()?;
        if !meta.is_file() {
            return None;
        }
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let etag = format!("\"{:x}-{modified:x}\"", meta.len());
        if meta.len() > SMALL_FILE {
            return Some(StaticFile {
                content: StaticContent::File(file),
                len: meta.len(),
                etag,
            });
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        (&file).read_to_end(&mut bytes).ok()?;
        Some(StaticFile {
            len: bytes.len() as u64,
            content: StaticContent::Bytes(bytes.into()),
            etag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths() {
        assert_eq!(
            StaticFiles::relative("fw/T54W.rom"),
            Some(PathBuf::from("fw/T54W.rom"))
        );
        assert_eq!(
            StaticFiles::relative("/fw/T54W.rom"),
            Some(PathBuf::from("fw/T54W.rom"))
        );
        assert_eq!(
            StaticFiles::relative("\\fw\\a.rom"),
            Some(PathBuf::from("fw/a.rom"))
        );
        for bad in [
            "",
            "/",
            "../etc/passwd",
            "fw/../../x",
            "./x",
            ".hidden",
            "fw//x",
            "%2e%2e/x",
            "..%2fx",
            "a\0b",
            "c:/windows",
            "a/\nb",
        ] {
            assert_eq!(StaticFiles::relative(bad), None, "{bad:?}");
        }
        assert_eq!(StaticFiles::relative(&"a".repeat(600)), None);
    }

    #[test]
    fn opens_inside_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("files");
        std::fs::create_dir_all(root.join("fw")).unwrap();
        std::fs::write(root.join("fw/a.rom"), b"abc").unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"no").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link.txt")).unwrap();
        let files = StaticFiles::new(root);
        assert_eq!(files.open("fw/a.rom").map(|f| f.len), Some(3));
        assert!(matches!(
            files.open("fw/a.rom").map(|f| f.content),
            Some(StaticContent::Bytes(b)) if &b[..] == b"abc"
        ));
        assert!(files.open("fw").is_none(), "a folder is not a file");
        assert!(files.open("../secret.txt").is_none());
        assert!(files.open("link.txt").is_none(), "a link out of the folder");
        assert!(files.open("missing").is_none());
    }
}
