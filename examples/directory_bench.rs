//! The directory benchmark (issue 12's "Done when", issue 15's directory cost): a tenant "Big"
//! with 5,000 users with a number and 2,000 directory entries, and a tenant "Small" with 10
//! users, each with one Yealink T54W; prints the render time of that phone's
//! `<mac>-directory.xml` and `<mac>.cfg` in each tenant, and the ratios Big/Small, measured in
//! the same run.
//!
//! Each render goes through `Provisioner::preview` (the phone path's record load and render,
//! without the per-file cache, so every one is a render): the first directory render of a
//! tenant loads its directory ("cold"), the rest share it ("warm", the median of the runs).
//! The bulk users are written straight into the SQLite database (as a bulk import would), the
//! phone and its user through the admin code, the entries by the CSV import.
//!
//! `cargo run --release --example directory_bench [-- RUNS]` (default 200 runs per figure).

#![allow(clippy::print_stdout)]

#[path = "common/seed.rs"]
#[allow(dead_code)] // `seed` itself: the bulk users here are written straight to the database.
mod seed;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use autoprov::admin::{DeviceInput, NumberInput, SiteInput, UserInput};
use autoprov::model::Mac;
use autoprov::App;

/// One seeded tenant's phone.
struct Phone {
    tenant: &'static str,
    mac: Mac,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = match std::env::args().nth(1) {
        Some(n) => n.parse().context("RUNS must be a whole number")?,
        None => 200,
    };
    let dir = tempfile::tempdir()?;
    let data = dir.path().display().to_string();
    let app = seed::open(data.clone()).await?;
    let small = tenant(&app, &data, "Small", 0, 10, 0).await?;
    let big = tenant(&app, &data, "Big", 1, 5_000, 2_000).await?;
    let mut figures = Vec::new();
    for phone in [&small, &big] {
        figures.push(measure(&app, phone, runs).await?);
    }
    println!("file                       small (10 users)   big (5,000 users + 2,000 entries)   big/small");
    let names = [
        "directory.xml, cold",
        "directory.xml, warm",
        "<mac>.cfg, warm",
    ];
    for (i, name) in names.iter().enumerate() {
        let (s, b) = (figures[0][i], figures[1][i]);
        println!(
            "{name:<26} {:>10.1} µs      {:>10.1} µs                       {:>6.2}×",
            micros(s),
            micros(b),
            micros(b) / micros(s).max(0.001)
        );
    }
    app.store.close().await;
    Ok(())
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// [cold directory, warm directory (median), warm `<mac>.cfg` (median)] of `phone`.
async fn measure(app: &App, phone: &Phone, runs: usize) -> anyhow::Result<[Duration; 3]> {
    let directory = format!("{}-directory.xml", phone.mac);
    let cfg = format!("{}.cfg", phone.mac);
    let start = Instant::now();
    let first = app
        .provisioner
        .preview(phone.mac, Some(&directory), false)
        .await?;
    let cold = start.elapsed();
    anyhow::ensure!(
        first.body.matches("<DirectoryEntry>").count() > 1,
        "{}: the directory is empty",
        phone.tenant
    );
    let median = async |file: &str| -> anyhow::Result<Duration> {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let start = Instant::now();
            app.provisioner
                .preview(phone.mac, Some(file), false)
                .await?;
            times.push(start.elapsed());
        }
        times.sort();
        Ok(times[times.len() / 2])
    };
    let warm = median(&directory).await?;
    let cfg = median(&cfg).await?;
    Ok([cold, warm, cfg])
}

/// A tenant with a site, `users` users with a number (one of them logged in to the tenant's
/// phone) and `entries` directory entries.
async fn tenant(
    app: &App,
    data: &str,
    name: &'static str,
    index: u32,
    users: u32,
    entries: u32,
) -> anyhow::Result<Phone> {
    let admin = &app.admin;
    let tenant = admin.tenant_add(name).await?;
    let site = admin
        .site_add(
            tenant.id,
            &SiteInput {
                name: "HQ".into(),
                time_zone: Some("Europe/Berlin".into()),
                sip_domain: Some("sip.example.com".into()),
                ..Default::default()
            },
        )
        .await?;
    let number = format!("+49301{index}000000");
    admin
        .number_add(
            tenant.id,
            &NumberInput {
                number: number.clone(),
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await?;
    let user = admin
        .user_add(
            tenant.id,
            &UserInput {
                first_name: "Phone".into(),
                last_name: "Owner".into(),
                number: Some(number.clone()),
                ..Default::default()
            },
        )
        .await?;
    admin.user_activate(tenant.id, &user).await?;
    let mac = seed::mac(index)?;
    admin
        .device_add(
            tenant.id,
            &DeviceInput {
                mac: mac.to_string(),
                model: "T54W".into(),
                site: None,
            },
        )
        .await?;
    admin
        .device_login(tenant.id, &mac.to_string(), &number)
        .await?;
    bulk_users(data, tenant.id.0, site.id.0, index, users.saturating_sub(1)).await?;
    if entries > 0 {
        let csv: String = (0..entries)
            .map(|i| format!("Company {i:05}, +4940{index}{i:07}\n"))
            .collect();
        let options = autoprov::admin::import::ImportOptions::default();
        let kind = autoprov::admin::import::KindName::Directory;
        admin
            .import(kind, tenant.id, csv.as_bytes(), options, &|_| {})
            .await?;
    }
    Ok(Phone { tenant: name, mac })
}

/// `n` active users with a number and an extension, in one transaction straight into the
/// database. Written before the directory is first loaded (the entries' import moves the
/// directory revision after them anyway).
async fn bulk_users(data: &str, tenant: i64, site: i64, index: u32, n: u32) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&format!("sqlite://{data}/autoprov.db")).await?;
    let mut tx = pool.begin().await?;
    for i in 0..n {
        let number_id: i64 = sqlx::query_scalar(
            "INSERT INTO numbers (tenant_id, site_id, e164, status, created_at) \
             VALUES ($1, $2, $3, 'active', 0) RETURNING id",
        )
        .bind(tenant)
        .bind(site)
        .bind(format!("+49302{index}{i:07}"))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO users (tenant_id, first_name, last_name, state, number_id, extension, \
             created_at) VALUES ($1, $2, 'Bench', 'active', $3, $4, 0)",
        )
        .bind(tenant)
        .bind(format!("User{i}"))
        .bind(number_id)
        .bind(format!("{}", 100_000 + i))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    pool.close().await;
    Ok(())
}
