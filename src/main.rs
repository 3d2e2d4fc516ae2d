//! The `dispatch` binary: the command line of [`dispatch::cli`].

// The release build computes the layout of the server's nested middleware future
// deeper than the default limit of 128 (`cargo build --release` failed with
// "queries overflow the depth limit").
#![recursion_limit = "256"]

/// mimalloc instead of glibc's malloc: under load glibc spent ~30% of the server's
/// CPU in malloc, free and their consolidation (perf, PostgreSQL list of 20, cache
/// off); see the bench numbers in the README.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
