//! The rollout benchmark for `benches/rollout.sh`: N phones, seeded through the admin code, each
//! doing its first contact (a GET of its `<mac>.cfg` from outside any allowed network, while its
//! window is open) through the real `Provisioner::serve`, one after the other as fast as they go.
//! Prints the time per phone and the process's peak RSS (VmHWM) of the rollout.
//!
//! `cargo run --release --example bench_rollout -- seed DATA_DIR N` then
//! `cargo run --release --example bench_rollout -- run DATA_DIR N [M]` (only the first M phones
//! of the N make their first contact: for a baseline too slow to finish).

#![allow(clippy::print_stdout)]

#[path = "common/seed.rs"]
#[allow(dead_code)] // the big tenant is for the HTTP and directory benchmarks
mod seed;

use std::time::Instant;

use anyhow::Context as _;
use autoprov::provision::{trust::Decision, FileRequest, Outcome, Protocol};
use autoprov::App;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(data), Some(n)) = (args.next(), args.next(), args.next()) else {
        anyhow::bail!("usage: bench_rollout seed|run DATA_DIR N");
    };
    let n: u32 = n.parse().context("N must be a whole number")?;
    let app = seed::open(data).await?;
    match mode.as_str() {
        "seed" => {
            seed::seed(&app, n, &[], |_| {}).await?;
            println!("seeded {n} devices");
        }
        "run" => {
            let m = match args.next() {
                Some(m) => m.parse().context("M must be a whole number")?,
                None => n,
            };
            rollout(&app, m.min(n)).await?;
        }
        _ => anyhow::bail!("mode must be seed or run"),
    }
    app.store.close().await;
    Ok(())
}

/// Every phone's first contact, in turn; fails unless each one got its file by first contact.
async fn rollout(app: &App, n: u32) -> anyhow::Result<()> {
    let start = Instant::now();
    for i in 0..n {
        let name = format!("{}.cfg", seed::mac(i)?);
        let request = FileRequest::plain(&name, Protocol::Http, Some([10, 9, 0, 1].into()));
        let served = app.provisioner.serve(&request).await;
        let ok = matches!(served.outcome, Outcome::Found(_))
            && served.decision == Some(Decision::FirstContact);
        anyhow::ensure!(ok, "phone {i}: {:?} {:?}", served.decision, served.outcome);
    }
    let elapsed = start.elapsed();
    let per_phone_us = elapsed.as_secs_f64() * 1e6 / f64::from(n.max(1));
    println!(
        "phones={n} total_s={:.2} per_phone_us={per_phone_us:.1} peak_rss_kib={}",
        elapsed.as_secs_f64(),
        peak_rss_kib()
    );
    Ok(())
}

/// The process's peak resident set (VmHWM), in KiB; 0 where /proc is not there.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
