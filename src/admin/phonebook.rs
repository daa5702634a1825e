//! The phone directory's own entries (portal 000 "Phone Site Directory", 004 "Telefonbuch"):
//! their rules, one at a time and as a CSV import (all or nothing, every bad row named by its
//! line), and the CSV export.
//!
//! An entry is a person (first and last name, the users' limits) or a company (1–64
//! characters), and a number: E.164, or an internal extension or short number
//! (`model::parse_dial_number`). The same name with the same number is there once per scope (the
//! tenant, or one site).

use std::collections::HashSet;

use super::Admin;
use crate::error::{Error, LineError, Result};
use crate::model::{
    parse_dial_number, parse_label, parse_text, DirectoryEntry, DirectoryEntryId, FirstName,
    LastName, ListQuery, Listed, SiteId, TenantId,
};
use crate::store::NewDirectoryEntry;

/// A directory entry as typed: a person's first and last name, or a company, and the number.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewDirectoryEntry)]
pub struct DirectoryEntryInput {
    /// 1 to 23 characters; with `last_name`.
    pub first_name: Option<String>,
    /// 1 to 30 characters; with `first_name`.
    pub last_name: Option<String>,
    /// 1 to 64 characters; needed when there is no person's name.
    pub company: Option<String>,
    /// E.164 (`+4930123456`), or an extension or short number of 2 to 8 digits.
    pub number: String,
    /// Site id or name: the entry is shown only on that site's phones. None: on every phone.
    pub site: Option<String>,
}

/// What an import did (or, dry, would do).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Rows read (without the header).
    pub rows: usize,
    /// Entries added: none on a dry run.
    pub added: usize,
    pub dry_run: bool,
}

/// Most rows one import takes.
const IMPORT_MAX_ROWS: usize = 20_000;

impl Admin {
    /// An entry of `tenant` by id.
    pub async fn directory_entry(&self, tenant: TenantId, key: &str) -> Result<DirectoryEntry> {
        let id = key
            .trim()
            .parse::<i64>()
            .map_err(|_| Error::not_found("directory entry", key))?;
        self.store
            .directory_entry_get(tenant, DirectoryEntryId(id))
            .await
    }

    /// A page of the entries (with `site`, that site's and the tenant-wide ones).
    pub async fn directory_page(
        &self,
        tenant: TenantId,
        site: Option<&str>,
        query: &ListQuery,
    ) -> Result<Listed<DirectoryEntry>> {
        let site = match site {
            Some(key) => Some(self.site(tenant, Some(key)).await?.id),
            None => None,
        };
        self.store.directory_entry_page(tenant, site, query).await
    }

    pub async fn directory_add(
        &self,
        tenant: TenantId,
        input: &DirectoryEntryInput,
    ) -> Result<DirectoryEntry> {
        let entry = self.directory_checked(tenant, input).await?;
        self.store.directory_entry_create(tenant, &entry).await
    }

    /// Replaces `entry` with `input` (an edit sends the whole entry).
    pub async fn directory_edit(
        &self,
        tenant: TenantId,
        entry: &DirectoryEntry,
        input: &DirectoryEntryInput,
    ) -> Result<DirectoryEntry> {
        let new = self.directory_checked(tenant, input).await?;
        self.store
            .directory_entry_update(tenant, entry.id, &new)
            .await
    }

    pub async fn directory_remove(&self, tenant: TenantId, entry: &DirectoryEntry) -> Result<()> {
        self.store.directory_entry_delete(tenant, entry.id).await
    }

    async fn directory_checked(
        &self,
        tenant: TenantId,
        input: &DirectoryEntryInput,
    ) -> Result<NewDirectoryEntry> {
        let site = match &input.site {
            Some(key) => Some(self.site(tenant, Some(key)).await?.id),
            None => None,
        };
        entry_of(input, site)
    }

