//! Device templates: the family manifests and their minijinja templates, loaded from
//! `device-templates/` at start, and the one function that renders a file.
//!
//! Escaping is the environment's job, not the template author's: every `{{ value }}` goes through
//! a formatter chosen by the file's declared [`Format`]. This module reads no store; it is given
//! a serialisable context.

mod dhcp;
mod load;
mod manifest;

use std::path::{Path, PathBuf};

use std::sync::Arc;

use minijinja::Environment;
/// A value templates see, built once and shared (cloning it copies no data): the directory.
pub use minijinja::Value;
use regex::{Regex, RegexSet, RegexSetBuilder};
use serde::Serialize;

pub use dhcp::{dhcp_config, DhcpFormat, DhcpScope, Endpoints};
pub use manifest::{
    DhcpSpec, FileSpec, Format, Manifest, ModelDefaults, ModelSpec, PhoneService, Screen, SipSpec,
};

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
    /// Shared: each request of the phone carries it on to where it is seen, without a copy.
    pub version: Option<Arc<str>>,
    pub mac: Option<Mac>,
}

/// A file name that one family's manifest claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMatch {
    pub family: usize,
    pub file: usize,
    pub mac: Option<Mac>,
    pub model_code: Option<u32>,
    /// One group of a grouped directory (`?P<group>` in the pattern: its 1-based id, see
    /// `directory_groups`), for families whose directory is a menu of lists.
    pub group: Option<u16>,
}

/// The families' patterns as sets (see `Catalog::patterns`), built with the same options as
/// each family's own (`load.rs`).
struct Patterns {
    /// Family `i`'s User-Agent pattern at index `i`.
    user_agents: RegexSet,
    /// Every family's file patterns, family by family.
    files: RegexSet,
    /// The (family, file) of each pattern in `files`.
    file_of: Vec<(usize, usize)>,
}

impl Patterns {
    fn new(families: &[Family]) -> std::result::Result<Patterns, regex::Error> {
        let set = |patterns: Vec<&str>| {
            RegexSetBuilder::new(patterns)
                .case_insensitive(true)
                .build()
        };
        let user_agents = set(families.iter().map(|f| f.user_agent.as_str()).collect())?;
        let mut file_of = Vec::new();
        let mut files = Vec::new();
        for (family_index, family) in families.iter().enumerate() {
            for (file_index, pattern) in family.files.iter().enumerate() {
                file_of.push((family_index, file_index));
                files.push(pattern.as_str());
            }
        }
        Ok(Patterns {
            user_agents,
            files: set(files)?,
            file_of,
        })
    }
}

/// All families and their compiled templates.
pub struct Catalog {
    families: Vec<Family>,
    /// Every family's patterns as two sets, so a request's name and User-Agent are each scanned
    /// once (one DFA pass) and only the patterns that match run their captures.
    patterns: Patterns,
    env: Environment<'static>,
    dir: PathBuf,
    /// Families with at least one of the operator's files in use.
    overridden: Vec<String>,
    /// The templates that name `directory` or `directory_groups` (minijinja lists a template's
    /// undeclared variables): only their renders need the tenant's directory.
    directory_templates: std::collections::HashSet<String>,
    /// What each User-Agent and file name was identified as, by its text: a phone sends the
    /// same two on every request, and a look-up costs less than the patterns' captures.
    memo: Memo,
}

/// Bounded: a scanner's random names and User-Agents only push out older entries. The values
/// are shared, so a hit copies nothing.
struct Memo {
    user_agents: crate::cache::Cache<Box<str>, Option<Arc<UaInfo>>>,
    files: crate::cache::Cache<Box<str>, Arc<[FileMatch]>>,
}

/// Entries of each memo: a large site's phones, each with its own User-Agent and file name.
const MEMO_ENTRIES: u64 = 100_000;

