//! The directory benchmark (issue 12's "Done when", issue 15's directory cost): a tenant "Big"
//! as issue 12 has it — 5,000 users with a number, 2,000 directory entries and 200 groups (hunt
//! groups, call centres, pickup and park groups with members and park slots), with virtual
//! users and bridges (`seed::big_tenant`) — and a tenant "Small" with 10 users, each with one
//! Yealink T54W whose user is in a pickup and a park group; prints the render time of that
//! phone's `<mac>-directory.xml` and `<mac>.cfg` in each tenant, and the ratios Big/Small,
//! measured in the same run.
//!
//! Each render goes through `Provisioner::preview` (the phone path's record load and render,
//! without the per-file cache, so every one is a render): the first directory render of a
//! tenant loads its directory ("cold"), the rest share it ("warm", the median of the runs).
//! The bulk users are written straight into the SQLite database (as a bulk import would), the
//! phone and its user through the admin code, the entries by the CSV import, the groups, virtual
//! users and bridges through the admin code (one write each: 260 writes take a few seconds).
//!
//! `cargo run --release --example directory_bench [-- RUNS]` (default 200 runs per figure).

#![allow(clippy::print_stdout)]

#[path = "common/seed.rs"]
#[allow(dead_code)] // `seed` itself: this tenant's phones are added one by one here.
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
    let small = tenant(&app, &data, "Small", 0, false).await?;
    let big = tenant(&app, &data, "Big", 1, true).await?;
    let mut figures = Vec::new();
    for phone in [&small, &big] {
        figures.push(measure(&app, phone, runs).await?);
    }
    println!("big: {}", seed::BIG);
    println!("file                       small (10 users)   big                                 big/small");
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
        first.body.matches("<Unit ").count() > 1,
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

/// A tenant with a site and one phone whose user is in a pickup and a park group: the small
/// tenant has 9 more users, the big one is [`seed::big_tenant`].
async fn tenant(
    app: &App,
    data: &str,
    name: &'static str,
    index: u32,
    big: bool,
) -> anyhow::Result<Phone> {
    use autoprov::admin::{ParkGroupInput, PickupGroupInput, SlotsInput};
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
    if big {
        let took = seed::big_tenant(app, data, tenant.id, site.id.0, index, &[number]).await?;
        println!("{name}: 200 groups, 50 virtual users, 10 bridges written in {took:.1?}");
    } else {
        seed::bulk_users(data, tenant.id.0, site.id.0, index, 9).await?;
        let pickup = PickupGroupInput {
            name: "Pickup 00".into(),
            members: vec![number.clone()],
        };
        admin.pickup_group_add(tenant.id, &pickup).await?;
        let park = ParkGroupInput {
            name: "Park 00".into(),
            members: vec![number],
            slots: SlotsInput::Range {
                from: "8000".into(),
                to: "8004".into(),
            },
        };
        admin.park_group_add(tenant.id, &park).await?;
    }
    Ok(Phone { tenant: name, mac })
}
