//! `passdesk`: the counter's command line. Errors end here, as one line on stderr.

use clap::Parser;
use passdesk::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    passdesk::logging::init();
    match passdesk::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
