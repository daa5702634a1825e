//! Device templates: the family manifests and their minijinja templates, loaded from
//! `device-templates/` at start, and the one function that renders a file.
//!
//! Escaping is the environment's job, not the template author's: every `{{ value }}` goes through
//! a formatter chosen by the file's declared [`Format`]. This module reads no store; it is given
//! a serialisable context.

mod manifest;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use regex::{Regex, RegexBuilder};
use serde::Serialize;

pub use manifest::{FileSpec, Format, Manifest, ModelDefaults, ModelSpec};

use crate::error::{Error, Result};
use crate::model::Mac;

/// One loaded family: its manifest with the patterns compiled.
#[derive(Debug)]
pub struct Family {
    pub manifest: Manifest,
    user_agent: Regex,
    files: Vec<Regex>,
    /// The file that `directory_file` names, if the family has one.
    pub directory: Option<usize>,
}

/// What a User-Agent said about the phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UaInfo {
    pub family: usize,
    pub model: String,
    pub version: Option<String>,
    pub mac: Option<Mac>,
}

/// A file name that one family's manifest claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMatch {
    pub family: usize,
    pub file: usize,
    pub mac: Option<Mac>,
    pub model_code: Option<u32>,
}

/// All families and their compiled templates.
pub struct Catalog {
    families: Vec<Family>,
    env: Environment<'static>,
    dir: PathBuf,
    /// Families with at least one of the operator's files in use.
    overridden: Vec<String>,
}

/// Where a family's files come from: the operator's folder first, then the shipped one.
struct Layers {
    shipped: PathBuf,
    overrides: Option<PathBuf>,
}

impl Layers {
    fn find(&self, name: &str) -> PathBuf {
        match &self.overrides {
            Some(dir) if dir.join(name).is_file() => dir.join(name),
            _ => self.shipped.join(name),
        }
    }
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("dir", &self.dir)
            .field("families", &self.families.len())
            .finish()
    }
}

const KV: &str = "kv";

impl Catalog {
    /// Loads every `<family>/manifest.toml` under `dir` with its templates. Any broken manifest,
    /// pattern or template is an error naming the file (and line, for templates).
    pub fn load(dir: &Path) -> Result<Catalog> {
        Self::load_layers(dir, None, &[])
    }

