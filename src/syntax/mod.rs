//! Lexer (logos), AST and parser (lalrpop): source text to `(Ast, Vec<Diagnostic>)`.

pub mod ast;
pub mod lexer;
pub mod parser;

pub use parser::parse;

/// `text` cut to a readable length for messages (names can be 100,000 characters long).
pub fn short(text: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        None => text.into(),
        Some((i, _)) => format!("{}...", &text[..i]).into(),
    }
}
