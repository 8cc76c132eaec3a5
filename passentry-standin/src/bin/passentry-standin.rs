//! `passentry-standin [--passes N] [--listen ADDR] [--api-key KEY] [--max-per-page N]
//! [--refuse PASS_ID=STATUS]...`: the stand-in on its own, for manual runs against a counter
//! and the screens' browser tests. `--refuse` answers every request about that pass with
//! STATUS and a PassEntry error body. Prints `{"listening": URL, "apiKey": KEY, "passes": N}`
//! and serves until killed.

use passdesk_passentry_standin::{Options, StandIn};

fn main() -> anyhow::Result<()> {
    let mut options = Options::default();
    let mut refusals = Vec::new();
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
            "--refuse" => {
                let given = value()?;
                let (pass, status) = given.split_once('=').ok_or_else(|| {
                    anyhow::anyhow!("--refuse takes PASS_ID=STATUS, not {given:?}")
                })?;
                let status: u16 = status.parse()?;
                anyhow::ensure!(
                    (400..600).contains(&status),
                    "--refuse {given}: the status must be 400 to 599"
                );
                refusals.push((pass.to_owned(), status));
            }
            "-h" | "--help" => {
                println!("passentry-standin [--passes N] [--listen ADDR] [--api-key KEY] [--max-per-page N] [--refuse PASS_ID=STATUS]...");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other:?} (see --help)"),
        }
    }
    let passes = options.passes;
    let standin = StandIn::start(options)?;
    for (pass, status) in refusals {
        let body = serde_json::json!({"errors": [{
            "status": status.to_string(),
            "detail": format!("pass {pass} refused by the stand-in (--refuse)"),
        }]});
        standin.refuse_pass(&pass, status, body);
    }
    println!(
        "{}",
        serde_json::json!({"listening": standin.base_url(), "apiKey": standin.api_key(), "passes": passes})
    );
    loop {
        std::thread::park();
    }
}
