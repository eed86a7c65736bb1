//! The lexer (logos): source text to tokens with byte spans (LANGUAGE.md §2).
//!
//! Illegal characters never stop lexing: each run of them becomes one diagnostic and one
//! [`Token::Error`], which the grammar's error recovery absorbs, so the parser can go on
//! and report later errors too. Invalid UTF-8 reaches us as U+FFFD (the caller converts
//! lossily), which is reported as such.

use crate::diag::{Diagnostic, Span};
use logos::Logos;
use std::fmt;

/// A token. Identifiers and numbers borrow their text from the source.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
pub enum Token<'s> {
    /// `fn`
    #[token("fn")]
    Fn,
    /// `model`
    #[token("model")]
    Model,
    /// `input`
    #[token("input")]
    Input,
    /// `param`
    #[token("param")]
    Param,
    /// `let`
    #[token("let")]
    Let,
    /// `output`
    #[token("output")]
    Output,
    /// `loss`
    #[token("loss")]
    Loss,
    /// `return`
    #[token("return")]
    Return,
    /// `true`
    #[token("true")]
    True,
    /// `false`
    #[token("false")]
    False,
    /// An identifier.
    #[regex("[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    Ident(&'s str),
    /// An integer literal (digits only).
    #[regex("[0-9]+", |lex| lex.slice())]
    Int(&'s str),
    /// A number with a fraction or an exponent: `0.5`, `.5`, `1e-3`, `2.5E+4`.
    #[regex(r"[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?", |lex| lex.slice())]
    #[regex(r"\.[0-9]+([eE][+-]?[0-9]+)?", |lex| lex.slice())]
    #[regex(r"[0-9]+[eE][+-]?[0-9]+", |lex| lex.slice())]
    Float(&'s str),
    /// A number cut short: `1.` or `2e`. Reported, then parsed as the number it starts
    /// (so no follow-on errors); never reaches the grammar.
    #[regex(r"[0-9]+\.", |lex| lex.slice())]
    #[regex(r"([0-9]+(\.[0-9]+)?|\.[0-9]+)[eE][+-]?", |lex| lex.slice())]
    Malformed(&'s str),
    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `[`
    #[token("[")]
    LBracket,
    /// `]`
    #[token("]")]
    RBracket,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `,`
    #[token(",")]
    Comma,
    /// `:`
    #[token(":")]
    Colon,
    /// `;`
    #[token(";")]
    Semi,
    /// `=`
    #[token("=")]
    Eq,
    /// `+`
    #[token("+")]
    Plus,
    /// `-`
    #[token("-")]
    Minus,
    /// `*`
    #[token("*")]
    Star,
    /// `/`
    #[token("/")]
    Slash,
    /// `^`
    #[token("^")]
    Caret,
    /// `@`
    #[token("@")]
    At,
    /// `.` (only as the postfix `.T`; `.5` is a number)
    #[token(".")]
    Dot,
    /// Illegal characters (already reported); never produced by logos itself.
    Error,
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Token::Fn => "fn",
            Token::Model => "model",
            Token::Input => "input",
            Token::Param => "param",
            Token::Let => "let",
            Token::Output => "output",
            Token::Loss => "loss",
            Token::Return => "return",
            Token::True => "true",
            Token::False => "false",
            Token::Ident(s) => return write!(f, "name `{}`", crate::syntax::short(s)),
            Token::Int(s) | Token::Float(s) | Token::Malformed(s) => {
                return write!(f, "number `{}`", crate::syntax::short(s))
            }
            Token::LParen => "(",
            Token::RParen => ")",
            Token::LBracket => "[",
            Token::RBracket => "]",
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::Comma => ",",
            Token::Colon => ":",
            Token::Semi => ";",
            Token::Eq => "=",
            Token::Plus => "+",
            Token::Minus => "-",
            Token::Star => "*",
            Token::Slash => "/",
            Token::Caret => "^",
            Token::At => "@",
            Token::Dot => ".",
            Token::Error => return write!(f, "an illegal character"),
        };
        write!(f, "`{text}`")
    }
}

/// A token with its byte range, as lalrpop's external-lexer interface wants it.
pub type Spanned<'s> = (usize, Token<'s>, usize);

