//! Seeds a data dir for `benches/scale.sh`: one tenant and site (loopback trusted, so phones
//! fetch without credentials) and N Yealink T54W phones, each with its number logged in and a
//! user holding it, by the bulk import (`seed::seed`, 100,000 phones per import). Writes the
//! phones a benchmark asks for, a sample of `PERCENT` % of them picked by a fixed hash of their
//! index (the same sample every run), one `mac colon-mac` line each (`macs.txt`, read by the
//! warm-up and by `benches/scale.lua`). Prints the seeding time.
//!
//! `cargo run --release --example bench_scale -- DATA_DIR OUT_DIR N PERCENT`

#![allow(clippy::print_stdout)]

#[path = "common/seed.rs"]
#[allow(dead_code)] // the big tenant is for the other benchmarks
mod seed;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(data), Some(out), Some(n), Some(percent)) =
        (args.next(), args.next(), args.next(), args.next())
    else {
        anyhow::bail!("usage: bench_scale DATA_DIR OUT_DIR N PERCENT");
    };
    let n: u32 = n.parse().context("N must be a whole number")?;
    let percent: u32 = percent.parse().context("PERCENT must be a whole number")?;
    anyhow::ensure!((1..=100).contains(&percent), "PERCENT must be 1 to 100");
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let app = seed::open(data).await?;
    let start = Instant::now();
    let mut list = String::new();
    let mut sampled = 0u32;
    let mut i = 0u32;
    seed::seed(&app, n, &["127.0.0.0/8"], |mac| {
        if in_sample(i, percent) {
            let _ = writeln!(list, "{mac} {}", mac.colon());
            sampled += 1;
        }
        i += 1;
    })
    .await?;
    std::fs::write(out.join("macs.txt"), list)?;
    app.store.close().await;
    println!(
        "phones={n} sampled={sampled} seed_seconds={:.1}",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Whether phone `i` is in a `percent` % sample: a multiplicative hash of the index, so the
/// sample is spread over the whole range and the same in every run.
fn in_sample(i: u32, percent: u32) -> bool {
    percent == 100 || (i.wrapping_mul(2_654_435_761) >> 8) % 100 < percent
}