    /// Imports `csv` (see [`parse_directory_csv`]) into the tenant's directory (the `site`'s,
    /// when given): every row is checked, against the others and the entries already there,
    /// and only when none is bad are all added, in one transaction. Bad rows are an
    /// `Error::Rows` naming each by its line.
    pub async fn directory_import(
        &self,
        tenant: TenantId,
        csv: &[u8],
        site: Option<&str>,
        dry_run: bool,
    ) -> Result<ImportReport> {
        let site = match site {
            Some(key) => Some(self.site(tenant, Some(key)).await?.id),
            None => None,
        };
        let (rows, unreadable) = read_rows(csv)?;
        let existing: HashSet<(Option<SiteId>, String, String)> = self
            .store
            .directory_entries(tenant)
            .await?
            .into_iter()
            .map(|e| (e.site_id, e.name, e.number))
            .collect();
        let (entries, lines) = checked_rows(&rows, unreadable, site, &existing)?;
        let report = ImportReport {
            rows: rows.len(),
            added: 0,
            dry_run,
        };
        if dry_run || entries.is_empty() {
            return Ok(report);
        }
        match self.store.directory_import(tenant, &entries).await {
            Ok(added) => Ok(ImportReport { added, ..report }),
            Err((Some(i), e)) => Err(Error::Rows(vec![LineError {
                line: lines[i],
                field: "name".into(),
                message: e.to_string(),
            }])),
            Err((None, e)) => Err(e),
        }
    }

    /// The tenant's entries as CSV in the import's format: a `name,number` header, then a row
    /// per entry.
    pub async fn directory_export(&self, tenant: TenantId) -> Result<String> {
        let entries = self.store.directory_entries(tenant).await?;
        let mut out = csv::Writer::from_writer(Vec::new());
        let err = |e: csv::Error| Error::Csv(e.into());
        out.write_record(["name", "number"]).map_err(err)?;
        for entry in &entries {
            out.write_record([
                super::numbers::spreadsheet_safe(&entry.name).as_str(),
                entry.number.as_str(),
            ])
            .map_err(err)?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| Error::Csv(e.into_error().into()))?;
        String::from_utf8(bytes).map_err(|e| Error::Csv(e.into()))
    }
}

/// The entries of `rows` and the line of each, or every bad row: a rule broken, a row that
/// repeats an earlier one, or one already in the directory.
fn checked_rows(
    rows: &[CsvRow],
    mut problems: Vec<LineError>,
    site: Option<SiteId>,
    existing: &HashSet<(Option<SiteId>, String, String)>,
) -> Result<(Vec<NewDirectoryEntry>, Vec<u64>)> {
    let mut entries = Vec::with_capacity(rows.len());
    let mut lines = Vec::with_capacity(rows.len());
    let mut seen: std::collections::HashMap<(String, String), u64> = Default::default();
    for row in rows {
        let entry = match entry_of_csv(row, site) {
            Ok(entry) => entry,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let key = (entry.name.clone(), entry.number.clone());
        let at = |message: String| LineError {
            line: row.line,
            field: "name".into(),
            message,
        };
        if let Some(first) = seen.get(&key) {
            problems.push(at(format!(
                "{:?} with {} is already on line {first}",
                entry.name, entry.number
            )));
            continue;
        }
        if existing.contains(&(site, key.0.clone(), key.1.clone())) {
            problems.push(at(format!(
                "the directory already has {:?} with {}",
                entry.name, entry.number
            )));
            continue;
        }
        seen.insert(key, row.line);
        entries.push(entry);
        lines.push(row.line);
    }
    if problems.is_empty() {
        Ok((entries, lines))
    } else {
        problems.sort_by_key(|p| p.line);
        Err(Error::Rows(problems))
    }
}

/// An entry from its typed parts; `site` is already resolved.
fn entry_of(input: &DirectoryEntryInput, site: Option<SiteId>) -> Result<NewDirectoryEntry> {
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().filter(|t| !t.trim().is_empty())
    }
    let first = given(&input.first_name).map(FirstName::parse).transpose()?;
    let last = given(&input.last_name).map(LastName::parse).transpose()?;
    let company = given(&input.company)
        .map(|c| parse_text("company", c, 64))
        .transpose()?;
    let name = match (&first, &last, &company) {
        (Some(f), Some(l), _) => format!("{f} {l}"),
        (Some(_), None, _) => {
            return Err(Error::invalid(
                "last_name",
                "a person needs a last name too",
            ))
        }
        (None, Some(_), _) => {
            return Err(Error::invalid(
                "first_name",
                "a person needs a first name too",
            ))
        }
        (None, None, Some(c)) => c.clone(),
        (None, None, None) => {
            return Err(Error::invalid(
                "name",
                "give a first and a last name, or a company",
            ))
        }
    };
    Ok(NewDirectoryEntry {
        site_id: site,
        first_name: first.map(|f| f.to_string()),
        last_name: last.map(|l| l.to_string()),
        company,
        name,
        number: parse_dial_number(&input.number)?,
    })
}

