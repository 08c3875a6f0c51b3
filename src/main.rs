//! Parses the command line and starts one of plumb's two faces.

fn main() -> std::process::ExitCode {
    match plumb::cli::parse() {
        plumb::cli::Parsed::Lsp => plumb::lsp::run_stdio(),
        plumb::cli::Parsed::Command(command) => plumb::cli::run(command),
        plumb::cli::Parsed::Exit(code) => code,
    }
}
