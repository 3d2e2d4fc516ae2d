#[tokio::main]
async fn main() -> std::process::ExitCode {
    match dispatch::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dispatch: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
