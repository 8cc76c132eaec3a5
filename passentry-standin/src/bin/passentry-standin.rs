//! `passentry-standin [--passes N] [--listen ADDR] [--api-key KEY] [--max-per-page N]`: the
//! stand-in on its own, for manual runs against a counter. Prints `{"listening": URL,
//! "apiKey": KEY, "passes": N}` and serves until killed.

use passdesk_passentry_standin::{Options, StandIn};

fn main() -> anyhow::Result<()> {
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--passes" => options.passes = value()?.parse()?,
            "--listen" => options.listen = value()?.parse()?,
            "--api-key" => options.api_key = value()?,
            "--max-per-page" => options.max_per_page = value()?.parse()?,
            "-h" | "--help" => {
                println!("passentry-standin [--passes N] [--listen ADDR] [--api-key KEY] [--max-per-page N]");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other:?} (see --help)"),
        }
    }
    let passes = options.passes;
    let standin = StandIn::start(options)?;
    println!(
        "{}",
        serde_json::json!({"listening": standin.base_url(), "apiKey": standin.api_key(), "passes": passes})
    );
    loop {
        std::thread::park();
    }
}
