//! Times bulk imports for `benches/import.sh`: into a fresh tenant (site "HQ"), N numbers, then
//! N Yealink T54W handsets each with its number logged in, then N users each with their number
//! and extension — three CSV files through `Admin::import`, as `autoprov import` runs them.
//! Prints one line per kind and the total, with rows/s.
//!
//! `cargo run --release --example bench_import -- DATA_DIR N [DATABASE_URL]`

#![allow(clippy::print_stdout)]

use std::time::Instant;

use anyhow::Context as _;
use autoprov::admin::import::{ImportOptions, KindName};
use autoprov::admin::SiteInput;
use autoprov::config::{self, Sources};
use autoprov::App;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(data), Some(n)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bench_import DATA_DIR N [DATABASE_URL]");
    };
    let n: u32 = n.parse().context("N must be a whole number")?;
    let mut flags = vec![("data", data)];
    if let Some(url) = args.next() {
        flags.push(("database", url));
    }
    let (settings, _) = config::load(&Sources {
        config_file: None,
        read_env: true,
        flags,
    })?;
    let backend = settings
        .database_url
        .split(':')
        .next()
        .unwrap_or("")
        .to_owned();
    let app = App::open(settings).await?;
    let admin = &app.admin;
    let name = format!("bench-{}-{n}", std::process::id());
    let tenant = admin.tenant_add(&name).await?;
    let site = SiteInput {
        name: "HQ".into(),
        sip_domain: Some("sip.example.com".into()),
        ..Default::default()
    };
    admin.site_add(tenant.id, &site).await?;
    // Numbers unique per run, so several runs can share a PostgreSQL database.
    let base = u64::from(std::process::id() % 90 + 10) * 1_000_000;
    let number = |i: u32| format!("+49301{:08}", base + u64::from(i));
    let files = [
        (
            KindName::Numbers,
            csv("number,site,status", n, |i| {
                format!("{},HQ,active", number(i))
            }),
        ),
        (
            KindName::Devices,
            csv("mac,model,site,numbers", n, |i| {
                format!("0015{:08x},T54W,HQ,{}", base + u64::from(i), number(i))
            }),
        ),
        (
            KindName::Users,
            csv("first_name,last_name,email,number,extension", n, |i| {
                format!("User,N{i},u{i}@example.com,{},{:07}", number(i), i)
            }),
        ),
    ];
    let all = Instant::now();
    for (kind, file) in files {
        let start = Instant::now();
        let report = admin
            .import(
                kind,
                tenant.id,
                std::io::Cursor::new(file.into_bytes()),
                ImportOptions::default(),
                &|_| {},
            )
            .await?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "backend={backend} n={n} kind={kind} rows={} secs={secs:.2} rows_per_s={:.0}",
            report.rows,
            f64::from(n) / secs
        );
    }
    let secs = all.elapsed().as_secs_f64();
    println!(
        "backend={backend} n={n} kind=all rows={} secs={secs:.2} rows_per_s={:.0}",
        3 * n,
        f64::from(3 * n) / secs
    );
    Ok(())
}

fn csv(header: &str, n: u32, row: impl Fn(u32) -> String) -> String {
    let mut text = format!("{header}\n");
    for i in 0..n {
        text.push_str(&row(i));
        text.push('\n');
    }
    text
}
