//! `autoprov import` and `autoprov export`: a tenant's devices, users, numbers or speed-dials as CSV. The
//! import shows a progress bar on a terminal and plain lines otherwise, and prints every bad
//! row as `line 17, mac: …` (nothing is written then).

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use autoprov::admin::import::{Encoding, ImportOptions, KindName};
use autoprov::admin::Admin;
use autoprov::model::Tenant;
use clap::Args;

use super::Output;

#[derive(Args, Debug)]
pub(super) struct ImportArgs {
    /// What the file holds: devices, users, numbers, speed-dials or directory
    kind: KindName,
    /// The CSV file (header row first; `,` or `;`)
    file: PathBuf,
    /// Tenant id or name [default: the only tenant]
    #[arg(long)]
    tenant: Option<String>,
    /// Check every row and report, without writing anything
    #[arg(long)]
    dry_run: bool,
    /// The file's encoding: utf-8 or cp1252 (Windows-1252)
    #[arg(long, default_value = "utf-8")]
    encoding: Encoding,
}

#[derive(Args, Debug)]
pub(super) struct ExportArgs {
    /// What to export: devices, users, numbers, speed-dials or directory
    kind: KindName,
    /// Tenant id or name [default: the only tenant]
    #[arg(long)]
    tenant: Option<String>,
}

pub(super) async fn import(admin: &Admin, out: &Output, args: ImportArgs) -> anyhow::Result<()> {
    let tenant = tenant(admin, args.tenant.as_deref()).await?;
    let file =
        File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let read = Arc::new(AtomicU64::new(0));
    let input = Counted {
        inner: file,
        read: read.clone(),
    };
    let bar = Bar::new(size, out.json);
    let progress = |rows: u64| bar.show(rows, read.load(Ordering::Relaxed));
    let options = ImportOptions {
        dry_run: args.dry_run,
        encoding: args.encoding,
    };
    let report = admin
        .import(args.kind, tenant.id, input, options, &progress)
        .await;
    bar.finish();
    let report = report?;
    let human = match report.dry_run {
        true => format!(
            "{} {} rows checked: no errors (dry run, nothing written)",
            report.rows, report.kind
        ),
        false => format!(
            "{} {} imported into {} (revision {})",
            report.rows,
            report.kind,
            tenant.name,
            report.revision.unwrap_or(0)
        ),
    };
    out.one(&report, human);
    Ok(())
}

pub(super) async fn export(admin: &Admin, args: ExportArgs) -> anyhow::Result<()> {
    let tenant = tenant(admin, args.tenant.as_deref()).await?;
    admin
        .export(args.kind, tenant.id, std::io::stdout().lock())
        .await?;
    Ok(())
}

/// The tenant `key` names, or the only one there is.
async fn tenant(admin: &Admin, key: Option<&str>) -> anyhow::Result<Tenant> {
    if let Some(key) = key {
        return Ok(admin.tenant(key).await?);
    }
    let mut all = admin.tenant_list().await?;
    match all.len() {
        1 => Ok(all.remove(0)),
        0 => anyhow::bail!("there is no tenant yet: add one with `tenant add`"),
        n => anyhow::bail!("there are {n} tenants: name one with --tenant"),
    }
}

/// A reader that counts the bytes read, for the progress bar.
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A progress bar over the file's bytes on a terminal; a line every 10,000 rows otherwise.
enum Bar {
    Terminal(indicatif::ProgressBar),
    Lines(AtomicU64),
    Quiet,
}

impl Bar {
    fn new(size: u64, json: bool) -> Bar {
        if json {
            return Bar::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return Bar::Lines(AtomicU64::new(0));
        }
        let bar = indicatif::ProgressBar::new(size);
        let style = indicatif::ProgressStyle::with_template(
            "{bar:40} {percent:>3}%  {msg} rows  {elapsed_precise}",
        );
        if let Ok(style) = style {
            bar.set_style(style);
        }
        Bar::Terminal(bar)
    }

    fn show(&self, rows: u64, bytes: u64) {
        match self {
            Bar::Terminal(bar) => {
                bar.set_position(bytes);
                bar.set_message(rows.to_string());
            }
            Bar::Lines(shown) => {
                if rows >= shown.load(Ordering::Relaxed) + 10_000 {
                    shown.store(rows, Ordering::Relaxed);
                    eprintln!("{rows} rows read");
                }
            }
            Bar::Quiet => {}
        }
    }

    fn finish(&self) {
        if let Bar::Terminal(bar) = self {
            bar.finish_and_clear();
        }
    }
}
