//! The phone directory's own entries (portal 000 "Phone Site Directory", 004 "Telefonbuch"):
//! their rules, used one entry at a time here and row by row by the `directory` import kind
//! (`import/directory.rs`: all or nothing, every bad row named by its line).
//!
//! An entry is a person (first and last name, the users' limits) or a company (1–64
//! characters), and a number: E.164, or an internal extension or short number
//! (`model::parse_dial_number`). The same name with the same number is there once per scope (the
//! tenant, or one site).

use super::Admin;
use crate::error::{Error, FieldError, Result};
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
            return Err(
                Error::invalid("last_name", "a person needs a last name too")
                    .coded("entry_needs_last_name", []),
            )
        }
        (None, Some(_), _) => {
            return Err(
                Error::invalid("first_name", "a person needs a first name too")
                    .coded("entry_needs_first_name", []),
            )
        }
        (None, None, Some(c)) => c.clone(),
        (None, None, None) => {
            return Err(
                Error::invalid("name", "give a first and a last name, or a company")
                    .coded("entry_needs_name", []),
            )
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

/// An entry from an import row's name and number. The name is a person's when it has a space
/// and both sides of its last space fit a first and a last name ("Ann Example"), else a
/// company's ("Bundesamt für …"): what phones show is the same text either way. A `'` that a
/// spreadsheet-safe export put before a leading `=`, `+`, `-` or `@` is dropped.
pub(crate) fn entry_of_name(
    name: &str,
    number: &str,
    site: Option<SiteId>,
) -> Result<NewDirectoryEntry, FieldError> {
    let as_row = |e: Error| match e {
        Error::Invalid(f) => FieldError {
            code: None,
            field: match f.field.as_ref() {
                "first_name" | "last_name" | "company" => "name".into(),
                _ => f.field,
            },
            message: f.message,
        },
        other => FieldError {
            code: None,
            field: "name".into(),
            message: other.to_string(),
        },
    };
    let name = match name.trim().strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => name.trim(),
    };
    let person = name
        .rsplit_once(' ')
        .filter(|(f, l)| FirstName::parse(f).is_ok() && LastName::parse(l).is_ok());
    let input = match person {
        Some((first, last)) => DirectoryEntryInput {
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            number: number.to_owned(),
            ..Default::default()
        },
        None => {
            parse_label("name", name).map_err(as_row)?;
            DirectoryEntryInput {
                company: Some(name.to_owned()),
                number: number.to_owned(),
                ..Default::default()
            }
        }
    };
    entry_of(&input, site).map_err(as_row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_name_is_a_person_or_a_company() {
        let row = |name: &str| entry_of_name(name, "1234", None);
        let ann = row("Ann Marie Example").unwrap();
        assert_eq!(ann.first_name.as_deref(), Some("Ann Marie"));
        assert_eq!(ann.last_name.as_deref(), Some("Example"));
        let acme = row("Acme").unwrap();
        assert_eq!(
            (acme.company.as_deref(), acme.name.as_str()),
            (Some("Acme"), "Acme")
        );
        let long = "Bundesamt für Sicherheit in der Informationstechnik";
        assert_eq!(row(long).unwrap().name, long);
        assert_eq!(row("'=cmd").unwrap().name, "=cmd");
        let e = row(&"x".repeat(65)).unwrap_err();
        assert_eq!(e.field.as_ref(), "name", "{e}");
        let e = entry_of_name("Ann Example", "030 1234", None).unwrap_err();
        assert_eq!(e.field.as_ref(), "number", "{e}");
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