impl Memo {
    fn new() -> Memo {
        Memo {
            user_agents: moka::sync::Cache::builder()
                .max_capacity(MEMO_ENTRIES)
                .build_with_hasher(crate::cache::Hasher::default()),
            files: moka::sync::Cache::builder()
                .max_capacity(MEMO_ENTRIES)
                .build_with_hasher(crate::cache::Hasher::default()),
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

    /// Recognises a phone by its User-Agent: the first family (in name order) whose pattern
    /// matches and names a model.
    pub fn identify_user_agent(&self, user_agent: &str) -> Option<Arc<UaInfo>> {
        if let Some(known) = self.memo.user_agents.get(user_agent) {
            return known;
        }
        let identified = self.identify_user_agent_by_patterns(user_agent);
        self.memo
            .user_agents
            .insert(user_agent.into(), identified.clone());
        identified
    }

    fn identify_user_agent_by_patterns(&self, user_agent: &str) -> Option<Arc<UaInfo>> {
        self.patterns
            .user_agents
            .matches(user_agent)
            .into_iter()
            .find_map(|index| {
                let family = &self.families[index];
                let caps = family.user_agent.captures(user_agent)?;
                Some(Arc::new(UaInfo {
                    family: index,
                    model: caps.name("model")?.as_str().to_owned(),
                    version: caps.name("version").map(|m| m.as_str().into()),
                    mac: caps.name("mac").and_then(|m| m.as_str().parse().ok()),
                }))
            })
    }

    /// Every family's file that `name` matches (several families may share a pattern), the
    /// files with no MAC in them first.
    pub fn match_file(&self, name: &str) -> Arc<[FileMatch]> {
        if let Some(known) = self.memo.files.get(name) {
            return known;
        }
        let found = self.match_file_by_patterns(name);
        self.memo.files.insert(name.into(), found.clone());
        found
    }

    fn match_file_by_patterns(&self, name: &str) -> Arc<[FileMatch]> {
        let mut found: Vec<FileMatch> = Vec::new();
        // Family-major order, as the set was built: each family's first file that matches.
        for set_index in self.patterns.files.matches(name).into_iter() {
            let (family_index, file_index) = self.patterns.file_of[set_index];
            if found.last().is_some_and(|m| m.family == family_index) {
                continue;
            }
            let pattern = &self.families[family_index].files[file_index];
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
            let group = match caps.name("group") {
                Some(m) => match m.as_str().parse::<u16>() {
                    Ok(group) => Some(group),
                    Err(_) => continue,
                },
                None => None,
            };
            found.push(FileMatch {
                family: family_index,
                file: file_index,
                mac,
                model_code,
                group,
            });
        }
        // A shared file wins over a device pattern that happens to match too (Poly's
        // `000000000000.cfg` also looks like a `<mac>.cfg` of MAC 00:00:00:00:00:00); the sort
        // is stable, so each kind keeps the families' order.
        found.sort_by_key(|m| m.mac.is_some());
        found.into()
    }

    /// A model by name across all families (case-insensitive): `(family, model)`.
    pub fn find_model(&self, name: &str) -> Option<(usize, &ModelSpec)> {
        self.families
            .iter()
            .enumerate()
            .find_map(|(index, family)| family.model(name).map(|model| (index, model)))
    }

    /// Whether `file` of `family` shows the directory: other files are rendered without
    /// building it, so their cost does not grow with the tenant.
    pub fn uses_directory(&self, family: usize, file: usize) -> bool {
        let family = &self.families[family];
        let spec = &family.manifest.files[file];
        self.directory_templates
            .contains(&template_name(&family.manifest.family, &spec.template))
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

    /// Renders a screen of the family's phone service, if it has one.
    pub fn render_screen(
        &self,
        family: usize,
        screen: Screen,
        context: &impl Serialize,
    ) -> Option<Result<String>> {
        let family = &self.families[family];
        let service = family.manifest.phone_service.as_ref()?;
        Some(self.render_template(
            &template_name(&family.manifest.family, service.template(screen)),
            context,
        ))
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

    /// Whether `file` is the family's directory or one list of it (a pattern with `?P<group>`):
    /// the files a phone may fetch under its URL token.
    pub fn is_directory(&self, file: usize) -> bool {
        self.directory == Some(file) || self.manifest.files[file].pattern.contains("?P<group>")
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
