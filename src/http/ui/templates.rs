//! The template registry and the catalogues, compiled into the binary. Templates are minijinja
//! with HTML auto-escaping (every `.html` name) and semi-strict undefined variables (printing one is an error), so a missing
//! catalogue key is an error the tests see, not an empty label. The catalogue of a language is
//! `i18n/<lang>/common.toml` plus one file per page, merged at load as `t.<page>.<key>`.

use std::sync::OnceLock;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, UndefinedBehavior, Value};

use super::pages::{Page, PAGES};
use crate::error::{Code, Error};

/// The languages, the first the default.
pub const LANGS: &[Lang] = &[Lang::En, Lang::De];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        LANGS.iter().copied().find(|l| l.code() == code)
    }

    /// The switch's cookie if set, else the first of ours in `Accept-Language` by weight, else
    /// English.
    pub fn of(headers: &HeaderMap) -> Lang {
        let chosen = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == super::LANG_COOKIE)
            .and_then(|(_, v)| Lang::parse(v));
        if let Some(lang) = chosen {
            return lang;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut best: Option<(f32, Lang)> = None;
        for item in accept.split(',') {
            let mut bits = item.split(';');
            let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q=").and_then(|q| q.parse().ok()))
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::parse(primary) {
                if best.is_none_or(|(b, _)| q > b) {
                    best = Some((q, lang));
                }
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }
}

struct Registry {
    env: Environment<'static>,
    /// Per language (in `LANGS` order), the merged catalogue as `{page: {key: text}}`.
    catalogues: Vec<serde_json::Value>,
    /// The same as template values, converted once rather than on every page.
    values: Vec<Value>,
    /// Per language, the rules' messages (`RULES_I18N`).
    rules: Vec<toml::Table>,
}

/// The shared templates (the base layout and the error page) and catalogues.
const COMMON_TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    (
        "common/error.html",
        include_str!("templates/common/error.html"),
    ),
];
/// The rules' messages (`crate::error::Code`) per language, as `{key: text}` with `{name}`
/// for each value. Not part of `t`, and not every key in every language: a message without a
/// text in the page's language is shown as the rule said it, in English. English needs no
/// entry (the rule's own text is the English one), so `en/rules.toml` holds only those worded
/// better for the portal than for the API, if any.
const RULES_I18N: [&str; 2] = [
    include_str!("i18n/en/rules.toml"),
    include_str!("i18n/de/rules.toml"),
];

const COMMON_I18N: [&str; 2] = [
    include_str!("i18n/en/common.toml"),
    include_str!("i18n/de/common.toml"),
];

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        let page_templates = PAGES.iter().flat_map(|p: &Page| p.templates.iter());
        for (name, source) in COMMON_TEMPLATES.iter().chain(page_templates) {
            // Our own templates, checked by the tests: one that does not parse is a bug here.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "portal template does not parse");
            }
        }
        let catalogues: Vec<serde_json::Value> = (0..LANGS.len())
            .map(|i| {
                catalogue(i).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "portal catalogue does not parse");
                    serde_json::Value::Object(Default::default())
                })
            })
            .collect();
        let values = catalogues.iter().map(Value::from_serialize).collect();
        let rules = RULES_I18N
            .iter()
            .map(|source| {
                toml::from_str(source).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "portal rules catalogue does not parse");
                    toml::Table::new()
                })
            })
            .collect();
        Registry {
            env,
            catalogues,
            values,
            rules,
        }
    })
}

/// The merged catalogue of the `i`th language.
fn catalogue(i: usize) -> Result<serde_json::Value, toml::de::Error> {
    let mut all = serde_json::Map::new();
    let common: serde_json::Value = toml::from_str(COMMON_I18N[i])?;
    all.insert("common".to_owned(), common);
    for page in PAGES {
        let table: serde_json::Value = toml::from_str(page.i18n[i])?;
        all.insert(page.name.to_owned(), table);
    }
    Ok(serde_json::Value::Object(all))
}

fn index(lang: Lang) -> usize {
    LANGS.iter().position(|l| *l == lang).unwrap_or(0)
}

/// The text of `key` (`page.key`) in the language's catalogue, if it has one.
pub(super) fn text(lang: Lang, key: &str) -> Option<&'static str> {
    let mut at = &registry().catalogues[index(lang)];
    for part in key.split('.') {
        at = at.get(part)?;
    }
    at.as_str()
}

