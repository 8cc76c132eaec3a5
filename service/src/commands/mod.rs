//! One file per command, each with the same shape: `Args` (or `Cmd`) and
//! `run(&Context, args) -> Result<ExitCode>`.

pub mod backup;
pub mod bench;
pub mod bench_loyalty;
pub mod bench_nfc;
pub mod bench_qr;
pub mod bench_sync;
pub mod bench_upstream;
pub mod bench_wallet;
pub mod bench_webhooks;
pub mod camera;
pub mod demo;
pub mod hub;
pub mod import;
pub mod init;
pub mod keys;
pub mod loyalty;
pub mod nfc;
pub mod openapi;
pub mod passes;
pub mod policy;
pub mod qr;
pub mod readers;
pub mod restore;
pub mod scan;
pub mod scans;
pub mod serial;
pub mod serve;
pub mod sync;
pub mod token;
pub mod upstream;
pub mod wallet;
pub mod webhooks;
