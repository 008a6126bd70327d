//! EQL text to syntax tree: [`lexer`] cuts the text into tokens, [`parser`]
//! builds the [`ast`]. Nothing here knows what a field means or how an event
//! is evaluated; that is the compiler's job.

pub mod ast;
pub mod lexer;
pub mod parser;

pub use parser::parse;
