//! plumb's integration tests: one test binary (as in wasmtime, ruff and rust-analyzer), every test
//! against the real sandbox runtime and the real `plumb` binary.
#![allow(clippy::print_stderr)]

mod architecture;
mod cli;
mod engine;
mod hostile;
mod lsp;
mod lsp_client;
mod lsp_fuzz;
mod lsp_hostile;
mod nvim;
mod project;
mod realworld;
mod sandbox;
mod store;
mod support;
mod vscode;