/// A rule's refusal as the page says it in `lang`: the text of its code in the language's
/// rules catalogue with the values put in, or else the rule's own (English) text.
pub(super) fn rule_text(lang: Lang, code: Option<&Code>, english: String) -> String {
    let Some(code) = code else {
        return english;
    };
    let rules = &registry().rules[index(lang)];
    let Some(text) = rules.get(code.key).and_then(|t| t.as_str()) else {
        return english;
    };
    let words: Vec<(&'static str, String)> = code
        .args
        .iter()
        .map(|(name, value)| match word(rules, name, value) {
            Some(said) => (*name, said.to_owned()),
            None => (*name, value.clone()),
        })
        .collect();
    fill(text, &words)
}

/// A value that is a word of the sentence rather than data, as the model spells it: the value
/// of a `kind` or a `kind_…` (an owner such as `hunt-group`, a schedule's `opening-hours`, a
/// licence's `e-fax`) is said by the catalogue's `kind_<value>`, a `status`'s by
/// `status_<value>`, and so on for each of `WORDS`, so a German sentence gets a German word;
/// another value, or a word the catalogue lacks, is put in as given.
fn word<'t>(rules: &'t toml::Table, name: &str, value: &str) -> Option<&'t str> {
    let word = WORDS
        .iter()
        .find(|w| name == **w || name.strip_prefix(**w).is_some_and(|r| r.starts_with('_')))?;
    rules.get(&format!("{word}_{value}"))?.as_str()
}

/// The values that are words (`word`): a kind, a number's status, a hunt policy and a
/// weekday (`monday`, as opening hours name it).
const WORDS: &[&str] = &["kind", "status", "policy", "day"];

