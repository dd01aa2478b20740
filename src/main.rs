//! The `autorun` binary: developer tracing from `AUTORUN_LOG`, then `autorun::run`.

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("AUTORUN_LOG"))
        .with_writer(std::io::stderr)
        .init();
    std::process::exit(autorun::run(std::env::args_os()));
}