    /// Loads the shipped families from `shipped`, with the operator's files from `overrides`
    /// laid over them: `overrides/<family>/<file>` replaces the shipped file of that name (the
    /// manifest too), and a family folder only in `overrides` adds a family. Families named in
    /// `shipped_only` ignore their overrides (used when an override is broken).
    pub fn load_layers(
        shipped: &Path,
        overrides: Option<&Path>,
        shipped_only: &[String],
    ) -> Result<Catalog> {
        let folders = |dir: &Path| -> Vec<String> {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_dir())
                        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        if !shipped.is_dir() {
            return Err(Error::Config(format!(
                "device templates folder {} is missing",
                shipped.display()
            )));
        }
        let mut names = folders(shipped);
        if let Some(dir) = overrides {
            names.extend(folders(dir));
        }
        names.sort();
        names.dedup();
        // For each family: where each of its files comes from.
        let mut entries: Vec<Layers> = Vec::new();
        for name in names {
            let layers = Layers {
                shipped: shipped.join(&name),
                overrides: overrides
                    .filter(|_| !shipped_only.contains(&name))
                    .map(|dir| dir.join(&name))
                    .filter(|p| p.is_dir()),
            };
            if layers.find("manifest.toml").is_file() {
                entries.push(layers);
            }
        }
        if entries.is_empty() {
            return Err(Error::Config(format!(
                "device templates folder {} holds no <family>/manifest.toml",
                shipped.display()
            )));
        }
        // First every manifest, so the escaping of each template is known before any template is
        // compiled: minijinja fixes a template's auto-escape mode when it compiles it.
        let mut formats: HashMap<String, Format> = HashMap::new();
        let mut sources: Vec<(String, PathBuf)> = Vec::new();
        let mut families = Vec::new();
        let mut overridden = Vec::new();
        for layers in entries {
            let manifest_path = layers.find("manifest.toml");
            let text = std::fs::read_to_string(&manifest_path)?;
            let manifest: Manifest = toml::from_str(&text).map_err(|e| Error::Template {
                name: manifest_path.display().to_string(),
                message: e.to_string(),
            })?;
            let manifest_error = |message: String| Error::Template {
                name: manifest_path.display().to_string(),
                message,
            };
            if families
                .iter()
                .any(|f: &Family| f.manifest.family == manifest.family)
            {
                return Err(manifest_error(format!(
                    "family {:?} is declared twice",
                    manifest.family
                )));
            }
            let regex = |pattern: &str| {
                RegexBuilder::new(pattern)
                    .case_insensitive(true)
                    .build()
                    .map_err(|e| manifest_error(format!("pattern {pattern:?}: {e}")))
            };
            let user_agent = regex(&manifest.user_agent)?;
            let mut files = Vec::new();
            for spec in &manifest.files {
                files.push(regex(&format!("^(?:{})$", spec.pattern))?);
                for template in std::iter::once(&spec.template).chain(spec.bootstrap.as_ref()) {
                    let name = template_name(&manifest.family, template);
                    match formats.insert(name.clone(), spec.format) {
                        None => sources.push((name, layers.find(template))),
                        Some(format) if format == spec.format => {}
                        Some(_) => {
                            return Err(manifest_error(format!(
                                "template {template} is used with two formats"
                            )))
                        }
                    }
                }
            }
            // The family's main file is where a phone without credentials starts: it must be
            // one that may use the first-contact window.
            let main = manifest
                .device_file
                .replace("{mac}", "001565a1b2c3")
                .replace("{MAC}", "001565A1B2C3");
            let main_ok = manifest
                .files
                .iter()
                .zip(&files)
                .any(|(spec, re)| spec.first_contact && re.is_match(&main));
            if !main_ok {
                return Err(manifest_error(format!(
                    "device_file {:?} matches no file with first_contact = true",
                    manifest.device_file
                )));
            }
            let directory = match &manifest.directory_file {
                Some(pattern) => {
                    let sample = pattern
                        .replace("{mac}", "001565a1b2c3")
                        .replace("{MAC}", "001565A1B2C3");
                    let found = files.iter().position(|re| re.is_match(&sample));
                    if found.is_none() {
                        return Err(manifest_error(format!(
                            "directory_file {pattern:?} matches no file"
                        )));
                    }
                    found
                }
                None => None,
            };
            if layers.overrides.is_some() {
                overridden.push(manifest.family.clone());
            }
            families.push(Family {
                manifest,
                user_agent,
                files,
                directory,
            });
        }

        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_keep_trailing_newline(true);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_auto_escape_callback(move |name| match formats.get(name) {
            Some(Format::Xml) => AutoEscape::Html,
            Some(Format::Kv) | None => AutoEscape::Custom(KV),
        });
        env.set_formatter(|out, state, value| match state.auto_escape() {
            AutoEscape::Custom(KV) => {
                // A key=value value must stay on its line: drop every control character.
                let text = value.to_string();
                let clean: String = text.chars().filter(|c| !c.is_control()).collect();
                out.write_str(&clean).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
                })
            }
            // XML: entities for & < > " ', and no control characters but tab and newline (a NUL
            // or a form feed would make the file unreadable, not just wrong).
            AutoEscape::Html if !value.is_safe() => {
                let text = value.to_string();
                let clean: String = text
                    .chars()
                    .filter(|c| !c.is_control() || *c == '\t' || *c == '\n')
                    .collect();
                out.write_str(&xml_escape(&clean)).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
                })
            }
            _ => minijinja::escape_formatter(out, state, value),
        });
        for (name, path) in sources {
            let source = std::fs::read_to_string(&path).map_err(|e| Error::Template {
                name: path.display().to_string(),
                message: e.to_string(),
            })?;
            env.add_template_owned(name, source)
                .map_err(|e| template_error(&path.display().to_string(), &e))?;
        }
        Ok(Catalog {
            families,
            env,
            dir: shipped.to_owned(),
            overridden,
        })
    }

    /// Whether `family` uses any of the operator's files.
    pub fn is_overridden(&self, family: &str) -> bool {
        self.overridden.iter().any(|f| f == family)
    }

    pub fn families(&self) -> &[Family] {
        &self.families
    }

    pub fn family(&self, index: usize) -> &Family {
        &self.families[index]
    }

    pub fn family_by_name(&self, name: &str) -> Option<usize> {
        self.families.iter().position(|f| f.manifest.family == name)
    }

    /// Recognises a phone by its User-Agent, trying each family's pattern in turn.
    pub fn identify_user_agent(&self, user_agent: &str) -> Option<UaInfo> {
        self.families
            .iter()
            .enumerate()
            .find_map(|(index, family)| {
                let caps = family.user_agent.captures(user_agent)?;
                Some(UaInfo {
                    family: index,
                    model: caps.name("model")?.as_str().to_owned(),
                    version: caps.name("version").map(|m| m.as_str().to_owned()),
                    mac: caps.name("mac").and_then(|m| m.as_str().parse().ok()),
                })
            })
    }

    /// Every family's file that `name` matches (several families may share a pattern).
    pub fn match_file(&self, name: &str) -> Vec<FileMatch> {
        let mut found = Vec::new();
        for (family_index, family) in self.families.iter().enumerate() {
            for (file_index, pattern) in family.files.iter().enumerate() {
                let Some(caps) = pattern.captures(name) else {
                    continue;
                };
                let mac = match caps.name("mac") {
                    Some(m) => match m.as_str().parse::<Mac>() {
                        Ok(mac) => Some(mac),
                        Err(_) => continue,
                    },
                    None => None,
                };
                let model_code = match caps.name("model_code") {
                    Some(m) => match m.as_str().parse::<u32>() {
                        Ok(code) => Some(code),
                        Err(_) => continue,
                    },
                    None => None,
                };
                found.push(FileMatch {
                    family: family_index,
                    file: file_index,
                    mac,
                    model_code,
                });
                break;
            }
        }
        found
    }

    /// A model by name across all families (case-insensitive): `(family, model)`.
    pub fn find_model(&self, name: &str) -> Option<(usize, &ModelSpec)> {
        self.families
            .iter()
            .enumerate()
            .find_map(|(index, family)| family.model(name).map(|model| (index, model)))
    }

    /// Renders `file` of `family` with `context`.
    pub fn render(&self, family: usize, file: usize, context: &impl Serialize) -> Result<String> {
        let family = &self.families[family];
        let spec = &family.manifest.files[file];
        self.render_template(
            &template_name(&family.manifest.family, &spec.template),
            context,
        )
    }

    /// Renders the bootstrap version of `file` (see `FileSpec::bootstrap`), if it has one.
    pub fn render_bootstrap(
        &self,
        family: usize,
        file: usize,
        context: &impl Serialize,
    ) -> Option<Result<String>> {
        let family = &self.families[family];
        let template = family.manifest.files[file].bootstrap.as_ref()?;
        Some(self.render_template(&template_name(&family.manifest.family, template), context))
    }

    fn render_template(&self, name: &str, context: &impl Serialize) -> Result<String> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| template_error(name, &e))?;
        template
            .render(context)
            .map_err(|e| template_error(name, &e))
    }
}

impl Family {
    pub fn model(&self, name: &str) -> Option<&ModelSpec> {
        self.manifest
            .models
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }

    pub fn model_by_code(&self, code: u32) -> Option<&ModelSpec> {
        self.manifest.models.iter().find(|m| m.code == Some(code))
    }

    pub fn file(&self, index: usize) -> &FileSpec {
        &self.manifest.files[index]
    }
}

/// XML's five predefined entities and nothing else: phones' small XML parsers know these, and
/// `/` or other characters need no escaping.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn template_name(family: &str, template: &str) -> String {
    format!("{family}/{template}")
}

/// A template error with the file and line it happened at, and no Rust debug noise.
fn template_error(name: &str, e: &minijinja::Error) -> Error {
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message = format!("{message}: {detail}");
    }
    let name = match e.line() {
        Some(line) => format!("{name}:{line}"),
        None => name.to_owned(),
    };
    Error::Template { name, message }
}

/// Shared handle: the catalog is read-only once loaded.
pub type SharedCatalog = Arc<Catalog>;

#[cfg(test)]
mod tests;