/// `text` with each `{name}` replaced by its value; an unknown name stays as written.
fn fill(text: &str, args: &[(&'static str, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}').map(|end| (&after[..end], end)) {
            Some((name, end)) => {
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push_str(&rest[start..start + end + 2]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `e` with its message in `lang` (`rule_text`); the field, status and code stay.
pub(super) fn in_lang(lang: Lang, e: Error) -> Error {
    match e {
        Error::Invalid(mut f) => {
            f.message = rule_text(lang, f.code.as_ref(), f.message);
            Error::Invalid(f)
        }
        Error::Conflict {
            field,
            message,
            code,
        } => Error::Conflict {
            field,
            message: rule_text(lang, code.as_ref(), message),
            code,
        },
        Error::Locked { message, code } => Error::Locked {
            message: rule_text(lang, code.as_ref(), message),
            code,
        },
        other => other,
    }
}

/// Renders `template` in `lang` with the catalogue as `t` and `vars`.
pub(super) fn render(lang: Lang, template: &str, vars: Value) -> Response {
    let reg = registry();
    let t = reg.values[index(lang)].clone();
    let vars = minijinja::context! { t => t, lang => lang.code(), ..vars };
    match reg
        .env
        .get_template(template)
        .and_then(|tpl| tpl.render(vars))
    {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(template, error = %e, "portal template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be shown; see the server's log\n",
            )
                .into_response()
        }
    }
}

/// `render` for a page without a session (the error pages).
pub(super) fn render_plain(lang: Lang, template: &str, vars: Value) -> Response {
    let vars = minijinja::context! {
        me => Value::from(()),
        nav => Value::from(()),
        flash => Value::from(()),
        path => "/",
        ..vars
    };
    render(lang, template, vars)
}

/// Every key of a catalogue, as `page.key` (nested tables joined with dots).
#[cfg(test)]
fn keys(v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    match v.as_object() {
        Some(map) => {
            for (k, v) in map {
                keys(v, &format!("{prefix}{k}."), out);
            }
        }
        None => out.push(prefix.trim_end_matches('.').to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key is in every language, and every catalogue and template parses.
    #[test]
    fn issue_14_every_key_in_both_languages() {
        let mut sets = Vec::new();
        for i in 0..LANGS.len() {
            let c = catalogue(i).expect("catalogue parses");
            let mut k = Vec::new();
            keys(&c, "", &mut k);
            k.sort();
            sets.push(k);
        }
        for (lang, set) in LANGS.iter().zip(&sets).skip(1) {
            let missing: Vec<_> = sets[0].iter().filter(|k| !set.contains(k)).collect();
            let extra: Vec<_> = set.iter().filter(|k| !sets[0].contains(k)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
            assert!(
                extra.is_empty(),
                "{} has keys English lacks: {extra:?}",
                lang.code()
            );
        }
        let mut env = Environment::new();
        for (name, source) in COMMON_TEMPLATES
            .iter()
            .chain(PAGES.iter().flat_map(|p| p.templates.iter()))
        {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    /// Every button (or button-like link) of a destructive action is styled `danger`: its
    /// label's catalogue key names what it ends. The session's own log out is not one.
    #[test]
    fn issue_14_destructive_buttons_are_danger() {
        const ENDS: &[&str] = &[
            "delete",
            "remove",
            "release",
            "revoke",
            "deactivate",
            "logout",
            "unassign",
            "clear",
        ];
        let mut plain = Vec::new();
        for (name, source) in COMMON_TEMPLATES
            .iter()
            .chain(PAGES.iter().flat_map(|p| p.templates.iter()))
        {
            for (i, part) in source.split("<button").enumerate().skip(1) {
                let tag = part.split('>').next().unwrap_or_default();
                let label = part.split("</button>").next().unwrap_or_default();
                let key = label.split("{{ t.").nth(1).unwrap_or_default();
                let key = key.split([' ', '|', '}']).next().unwrap_or_default();
                let ends = ENDS
                    .iter()
                    .any(|w| key.rsplit('.').next().unwrap_or("").starts_with(w));
                if ends && key != "common.logout" && !tag.contains("danger") {
                    plain.push(format!("{name} button {i}: {key}"));
                }
            }
            for part in source.split("<a ").skip(1) {
                let tag = part.split('>').next().unwrap_or_default();
                let href = tag.split("href=\"").nth(1).unwrap_or_default();
                let href = href.split('"').next().unwrap_or_default();
                if (href.ends_with("/delete") || href.ends_with("/remove"))
                    && !tag.contains("danger")
                {
                    plain.push(format!("{name} link {href}"));
                }
            }
        }
        assert!(plain.is_empty(), "not styled danger: {plain:#?}");
    }

    #[test]
    fn issue_14_rule_texts_fill_their_values() {
        let args = [
            ("number", "+4930123456".to_owned()),
            ("phone_id", "P1".into()),
        ];
        assert_eq!(
            fill("{number} auf {phone_id} {unknown} {", &args),
            "+4930123456 auf P1 {unknown} {"
        );
        let code = Code {
            key: "handset_taken",
            args: args.to_vec(),
        };
        assert!(rule_text(Lang::De, Some(&code), "english".into()).contains("P1"));
        assert_eq!(
            rule_text(Lang::En, Some(&code), "english".into()),
            "english"
        );
        let unknown = Code {
            key: "no_such_rule",
            args: vec![],
        };
        assert_eq!(
            rule_text(Lang::De, Some(&unknown), "english".into()),
            "english"
        );
        // Every catalogue parses, and every German text's values are strings.
        for (i, source) in RULES_I18N.iter().enumerate() {
            let table: toml::Table = toml::from_str(source).expect("rules catalogue parses");
            assert!(table.values().all(|v| v.is_str()), "{}", LANGS[i].code());
        }
    }

    /// Each coded refusal in `src/` (a call of `Error::coded` with a literal key and array) as (where, key,
    /// value names); a key that is not a literal is an error, since nothing could check it.
    fn coded_calls() -> Vec<(String, String, Vec<String>)> {
        // Spelt in two halves, so this file's own text is not a call.
        let call = concat!(".cod", "ed(");
        let mut files = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        let mut calls = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).expect("src/ is readable") {
                    files.push(entry.expect("src/ is readable").path());
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("a source file is readable");
            for (at, _) in source.match_indices(call) {
                let line = source[..at].lines().count();
                let place = format!("{}:{line}", path.display());
                let rest = source[at + call.len()..].trim_start();
                let Some(rest) = rest.strip_prefix('"') else {
                    panic!("{place}: the key of a coded refusal is a literal");
                };
                let (key, rest) = rest.split_once('"').expect("the key's literal ends");
                let rest = rest
                    .trim_start()
                    .strip_prefix(',')
                    .unwrap_or(rest)
                    .trim_start();
                // The values are an array, or a local bound to one before the call.
                let array = match rest.strip_prefix('[') {
                    Some(array) => array,
                    None => {
                        let local: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let binding = format!("let {local} = [");
                        let Some(bound) = source[..at].rfind(&binding) else {
                            panic!("{place}: the values of {key} are an array or a local one");
                        };
                        &source[bound + binding.len()..]
                    }
                };
                calls.push((place, key.to_owned(), value_names(array)));
            }
        }
        calls
    }

    /// The names of the `(name, value)` pairs of an array's text (after its `[`).
    fn value_names(array: &str) -> Vec<String> {
        let mut names = Vec::new();
        let (mut brackets, mut parens) = (1, 0);
        let mut chars = array.chars();
        let mut wants_name = false;
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    let mut literal = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => {
                                chars.next();
                            }
                            '"' => break,
                            c => literal.push(c),
                        }
                    }
                    if wants_name {
                        names.push(literal);
                    }
                }
                '(' => {
                    parens += 1;
                    wants_name = brackets == 1 && parens == 1;
                    continue;
                }
                ')' => parens -= 1,
                '[' => brackets += 1,
                ']' => {
                    brackets -= 1;
                    if brackets == 0 {
                        break;
                    }
                }
                c if c.is_whitespace() => continue,
                _ => {}
            }
            wants_name = false;
        }
        names
    }

    /// The `{name}`s of a catalogue's text.
    fn placeholders(text: &str) -> Vec<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
            .collect()
    }

    /// The German rules catalogue and the coded refusals agree: every key a rule uses has a
    /// German text, every `{name}` of a text is a value every call of its key gives, and
    /// every key of the catalogue is used (a word's, `kind_<kind>` and the like, by the value
    /// it says).
    #[test]
    fn issue_14_every_coded_rule_has_german_and_no_other() {
        let calls = coded_calls();
        assert!(
            calls.len() > 24,
            "the scan found {} coded refusals",
            calls.len()
        );
        let de: toml::Table = toml::from_str(RULES_I18N[index(Lang::De)]).expect("parses");
        let mut wrong = Vec::new();
        for (place, key, names) in &calls {
            let Some(text) = de.get(key).and_then(|t| t.as_str()) else {
                wrong.push(format!("{place}: {key} has no German text"));
                continue;
            };
            for name in placeholders(text) {
                if !names.iter().any(|n| n == name) {
                    wrong.push(format!(
                        "{place}: {key} gives no {{{name}}} (gives {names:?})"
                    ));
                }
            }
        }
        use crate::model::{HuntPolicy, LicenceKind, NumberStatus, OwnerKind, ScheduleKind};
        let words = |word: &str, values: &[&str]| -> Vec<String> {
            values.iter().map(|v| format!("{word}_{v}")).collect()
        };
        let kinds: Vec<&str> = (OwnerKind::ALL.iter().map(|k| k.as_str()))
            .chain(ScheduleKind::ALL.iter().map(|k| k.as_str()))
            .chain(LicenceKind::ALL.iter().map(|k| k.as_str()))
            .chain(crate::model::TKG_66K_KINDS.iter().copied())
            .collect();
        let statuses: Vec<&str> = NumberStatus::ALL.iter().map(|s| s.as_str()).collect();
        let policies: Vec<&str> = HuntPolicy::ALL.iter().map(|p| p.as_str()).collect();
        let kinds = [
            words("kind", &kinds),
            words("status", &statuses),
            words("policy", &policies),
            words("day", &crate::model::WEEKDAYS),
        ]
        .concat();
        for key in de.keys() {
            if !calls.iter().any(|(_, k, _)| k == key) && !kinds.contains(key) {
                wrong.push(format!("de/rules.toml: no rule uses {key}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    /// A `{kind}` is said by the catalogue's word for it; another value is put in as given.
    #[test]
    fn issue_14_owner_kinds_are_words_of_the_language() {
        let code = Code {
            key: "extension_taken",
            args: vec![
                ("extension", "200".into()),
                ("kind", "hunt-group".into()),
                ("name", "Sales".into()),
            ],
        };
        let german = rule_text(Lang::De, Some(&code), "english".into());
        assert!(german.contains("Sammelgruppe Sales"), "{german}");
        assert!(!german.contains("hunt-group"), "{german}");
    }

    #[test]
    fn issue_14_language_from_accept_language() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of(&h), Lang::En);
        h.insert(
            header::ACCEPT_LANGUAGE,
            "fr-CH, de;q=0.8, en;q=0.5".parse().unwrap(),
        );
        assert_eq!(Lang::of(&h), Lang::De);
        h.insert(header::COOKIE, "autoprov-lang=en".parse().unwrap());
        assert_eq!(Lang::of(&h), Lang::En);
    }
}
