//! The `skillmeat` binary. Everything lives in the library so tests can reach it.

fn main() -> std::process::ExitCode {
    skillmeat::cli::main()
}
