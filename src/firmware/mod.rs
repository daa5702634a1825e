//! The firmware catalogue (`firmware-index/*.toml`): per family and model, the firmware a phone
//! should run and where its image is. Read at start; templates get `firmware.url` and
//! `firmware.version` for a device whose model the catalogue names. Rollout policy (which phones
//! move when) is not here yet.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexFile {
    #[serde(default)]
    firmware: Vec<Entry>,
}

/// One image for one model.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub family: String,
    pub model: String,
    pub version: String,
    /// A path under `<data>/files/` (served over HTTP and TFTP), or an absolute `http(s)://` URL
    /// (a CDN).
    pub file: String,
}

#[derive(Clone, Debug, Default)]
pub struct Index {
    entries: Vec<Entry>,
}

impl Index {
    /// Reads every `*.toml` in `dir`; a missing folder is an empty catalogue, a broken file an
    /// error naming it.
    pub fn load(dir: &Path) -> Result<Index> {
        let Ok(read) = std::fs::read_dir(dir) else {
            return Ok(Index::default());
        };
        let mut paths: Vec<_> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut entries = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path)?;
            let file: IndexFile = toml::from_str(&text)
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
            for entry in file.firmware {
                let bad = entry.file.contains("..")
                    || entry
                        .file
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control());
                if bad {
                    return Err(Error::Config(format!(
                        "{}: firmware file {:?} is not a plain path or URL",
                        path.display(),
                        entry.file
                    )));
                }
                entries.push(entry);
            }
        }
        Ok(Index { entries })
    }

    /// [`Index::load`], or an empty catalogue when it fails: the error is logged and phones get
    /// no firmware URLs, but they still get their files.
    pub fn load_or_empty(dir: &Path) -> Index {
        Index::load(dir).unwrap_or_else(|e| {
            tracing::error!(error = %e, "firmware catalogue unreadable; no firmware URLs");
            Index::default()
        })
    }

    /// The image for `model` of `family`, if the catalogue names one (model names compare
    /// without regard to case).
    pub fn find(&self, family: &str, model: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.family == family && e.model.eq_ignore_ascii_case(model))
    }

    /// Where a phone downloads `entry`: absolute URLs as they are, paths under `base_url`.
    pub fn url(entry: &Entry, base_url: &str) -> String {
        if entry.file.starts_with("http://") || entry.file.starts_with("https://") {
            entry.file.clone()
        } else {
            format!("{base_url}{}", entry.file.trim_start_matches('/'))
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_finds_and_refuses_traversal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("yealink.toml"),
            "[[firmware]]\nfamily = \"yealink\"\nmodel = \"T54W\"\nversion = \"96.86.0.100\"\nfile = \"fw/T54W-96.86.0.100.rom\"\n",
        )
        .unwrap();
        let index = Index::load(dir.path()).unwrap();
        let entry = index.find("yealink", "t54w").unwrap();
        assert_eq!(
            Index::url(entry, "http://prov/"),
            "http://prov/fw/T54W-96.86.0.100.rom"
        );
        assert!(index.find("yealink", "T46S").is_none());
        assert!(Index::load(&dir.path().join("missing")).unwrap().is_empty());
        std::fs::write(
            dir.path().join("bad.toml"),
            "[[firmware]]\nfamily = \"x\"\nmodel = \"y\"\nversion = \"1\"\nfile = \"../etc/passwd\"\n",
        )
        .unwrap();
        let err = Index::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("bad.toml"), "{err}");
    }
}
