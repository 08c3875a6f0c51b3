//! plumb: a language server and CLI that runs the Python you are writing and shows, with proof,
//! where it is wrong. See ARCHITECTURE.md for the map.

pub mod base;
pub mod cli;
pub mod engine;
pub mod evidence;
pub mod judge;
pub mod lsp;
pub mod model;
pub mod project;
pub mod sandbox;
pub mod store;
pub mod syntax;
