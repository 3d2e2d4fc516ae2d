//! Logging. Requests are logged by method, path and status; bodies, headers and
//! secrets never are.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests) do nothing.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Logs go to stderr so that a command's output (`dispatch token`, `dispatch
        // openapi`) stays clean for scripts.
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
