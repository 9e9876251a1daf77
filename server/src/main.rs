//! `postkasse`: the server and the operator's command line (see [`postkasse::cli`]).

use clap::Parser;
use postkasse::{cli, telemetry};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let arguments = cli::Cli::parse();
    telemetry::init("info,sqlx=warn,tower_http=info");
    match cli::run(arguments).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