/// A CSV row's entry. The name is a person's when it has a space and both sides of its last
/// space fit a first and a last name ("Ann Example"), else a company's ("Pizza Roma GmbH" fits
/// too: what phones show is the same text either way).
fn entry_of_csv(row: &CsvRow, site: Option<SiteId>) -> Result<NewDirectoryEntry, LineError> {
    let at = |e: Error| match e {
        Error::Invalid(f) => LineError {
            line: row.line,
            field: match f.field.as_ref() {
                "first_name" | "last_name" | "company" => "name".into(),
                _ => f.field,
            },
            message: f.message,
        },
        other => LineError {
            line: row.line,
            field: "row".into(),
            message: other.to_string(),
        },
    };
    let name = row.name.trim();
    let person = name
        .rsplit_once(' ')
        .filter(|(f, l)| FirstName::parse(f).is_ok() && LastName::parse(l).is_ok());
    let input = match person {
        Some((first, last)) => DirectoryEntryInput {
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            number: row.number.clone(),
            ..Default::default()
        },
        None => {
            if name.is_empty() {
                return Err(at(Error::invalid("name", "is empty")));
            }
            parse_label("name", name).map_err(at)?;
            DirectoryEntryInput {
                company: Some(name.to_owned()),
                number: row.number.clone(),
                ..Default::default()
            }
        }
    };
    entry_of(&input, site).map_err(at)
}

/// One data row of a directory CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvRow {
    /// The line the row starts on (1-based).
    pub line: u64,
    pub name: String,
    pub number: String,
}

/// Reads a directory CSV in the portal's format: `Name, Number` a line, with or without a
/// `name,number` header. Shares the reader of every import: a UTF-8 byte-order mark is dropped,
/// the separator is `,` or `;` (the one the first line uses), cells may be quoted, lines end in
/// LF or CRLF, blank lines are skipped, and a file that is not UTF-8 is read as Windows-1252
/// (what spreadsheets on Windows write). A cell a spreadsheet-safe export prefixed with `'`
/// loses the `'`. Every row that is not two cells is named by its line.
pub fn parse_directory_csv(bytes: &[u8]) -> Result<Vec<CsvRow>> {
    let (rows, problems) = read_rows(bytes)?;
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(Error::Rows(problems))
    }
}

/// The rows of a directory CSV, and every row that is not two cells (see
/// [`parse_directory_csv`]); a file of too many rows is an error.
fn read_rows(bytes: &[u8]) -> Result<(Vec<CsvRow>, Vec<LineError>)> {
    let text = decode(bytes);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = if first.contains(';') && !first.contains(',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut lines = Lines {
        text: text.as_bytes(),
        byte: 0,
        line: 1,
    };
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| lines.at(p)).unwrap_or(0);
                problems.push(LineError {
                    line,
                    field: "row".into(),
                    message: format!("not readable as CSV: {e}"),
                });
                continue;
            }
        };
        let line = record
            .position()
            .map(|p| lines.at(p))
            .unwrap_or(i as u64 + 1);
        let cells: Vec<&str> = record.iter().collect();
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        let header = rows.is_empty()
            && problems.is_empty()
            && cells.len() == 2
            && cells[0].eq_ignore_ascii_case("name")
            && cells[1].eq_ignore_ascii_case("number");
        if header {
            continue;
        }
        if cells.len() != 2 {
            problems.push(LineError {
                line,
                field: "row".into(),
                message: format!(
                    "{} cells; a row is a name and a number (\"Ann Example, +4930123456\")",
                    cells.len()
                ),
            });
            continue;
        }
        rows.push(CsvRow {
            line,
            name: unprotect(cells[0]),
            number: unprotect(cells[1]),
        });
    }
    if rows.len() > IMPORT_MAX_ROWS {
        return Err(Error::invalid(
            "file",
            format!(
                "{} rows; at most {IMPORT_MAX_ROWS} in one import",
                rows.len()
            ),
        ));
    }
    Ok((rows, problems))
}

