//! `autoprov rollout status`: which phones have arrived; `autoprov models`: the catalogue.

use std::time::Duration;

use autoprov::admin::{Admin, Rollout};
use clap::{Args, Subcommand};

use super::{Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum RolloutCmd {
    /// How many phones are expected, arrived, provisioned, failing and stale, with the laggards
    Status(StatusArgs),
}

#[derive(Args, Debug)]
pub(super) struct StatusArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// Only this site (id or name) [default: the whole tenant]
    #[arg(long)]
    site: Option<String>,
    /// Days without a fetch after which a phone counts as stale
    #[arg(long, default_value_t = autoprov::admin::STALE_DAYS)]
    stale_days: u32,
    /// Refresh until every expected phone has arrived
    #[arg(long)]
    watch: bool,
    /// Seconds between refreshes with --watch
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    every: u64,
}

#[derive(Args, Debug)]
pub(super) struct ModelsArgs {
    /// Only this family's models, e.g. yealink
    #[arg(long)]
    family: Option<String>,
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: RolloutCmd) -> anyhow::Result<()> {
    match cmd {
        RolloutCmd::Status(args) => status(admin, out, args).await,
    }
}

/// Prints the summary; with `--watch`, again every `--every` seconds until all have arrived.
async fn status(admin: &Admin, out: &Output, args: StatusArgs) -> anyhow::Result<()> {
    let tenant = admin.tenant(&args.tenant.tenant).await?;
    loop {
        let rollout = admin
            .rollout(tenant.id, args.site.as_deref(), Some(args.stale_days))
            .await?;
        out.one(&rollout, summary(&rollout));
        if !args.watch || rollout.all_arrived() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(args.every)).await;
    }
}

/// The summary as a person reads it: one line of counts, then a line per laggard.
fn summary(r: &Rollout) -> String {
    let what = match &r.site {
        Some(site) => format!("site {site}"),
        None => "all sites".to_owned(),
    };
    let mut text = format!(
        "{what}: {} expected, {} arrived, {} provisioned ({} proven), {} failing, {} not seen \
         for {} days",
        r.expected, r.arrived, r.provisioned, r.proven, r.failing, r.stale, r.stale_days
    );
    if !r.laggards.is_empty() {
        text.push_str("\nlaggards:");
        for l in &r.laggards {
            text.push_str(&format!(
                "\n  {}\t{}\t{}\t{}\t{}",
                l.mac,
                l.phone_id,
                l.model,
                l.state.as_str(),
                l.why
            ));
        }
    }
    text
}

pub(super) fn models(admin: &Admin, out: &Output, args: ModelsArgs) -> anyhow::Result<()> {
    let list = admin.models(args.family.as_deref())?;
    out.list(&list, |m| {
        format!(
            "{}\t{}\t{} accounts\t{} line keys",
            m.family, m.model, m.accounts, m.line_keys
        )
    });
    Ok(())
}
