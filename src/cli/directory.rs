//! `autoprov directory`: the phone directory's own entries (as CSV: `autoprov import directory`
//! and `autoprov export directory`, in `import.rs`).

use autoprov::admin::{Admin, DirectoryEntryInput};
use autoprov::model::{DirectoryEntry, ListQuery, LIST_MAX};
use clap::{Args, Subcommand};

use super::{Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum DirectoryCmd {
    /// Add an entry: a person (--first and --last) or a company, and a number
    Add(EntryArgs),
    /// Replace an entry with what is given (what is left out is cleared)
    Edit(EditArgs),
    /// Delete an entry
    Remove(EntryId),
    /// List the entries by name
    List(ListArgs),
}

// The argument structs carry no doc comment: clap would take it for the subcommand's about.

#[derive(Args, Debug)]
pub(super) struct EntryArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// A person's first name (with --last)
    #[arg(long)]
    first: Option<String>,
    /// A person's last name (with --first)
    #[arg(long)]
    last: Option<String>,
    /// A company's name (when there is no person's name)
    #[arg(long)]
    company: Option<String>,
    /// E.164 (+4930123456), or an extension or short number of 2 to 8 digits
    #[arg(long)]
    number: String,
    /// Site id or name: shown only on that site's phones [default: every phone of the tenant]
    #[arg(long)]
    site: Option<String>,
}

#[derive(Args, Debug)]
pub(super) struct EditArgs {
    /// The entry's id (see `directory list`)
    id: String,
    #[command(flatten)]
    entry: EntryArgs,
}

#[derive(Args, Debug)]
pub(super) struct EntryId {
    #[command(flatten)]
    tenant: TenantArg,
    /// The entry's id (see `directory list`)
    id: String,
}

#[derive(Args, Debug)]
pub(super) struct ListArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// Only entries whose name, company or number contains this text
    #[arg(long)]
    search: Option<String>,
    /// Site id or name: that site's entries and the tenant-wide ones
    #[arg(long)]
    site: Option<String>,
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: DirectoryCmd) -> anyhow::Result<()> {
    match cmd {
        DirectoryCmd::Add(args) => add(admin, out, args).await,
        DirectoryCmd::Edit(args) => edit(admin, out, args).await,
        DirectoryCmd::Remove(args) => remove(admin, out, args).await,
        DirectoryCmd::List(args) => list(admin, out, args).await,
    }
}

fn input(args: EntryArgs) -> DirectoryEntryInput {
    DirectoryEntryInput {
        first_name: args.first,
        last_name: args.last,
        company: args.company,
        number: args.number,
        site: args.site,
    }
}

fn line(e: &DirectoryEntry) -> String {
    format!("{}\t{}\t{}", e.id, e.name, e.number)
}

async fn add(admin: &Admin, out: &Output, args: EntryArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let e = admin.directory_add(tenant.id, &input(args)).await?;
    out.one(
        &e,
        format!("directory entry {} added: {} {}", e.id, e.name, e.number),
    );
    Ok(())
}

async fn edit(admin: &Admin, out: &Output, args: EditArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.entry.tenant.tenant).await?;
    let entry = admin.directory_entry(tenant.id, &args.id).await?;
    let e = admin
        .directory_edit(tenant.id, &entry, &input(args.entry))
        .await?;
    out.one(
        &e,
        format!("directory entry {} is now: {} {}", e.id, e.name, e.number),
    );
    Ok(())
}

async fn remove(admin: &Admin, out: &Output, args: EntryId) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let entry = admin.directory_entry(tenant.id, &args.id).await?;
    admin.directory_remove(tenant.id, &entry).await?;
    out.one(
        &entry,
        format!("directory entry {} ({}) deleted", entry.id, entry.name),
    );
    Ok(())
}

async fn list(admin: &Admin, out: &Output, args: ListArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    let mut all = Vec::new();
    loop {
        let query = ListQuery {
            limit: Some(LIST_MAX),
            offset: Some(all.len() as u32),
            q: args.search.clone(),
        };
        let page = admin
            .directory_page(tenant.id, args.site.as_deref(), &query)
            .await?;
        let done = page.items.len() < LIST_MAX as usize;
        all.extend(page.items);
        if done {
            break;
        }
    }
    out.list(&all, line);
    Ok(())
}