/// Lines (1-based, every line counted, blank ones too) of records in file order: the csv
/// crate's own count leaves blank lines out. Counts on from the last record, so a file is
/// read once.
struct Lines<'t> {
    text: &'t [u8],
    byte: usize,
    line: u64,
}

impl Lines<'_> {
    fn at(&mut self, position: &csv::Position) -> u64 {
        let mut start = usize::try_from(position.byte())
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        // A record's position may be that of the blank lines skipped before it.
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start >= self.byte {
            let newlines = self.text[self.byte..start].iter().filter(|&&b| b == b'\n');
            self.line += newlines.count() as u64;
            self.byte = start;
        }
        self.line
    }
}

/// A cell without the `'` a spreadsheet-safe export put before a leading `=`, `+`, `-` or `@`.
fn unprotect(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

/// The file's text: UTF-8 without its byte-order mark, else Windows-1252.
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

/// A Windows-1252 byte as a character (Latin-1 but for 0x80–0x9F).
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[u8]) -> Vec<(u64, String, String)> {
        parse_directory_csv(text)
            .unwrap()
            .into_iter()
            .map(|r| (r.line, r.name, r.number))
            .collect()
    }

    #[test]
    fn reads_the_portals_format_with_or_without_header() {
        let plain = rows(b"Ann Example, +4930123456\n\nPizza Roma, 0049301111\n");
        assert_eq!(
            plain,
            vec![
                (1, "Ann Example".into(), "+4930123456".into()),
                (3, "Pizza Roma".into(), "0049301111".into())
            ]
        );
        let headed = rows(b"\xEF\xBB\xBFname,number\r\n\"Example, Ann\",+4930123456\r\n");
        assert_eq!(
            headed,
            vec![(2, "Example, Ann".into(), "+4930123456".into())]
        );
        let semicolons = rows(b"M\xFCller Bernd;1234\n");
        assert_eq!(semicolons, vec![(1, "Müller Bernd".into(), "1234".into())]);
    }

    #[test]
    fn a_row_of_the_wrong_shape_is_named_by_its_line() {
        let e = parse_directory_csv(b"Ann Example, +4930123456\nBob\nC, 1, 2\n").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("line 2, row: 1 cells"), "{text}");
        assert!(text.contains("line 3, row: 3 cells"), "{text}");
    }

    #[test]
    fn a_csv_name_is_a_person_or_a_company() {
        let row = |name: &str| CsvRow {
            line: 1,
            name: name.into(),
            number: "1234".into(),
        };
        let ann = entry_of_csv(&row("Ann Marie Example"), None).unwrap();
        assert_eq!(ann.first_name.as_deref(), Some("Ann Marie"));
        assert_eq!(ann.last_name.as_deref(), Some("Example"));
        let acme = entry_of_csv(&row("Acme"), None).unwrap();
        assert_eq!(
            (acme.company.as_deref(), acme.name.as_str()),
            (Some("Acme"), "Acme")
        );
        let long = "Bundesamt für Sicherheit in der Informationstechnik";
        assert_eq!(entry_of_csv(&row(long), None).unwrap().name, long);
        let e = entry_of_csv(&row(&"x".repeat(65)), None).unwrap_err();
        assert_eq!((e.line, e.field.as_ref()), (1, "name"), "{e}");
    }

    #[test]
    fn an_entry_is_a_person_or_a_company() {
        let input =
            |first: Option<&str>, last: Option<&str>, company: Option<&str>| DirectoryEntryInput {
                first_name: first.map(Into::into),
                last_name: last.map(Into::into),
                company: company.map(Into::into),
                number: "+4930123456".into(),
                site: None,
            };
        let field = |i: &DirectoryEntryInput| match entry_of(i, None) {
            Err(Error::Invalid(f)) => f.field.into_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&input(Some("Ann"), None, None)), "last_name");
        assert_eq!(field(&input(None, Some("Example"), None)), "first_name");
        assert_eq!(field(&input(None, None, None)), "name");
        assert_eq!(field(&input(None, None, Some(" "))), "name");
        let both = entry_of(&input(Some("Ann"), Some("Example"), Some("Acme")), None).unwrap();
        assert_eq!(both.name, "Ann Example");
    }
}
