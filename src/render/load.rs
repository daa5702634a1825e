//! Loading the catalogue: the families' folders (the operator's laid over the shipped ones),
//! every manifest checked before any template is compiled, and the one minijinja environment
//! with the escaping each file's format asks for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use regex::{Regex, RegexBuilder};

use super::manifest::{Format, Manifest, Screen};
use super::{template_error, template_name, xml_escape, Catalog, Family, Memo, Patterns, KV};
use crate::error::{Error, Result};

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

/// Each template's format (which fixes its escaping) and where its source is.
#[derive(Default)]
struct Templates {
    formats: HashMap<String, Format>,
    sources: Vec<(String, PathBuf)>,
}

impl Catalog {
    /// Loads the shipped families from `shipped`, with the operator's files from `overrides`
    /// laid over them: `overrides/<family>/<file>` replaces the shipped file of that name (the
    /// manifest too), and a family folder only in `overrides` adds a family. Families named in
    /// `shipped_only` ignore their overrides (used when an override is broken).
    pub fn load_layers(
        shipped: &Path,
        overrides: Option<&Path>,
        shipped_only: &[String],
    ) -> Result<Catalog> {
        let entries = family_layers(shipped, overrides, shipped_only)?;
        // First every manifest, so the escaping of each template is known before any template is
        // compiled: minijinja fixes a template's auto-escape mode when it compiles it.
        let mut templates = Templates::default();
        let mut families: Vec<Family> = Vec::new();
        let mut overridden = Vec::new();
        for layers in entries {
            let family = load_family(&layers, &mut templates)?;
            if families
                .iter()
                .any(|f| f.manifest.family == family.manifest.family)
            {
                return Err(Error::Template {
                    name: layers.find("manifest.toml").display().to_string(),
                    message: format!("family {:?} is declared twice", family.manifest.family),
                });
            }
            if layers.overrides.is_some() {
                overridden.push(family.manifest.family.clone());
            }
            families.push(family);
        }
        let mut env = environment(templates.formats);
        for (name, path) in templates.sources {
            let source = std::fs::read_to_string(&path).map_err(|e| Error::Template {
                name: path.display().to_string(),
                message: e.to_string(),
            })?;
            env.add_template_owned(name, source)
                .map_err(|e| template_error(&path.display().to_string(), &e))?;
        }
        let directory_templates = directory_templates(&env);
        let patterns = Patterns::new(&families).map_err(|e| Error::Template {
            name: shipped.display().to_string(),
            message: format!("the families' patterns together: {e}"),
        })?;
        Ok(Catalog {
            families,
            patterns,
            env,
            dir: shipped.to_owned(),
            overridden,
            directory_templates,
            memo: Memo::new(),
        })
    }
}

/// The names of the templates that use the directory (see `Catalog::uses_directory`): those
/// whose undeclared variables minijinja lists include it, and, since that list misses some
/// uses (`directory[:32]`), those with the name as a variable anywhere inside a `{{ }}` or
/// `{% %}` block (not `provisioning.directory_url`): a false "uses" costs a load, a false
/// "does not" an empty directory.
fn directory_templates(env: &Environment<'static>) -> std::collections::HashSet<String> {
    // Both patterns are constant and valid.
    let block = Regex::new(r"(?s)\{[{%](.*?)[%}]\}").expect("block pattern");
    let name = Regex::new(r"(?:^|[^.\w])directory(?:_groups)?\b").expect("name pattern");
    env.templates()
        .filter(|(_, template)| {
            let names = template.undeclared_variables(false);
            names.contains("directory")
                || names.contains("directory_groups")
                || block
                    .captures_iter(template.source())
                    .any(|c| name.is_match(&c[1]))
        })
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// The family folders with a manifest, in name order, each with its two layers.
fn family_layers(
    shipped: &Path,
    overrides: Option<&Path>,
    shipped_only: &[String],
) -> Result<Vec<Layers>> {
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
    let entries: Vec<Layers> = names
        .into_iter()
        .map(|name| Layers {
            shipped: shipped.join(&name),
            overrides: overrides
                .filter(|_| !shipped_only.contains(&name))
                .map(|dir| dir.join(&name))
                .filter(|p| p.is_dir()),
        })
        .filter(|layers| layers.find("manifest.toml").is_file())
        .collect();
    if entries.is_empty() {
        return Err(Error::Config(format!(
            "device templates folder {} holds no <family>/manifest.toml",
            shipped.display()
        )));
    }
    Ok(entries)
}

/// One family from its manifest: its patterns compiled and checked, its templates noted.
fn load_family(layers: &Layers, templates: &mut Templates) -> Result<Family> {
    let manifest_path = layers.find("manifest.toml");
    let text = std::fs::read_to_string(&manifest_path)?;
    let manifest_error = |message: String| Error::Template {
        name: manifest_path.display().to_string(),
        message,
    };
    let manifest: Manifest = toml::from_str(&text).map_err(|e| manifest_error(e.to_string()))?;
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
            match templates.formats.insert(name.clone(), spec.format) {
                None => templates.sources.push((name, layers.find(template))),
                Some(format) if format == spec.format => {}
                Some(_) => {
                    return Err(manifest_error(format!(
                        "template {template} is used with two formats"
                    )))
                }
            }
        }
    }
    if let Some(service) = &manifest.phone_service {
        for screen in [Screen::Login, Screen::Logout, Screen::Message] {
            let template = service.template(screen);
            let name = template_name(&manifest.family, template);
            match templates.formats.insert(name.clone(), Format::Xml) {
                None => templates.sources.push((name, layers.find(template))),
                Some(Format::Xml) => {}
                Some(_) => {
                    return Err(manifest_error(format!(
                        "template {template} is used with two formats"
                    )))
                }
            }
        }
    }
    check_device_file(&manifest, &files).map_err(manifest_error)?;
    check_dhcp(&manifest).map_err(manifest_error)?;
    let directory = directory_index(&manifest, &files).map_err(manifest_error)?;
    Ok(Family {
        manifest,
        user_agent,
        files,
        directory,
    })
}

