//! Lexer (logos), AST and parser (lalrpop): source text to `(Ast, Vec<Diagnostic>)`.
