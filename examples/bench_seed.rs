//! Seeds a data dir for `benches/http.sh`: one tenant and site, and N Yealink T54W handsets, each
//! with its own active user and number logged in, written through the same admin code as the
//! CLI, on a site whose LAN (loopback here) is an allowed network. Also writes each phone's
//! `<mac>.cfg` as autoprov renders it into a folder, so nginx can serve the very same bytes, and
//! a Lua table of the MACs for wrk.
//!
//! `cargo run --release --example bench_seed -- DATA_DIR STATIC_DIR N`

#![allow(clippy::print_stdout)]

#[path = "common/seed.rs"]
mod seed;

use std::path::PathBuf;

use anyhow::Context as _;
use autoprov::provision::{FileRequest, Protocol};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(data), Some(out), Some(n)) = (args.next(), args.next(), args.next()) else {
        anyhow::bail!("usage: bench_seed DATA_DIR STATIC_DIR N");
    };
    let n: u32 = n.parse().context("N must be a whole number")?;
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let app = seed::open(data).await?;
    let mut lua = String::from("macs = {\n");
    // Phones on a LAN that the site trusts: no credentials needed to fetch.
    seed::seed(&app, n, &["127.0.0.0/8"], |mac| {
        lua.push_str(&format!("  {{\"{mac}\", \"{}\"}},\n", mac.colon()));
    })
    .await?;
    lua.push_str("}\n");
    for i in 0..n {
        let mac = seed::mac(i)?;
        // The phone's first contact (its window opened when it was added), as the server would
        // see it, so the stored file carries the credentials it got then.
        let name = format!("{mac}.cfg");
        let request = FileRequest::plain(&name, Protocol::Http, Some([127, 0, 0, 1].into()));
        app.provisioner.serve(&request).await;
        let file = app.provisioner.preview(mac, None, true).await?;
        std::fs::write(out.join(format!("{mac}.cfg")), &file.body)?;
    }
    std::fs::write(out.join("macs.lua"), lua)?;
    app.store.close().await;
    println!("seeded {n} devices");
    Ok(())
}