/// The `[dhcp]` section: option codes a DHCP server takes (1 to 254), and vendor classes that
/// every format can quote (no `,` for dnsmasq, no `"` or `'` for ISC and Kea).
fn check_dhcp(manifest: &Manifest) -> Result<(), String> {
    for code in manifest.dhcp.options.keys() {
        if !code.parse::<u8>().is_ok_and(|c| (1..=254).contains(&c)) {
            return Err(format!(
                "DHCP option {code:?} is not a number from 1 to 254"
            ));
        }
    }
    for class in &manifest.dhcp.vendor_classes {
        if class.is_empty()
            || class.contains([',', '"', '\'', '\\'])
            || class.chars().any(char::is_control)
        {
            return Err(format!(
                "DHCP vendor class {class:?}: give a non-empty text without , \" ' or \\"
            ));
        }
    }
    Ok(())
}

/// A file name of the manifest's, for a sample MAC.
fn sample(pattern: &str) -> String {
    pattern
        .replace("{mac}", "001565a1b2c3")
        .replace("{MAC}", "001565A1B2C3")
}

/// The family's main file is where a phone without credentials starts: it must be one that
/// may use the first-contact window.
fn check_device_file(manifest: &Manifest, files: &[Regex]) -> Result<(), String> {
    let main = sample(&manifest.device_file);
    let main_ok = manifest
        .files
        .iter()
        .zip(files)
        .any(|(spec, re)| spec.first_contact && re.is_match(&main));
    if main_ok {
        Ok(())
    } else {
        Err(format!(
            "device_file {:?} matches no file with first_contact = true",
            manifest.device_file
        ))
    }
}

/// Which of the family's files is its directory, if it has one.
fn directory_index(manifest: &Manifest, files: &[Regex]) -> Result<Option<usize>, String> {
    let Some(pattern) = &manifest.directory_file else {
        return Ok(None);
    };
    let name = sample(pattern);
    match files.iter().position(|re| re.is_match(&name)) {
        Some(index) => Ok(Some(index)),
        None => Err(format!("directory_file {pattern:?} matches no file")),
    }
}

/// The one environment: semi-strict undefined values, and each template escaped by its file's
/// format.
fn environment(formats: HashMap<String, Format>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_auto_escape_callback(move |name| match formats.get(name) {
        Some(Format::Xml) => AutoEscape::Html,
        Some(Format::Kv) | None => AutoEscape::Custom(KV),
    });
    env.set_formatter(|out, state, value| {
        let clean = |keep: fn(char) -> bool| -> String {
            value.to_string().chars().filter(|c| keep(*c)).collect()
        };
        let written = match state.auto_escape() {
            // A key=value value must stay on its line: drop every control character.
            AutoEscape::Custom(KV) => out.write_str(&clean(|c| !c.is_control())),
            // XML: entities for & < > " ', and no control characters but tab and newline (a NUL
            // or a form feed would make the file unreadable, not just wrong).
            AutoEscape::Html if !value.is_safe() => out.write_str(&xml_escape(&clean(|c| {
                !c.is_control() || c == '\t' || c == '\n'
            }))),
            _ => return minijinja::escape_formatter(out, state, value),
        };
        written
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
    });
    env
}
