//! The `autoprov` binary: parse arguments, load settings, start logging, hand over to `cli`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
