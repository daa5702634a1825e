//! The cold-render benchmark for `benches/render.sh`: N Yealink T54W phones (bulk import, on a
//! site whose allowed network is loopback), each served its `<mac>.cfg` once (its first
//! contact), then twice more through the real `Provisioner::serve`:
//!
//! - warm: every file from the cache (the baseline, measured in the same run);
//! - cold: after one tenant-wide change (a number added, which moves the tenant's revision and
//!   so every phone's cache key), every file rendered again from its record.
//!
//! Prints files/s of each and the ratio cold/warm; the renders counter checks that the cold pass
//! rendered every file and the warm one none. `TASKS` requests run at once (default 8).
//!
//! `cargo run --release --example bench_render -- DATA_DIR N`

#![allow(clippy::print_stdout)]

#[path = "common/seed.rs"]
#[allow(dead_code)] // the big tenant and bulk users are for the other benchmarks
mod seed;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use autoprov::admin::NumberInput;
use autoprov::provision::{FileRequest, Outcome, Protocol, Provisioner};
use autoprov::App;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(data), Some(n)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bench_render DATA_DIR N");
    };
    let n: u32 = n.parse().context("N must be a whole number")?;
    let tasks: u32 = match std::env::var("TASKS") {
        Ok(t) => t.parse().context("TASKS must be a whole number")?,
        Err(_) => 8,
    };
    let app = seed::open(data).await?;
    let tenant = seed::seed(&app, n, &["127.0.0.0/8"], |_| {}).await?;
    pass(&app, n, tasks).await?; // first contact: each phone takes its window
    let (warm, warm_renders) = pass(&app, n, tasks).await?;
    app.admin
        .number_add(
            tenant,
            &NumberInput {
                number: "+4989999999999".into(),
                ..Default::default()
            },
        )
        .await?;
    let (cold, cold_renders) = pass(&app, n, tasks).await?;
    anyhow::ensure!(
        warm_renders == 0,
        "the warm pass rendered {warm_renders} files"
    );
    anyhow::ensure!(
        cold_renders == u64::from(n),
        "the cold pass rendered {cold_renders} of {n} files"
    );
    println!(
        "phones={n} tasks={tasks} warm_files_per_s={warm:.0} cold_files_per_s={cold:.0} ratio_cold_warm={:.3}",
        cold / warm
    );
    app.store.close().await;
    Ok(())
}

/// Every phone's `<mac>.cfg` once, `tasks` at a time; files/s and the renders it took.
async fn pass(app: &App, n: u32, tasks: u32) -> anyhow::Result<(f64, u64)> {
    let renders = app.provisioner.metrics.renders.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for t in 0..tasks {
        let provisioner: Arc<Provisioner> = app.provisioner.clone();
        set.spawn(async move {
            let mut i = t;
            while i < n {
                let name = format!("{}.cfg", seed::mac(i)?);
                let request =
                    FileRequest::plain(&name, Protocol::Http, Some([127, 0, 0, 1].into()));
                let served = provisioner.serve(&request).await;
                anyhow::ensure!(
                    matches!(served.outcome, Outcome::Found(_)),
                    "phone {i}: {:?}",
                    served.outcome
                );
                i += tasks;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = set.join_next().await {
        done??;
    }
    let secs = start.elapsed().as_secs_f64();
    let rendered = app.provisioner.metrics.renders.load(Ordering::Relaxed) - renders;
    Ok((f64::from(n) / secs, rendered))
}
