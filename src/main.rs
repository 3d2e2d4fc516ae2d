#[tokio::main]
async fn main() -> std::process::ExitCode {
    dispatch::memory::return_large_blocks();
    match dispatch::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dispatch: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