/// Splits `src` into tokens. Runs of illegal characters become one [`Token::Error`] each
/// and one diagnostic each.
pub fn lex(src: &str) -> (Vec<Spanned<'_>>, Vec<Diagnostic>) {
    let mut tokens: Vec<Spanned<'_>> = Vec::new();
    let mut diags = Vec::new();
    let mut bad: Option<(usize, usize)> = None;
    let mut lexer = Token::lexer(src);
    while let Some(next) = lexer.next() {
        let range = lexer.span();
        match next {
            Ok(tok) => {
                if let Some((s, e)) = bad.take() {
                    diags.push(illegal(src, s, e));
                    tokens.push((s, Token::Error, e));
                }
                let tok = match tok {
                    Token::Malformed(text) => {
                        diags.push(malformed_number(text, Span::new(range.start, range.end)));
                        Token::Float(text.trim_end_matches(['e', 'E', '+', '-']))
                    }
                    tok => tok,
                };
                tokens.push((range.start, tok, range.end));
            }
            Err(()) => {
                bad = Some(match bad {
                    Some((s, e)) if e == range.start => (s, range.end),
                    Some((s, e)) => {
                        diags.push(illegal(src, s, e));
                        tokens.push((s, Token::Error, e));
                        (range.start, range.end)
                    }
                    None => (range.start, range.end),
                });
            }
        }
    }
    if let Some((s, e)) = bad {
        diags.push(illegal(src, s, e));
        tokens.push((s, Token::Error, e));
    }
    (tokens, diags)
}

fn malformed_number(text: &str, span: Span) -> Diagnostic {
    let shown = crate::syntax::short(text);
    let (label, note) = if text.ends_with('.') {
        ("digits must follow the decimal point", format!("write `{shown}0`"))
    } else {
        ("digits must follow the exponent", format!("write e.g. `{shown}3`"))
    };
    Diagnostic::error(span, format!("malformed number `{shown}`"))
        .with_label(label)
        .with_note(note)
}

fn illegal(src: &str, start: usize, end: usize) -> Diagnostic {
    let text = src.get(start..end).unwrap_or("");
    let span = Span::new(start, end);
    if text.contains('\u{FFFD}') {
        return Diagnostic::error(span, "invalid UTF-8 in the source")
            .with_label("these bytes are not UTF-8 text")
            .with_note("model files are UTF-8 text; the offending bytes are shown as U+FFFD");
    }
    let shown: String = text.chars().take(16).flat_map(|c| c.escape_debug()).collect();
    let plural = if text.chars().count() > 1 { "s" } else { "" };
    let mut d =
        Diagnostic::error(span, format!("illegal character{plural} `{shown}`")).with_label("not part of the language");
    if !text.is_ascii() {
        d = d.with_note("names are ASCII: letters, digits and `_`");
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Token<'_>> {
        let (t, d) = lex(src);
        assert!(d.is_empty(), "{d:?}");
        t.into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn numbers_in_every_form() {
        assert_eq!(
            kinds("784 0.5 .5 1e-3 2.5E+4"),
            vec![
                Token::Int("784"),
                Token::Float("0.5"),
                Token::Float(".5"),
                Token::Float("1e-3"),
                Token::Float("2.5E+4")
            ]
        );
    }

    #[test]
    fn keywords_comments_and_postfix_transpose() {
        assert_eq!(
            kinds("let a = W.T // comment ( \n loss"),
            vec![
                Token::Let,
                Token::Ident("a"),
                Token::Eq,
                Token::Ident("W"),
                Token::Dot,
                Token::Ident("T"),
                Token::Loss
            ]
        );
        assert_eq!(kinds("f32 fnord"), vec![Token::Ident("f32"), Token::Ident("fnord")]);
    }

    #[test]
    fn numbers_cut_short_are_reported_and_read_as_the_number_they_start() {
        for (src, label) in [("1.", "decimal point"), ("2e", "exponent"), ("2.5E+", "exponent")] {
            let (t, d) = lex(src);
            assert_eq!(d.len(), 1, "{src}");
            assert_eq!(d[0].message, format!("malformed number `{src}`"));
            assert!(format!("{:?}", d[0]).contains(label), "{src}: {:?}", d[0]);
            assert_eq!(t.len(), 1);
            assert!(matches!(t[0].1, Token::Float(_)));
        }
        assert!(lex("x.T * 1.5e3 + .5").1.is_empty());
    }

    #[test]
    fn illegal_characters_become_one_error_token_per_run() {
        let (t, d) = lex("a $$ b # c");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].message, "illegal characters `$$`");
        assert_eq!(d[0].span, Span::new(2, 4));
        assert_eq!(t.iter().filter(|t| t.1 == Token::Error).count(), 2);
        let (_, d) = lex("x \u{FFFD}");
        assert!(d[0].message.contains("UTF-8"));
    }
}
