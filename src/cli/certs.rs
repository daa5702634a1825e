//! `autoprov certs`: the local CA and HTTPS server certificate.

use anyhow::Context as _;
use autoprov::config::Settings;
use autoprov::App;
use clap::Subcommand;

use super::{write_stdout, Output};

#[derive(Subcommand, Debug)]
pub(super) enum CertsCmd {
    /// Make the local CA and server certificate (for https.hostnames) in <data>/certs, or check
    /// the ones there against the CA the store recorded
    Init {
        /// Issue a new server certificate from the existing CA (e.g. for new https.hostnames)
        #[arg(long)]
        force: bool,
        /// Make a new CA, replacing the one phones trust: every phone provisioned over HTTPS
        /// must then be provisioned again
        #[arg(long)]
        replace: bool,
    },
    /// Show the certificates in use; with --ca, print the CA certificate to hand to phones
    Show {
        /// Print the CA certificate (PEM) instead
        #[arg(long)]
        ca: bool,
    },
}

pub(super) async fn run(cmd: &CertsCmd, settings: &Settings, out: &Output) -> anyhow::Result<()> {
    use autoprov::certs::{describe, LocalPaths, Renew};
    match cmd {
        CertsCmd::Init { force, replace } => {
            let renew = match (replace, force) {
                (true, _) => Renew::Ca,
                (false, true) => Renew::ServerCert,
                (false, false) => Renew::Missing,
            };
            // The store holds the fingerprint of the CA phones trust; the templates are not
            // needed, so no whole `App`.
            let store = App::open_store(settings).await?;
            let made = autoprov::app::local_certs(&store, settings, renew).await;
            store.close().await;
            let local = made?;
            let paths = &local.paths;
            let info = describe(&paths.cert)?;
            out.one(
                &info,
                format!(
                    "server certificate {} for {}\nCA certificate for phones: {} (SHA-256 {}, \
                     recorded in the store)",
                    paths.cert.display(),
                    info.names.join(", "),
                    paths.ca.display(),
                    local.ca_sha256
                ),
            );
        }
        CertsCmd::Show { ca } => {
            let local = LocalPaths::new(&settings.data_dir);
            if *ca {
                let pem = std::fs::read_to_string(&local.ca).with_context(|| {
                    format!(
                        "{}: no local CA yet (run `autoprov certs init`)",
                        local.ca.display()
                    )
                })?;
                write_stdout(pem.as_bytes());
                return Ok(());
            }
            let cert = match &settings.https_settings.cert_and_key {
                Some((cert, _)) => cert.clone(),
                None => local.cert.clone(),
            };
            let mut list = vec![describe(&cert).with_context(|| {
                format!(
                    "{}: no certificate yet (run `autoprov certs init`)",
                    cert.display()
                )
            })?];
            if settings.https_settings.cert_and_key.is_none() {
                list.push(describe(&local.ca)?);
            }
            out.list(&list, |c| {
                format!(
                    "{}\n  subject  {}\n  issuer   {}\n  names    {}\n  valid    {} .. {}\n  sha256   {}",
                    c.path,
                    c.subject,
                    c.issuer,
                    c.names.join(", "),
                    c.not_before,
                    c.not_after,
                    c.sha256
                )
            });
        }
    }
    Ok(())
}
