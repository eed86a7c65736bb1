//! The parser wrapper: tokens to an [`ast::File`] plus every diagnostic found on the way,
//! and the helpers the grammar's actions call.

use super::ast::{self, Expr, ExprKind, Ident, MAX_EXPR_DEPTH};
use super::lexer::{self, Token};
use crate::diag::{Diagnostic, Span};
use lalrpop_util::{ErrorRecovery, ParseError};
use std::convert::Infallible;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, missing_docs, unused_parens, unused_imports, dead_code)]
    grammar,
    "/nn.rs"
);

/// Parses a whole file. Never fails: a file with errors gives the items that parsed and a
/// diagnostic per error (several per file thanks to statement-level recovery).
pub fn parse(src: &str) -> (ast::File, Vec<Diagnostic>) {
    let (tokens, mut diags) = lexer::lex(src);
    let starts: Vec<usize> = tokens.iter().map(|t| t.0).collect();
    let ends: Vec<usize> = tokens.iter().map(|t| t.2).collect();
    let end = src.len();
    let mut parse_diags = Vec::new();
    let result = grammar::FileParser::new().parse(&mut parse_diags, tokens.into_iter().map(Ok::<_, Infallible>));
    let file = match result {
        Ok(file) => file,
        Err(e) => {
            parse_diags.extend(error_diag(e, end));
            ast::File::default()
        }
    };
    let parse_diags = without_cascades(parse_diags, &diags, &starts);
    diags.extend(
        parse_diags
            .into_iter()
            .map(|d| with_line_before(d, src, &starts, &ends)),
    );
    for item in &file.items {
        report_too_deep(item, &mut diags);
    }
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    (file, diags)
}

/// Syntax errors minus those right after another one (or right after an error the lexer
/// reported, such as the malformed number `2.` in `2.T`): recovery resumes at the first
/// token that can start a statement, which may be the middle of the broken one
/// (`output l = loss * 2` resumes at `loss`, then trips on `*`).
fn without_cascades(diags: Vec<Diagnostic>, lexed: &[Diagnostic], token_starts: &[usize]) -> Vec<Diagnostic> {
    let index = |d: &Diagnostic| token_starts.partition_point(|&s| s < d.span.start as usize);
    let mut all: Vec<(usize, Option<Diagnostic>)> = lexed.iter().map(|d| (index(d), None)).collect();
    all.extend(diags.into_iter().map(|d| (index(&d), Some(d))));
    // At one token, the lexer's error comes first.
    all.sort_by_key(|(i, d)| (*i, d.as_ref().map(|d| (d.span.start, d.span.end))));
    let mut kept: Vec<Diagnostic> = Vec::new();
    let mut last: Option<usize> = None;
    for (i, d) in all {
        if let Some(d) = d {
            if last.is_none_or(|l| i > l + 2) {
                kept.push(d);
            }
        }
        last = Some(i);
    }
    kept
}

/// A syntax error found at the first token of a line (or at the end of the file) is
/// usually something missing at the end of the line before; the note names that line, so
/// the place is shown whichever of the two lines the reader looks at.
fn with_line_before(d: Diagnostic, src: &str, starts: &[usize], ends: &[usize]) -> Diagnostic {
    let at = d.span.start as usize;
    let i = starts.partition_point(|&s| s < at);
    let Some(prev) = i.checked_sub(1) else { return d };
    let (l, r) = (starts[prev], ends[prev]);
    if r > at || !src.get(r..at).is_some_and(|gap| gap.contains('\n')) {
        return d;
    }
    let line = crate::diag::line_col(src, l).0;
    let text = super::short(src.get(l..r).unwrap_or_default());
    d.with_note(format!(
        "is something missing at the end of line {line}, after `{text}`?"
    ))
}

/// A span from lalrpop's locations.
pub fn sp(l: usize, r: usize) -> Span {
    Span::new(l, r)
}

/// Reports a recovered syntax error (unless it is an illegal character the lexer already
/// reported) and returns the span of what was skipped.
pub fn recovered(diags: &mut Vec<Diagnostic>, e: ErrorRecovery<usize, Token<'_>, Infallible>) -> Span {
    let span = match (&e.error, e.dropped_tokens.first(), e.dropped_tokens.last()) {
        (_, Some(first), Some(last)) => Span::new(first.0, last.2),
        (ParseError::UnrecognizedToken { token, .. }, ..) => Span::new(token.0, token.2),
        (ParseError::InvalidToken { location }, ..) | (ParseError::UnrecognizedEof { location, .. }, ..) => {
            Span::new(*location, *location)
        }
        _ => Span::default(),
    };
    diags.extend(error_diag(e.error, span.end as usize));
    span
}

/// The diagnostic for a parse error, `None` for one caused by an already-reported
/// illegal character.
fn error_diag(e: ParseError<usize, Token<'_>, Infallible>, eof: usize) -> Option<Diagnostic> {
    match e {
        ParseError::UnrecognizedToken {
            token: (_, Token::Error, _),
            ..
        } => None,
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            let wanted = describe_expected(&expected);
            let mut d = Diagnostic::error(Span::new(l, r), format!("expected {wanted}, found {tok}"))
                .with_label("unexpected here");
            if tok == Token::Loss && wanted == "an expression" {
                d = d
                    .with_note("`loss` is the model's objective, not a name: give the value a `let` name and use that");
            }
            Some(d)
        }
        ParseError::ExtraToken { token: (l, tok, r) } => {
            Some(Diagnostic::error(Span::new(l, r), format!("unexpected {tok}")).with_label("unexpected here"))
        }
        ParseError::UnrecognizedEof { location, expected } => Some(
            Diagnostic::error(
                Span::new(location.min(eof), location.min(eof)),
                format!("expected {}, found the end of the file", describe_expected(&expected)),
            )
            .with_label("the file ends here"),
        ),
        ParseError::InvalidToken { location } => {
            Some(Diagnostic::error(Span::new(location, location), "invalid token").with_label("here"))
        }
        ParseError::User { error } => match error {},
    }
}

/// `expected` as lalrpop lists terminals (`"\")\""`, `"Ident"`), in words.
fn describe_expected(expected: &[String]) -> String {
    let has = |t: &str| expected.iter().any(|e| e == t);
    if has("Ident") && has("Int") && has("\"(\"") {
        return "an expression".into();
    }
    if has("\"input\"") && has("\"loss\"") {
        return "a statement (input, param, let, output, loss) or `}`".into();
    }
    if has("\"fn\"") && has("\"model\"") {
        return "`fn` or `model`".into();
    }
    // An optional `;` is allowed almost everywhere; naming it only adds noise.
    let words: Vec<String> = expected
        .iter()
        .filter(|e| e.as_str() != "IllegalChar" && (e.as_str() != "\";\"" || expected.len() == 1))
        .map(|e| match e.as_str() {
            "Ident" => "a name".to_string(),
            "Int" => "an integer".to_string(),
            "Float" => "a number".to_string(),
            quoted => format!("`{}`", quoted.trim_matches('"')),
        })
        .collect();
    match words.len() {
        0 => "something else".into(),
        1 => words[0].clone(),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

/// A number literal. The lexer's forms always parse; the fallback keeps the parser total.
pub fn number(diags: &mut Vec<Diagnostic>, text: &str, int: bool, span: Span) -> Expr {
    match text.parse::<f64>() {
        Ok(value) => Expr::leaf(ExprKind::Number { value, int }, span),
        Err(_) => {
            diags.push(Diagnostic::error(
                span,
                format!("malformed number `{}`", super::short(text)),
            ));
            Expr::leaf(ExprKind::Error, span)
        }
    }
}

/// The element type named `n` (`f32` or `i32`; they are not keywords).
pub fn elem_type(diags: &mut Vec<Diagnostic>, n: Ident) -> (ast::ElemType, Span) {
    match n.name.as_str() {
        "i32" => (ast::ElemType::I32, n.span),
        "f32" => (ast::ElemType::F32, n.span),
        other => {
            diags.push(
                Diagnostic::error(n.span, format!("unknown element type `{}`", super::short(other)))
                    .with_label("expected f32 or i32"),
            );
            (ast::ElemType::F32, n.span)
        }
    }
}

/// `e.T`; any other `.name` is an error.
pub fn transpose_or_error(diags: &mut Vec<Diagnostic>, e: Expr, name: Ident) -> Expr {
    if name.name == "T" {
        return Expr::transpose(e, name.span);
    }
    diags.push(
        Diagnostic::error(name.span, format!("unknown postfix `.{}`", super::short(&name.name)))
            .with_label("only `.T` (transpose) is allowed after a dot"),
    );
    Expr::leaf(ExprKind::Error, e.span.to(name.span))
}

fn report_too_deep(item: &ast::Item, diags: &mut Vec<Diagnostic>) {
    let mut exprs: Vec<&Expr> = Vec::new();
    match item {
        ast::Item::Fn(f) => {
            exprs.extend(f.lets.iter().map(|l| &l.value));
            exprs.push(&f.result);
        }
        ast::Item::Model(m) => {
            for s in &m.stmts {
                match &s.kind {
                    ast::StmtKind::Param { init: Some(e), .. }
                    | ast::StmtKind::Let { value: e, .. }
                    | ast::StmtKind::Output { value: Some(e), .. }
                    | ast::StmtKind::Loss { value: e } => exprs.push(e),
                    _ => {}
                }
            }
        }
        ast::Item::Error(_) => {}
    }
    for e in exprs {
        // Only the outermost node of a too-deep tree exists, so its depth says it all.
        if e.depth > MAX_EXPR_DEPTH {
            diags.push(
                Diagnostic::error(
                    Span::new(e.span.start as usize, e.span.start as usize + 1),
                    format!("expression nested deeper than {MAX_EXPR_DEPTH} levels"),
                )
                .with_label("this expression is too deeply nested")
                .with_note("split it with `let`s"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::{Item, StmtKind};

    /// An expression as an s-expression, to test precedence.
    fn sexpr(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Number { value, .. } => format!("{value}"),
            ExprKind::Bool(b) => format!("{b}"),
            ExprKind::Name(n) => n.clone(),
            ExprKind::Call { callee, args } => {
                let args: Vec<String> = args
                    .iter()
                    .map(|a| match &a.keyword {
                        Some(k) => format!("{}={}", k.name, sexpr(&a.value)),
                        None => sexpr(&a.value),
                    })
                    .collect();
                format!("({} {})", callee.name, args.join(" "))
            }
            ExprKind::List(items) => format!("[{}]", items.iter().map(sexpr).collect::<Vec<_>>().join(" ")),
            ExprKind::Neg(a) => format!("(neg {})", sexpr(a)),
            ExprKind::Pow(a, b) => format!("(^ {} {})", sexpr(a), sexpr(b)),
            ExprKind::Transpose(a) => format!("(T {})", sexpr(a)),
            ExprKind::Chain { first, rest } => {
                let mut s = format!("({}", sexpr(first));
                for l in rest {
                    s.push_str(&format!(" {} {}", l.op.symbol(), sexpr(&l.rhs)));
                }
                s + ")"
            }
            ExprKind::TooDeep => "TOODEEP".into(),
            ExprKind::Error => "ERROR".into(),
        }
    }

    fn expr(src: &str) -> String {
        let (file, diags) = parse(&format!("model m {{ let a = {src} }}"));
        assert!(diags.is_empty(), "{diags:?}");
        match &file.items[0] {
            Item::Model(m) => match &m.stmts[0].kind {
                StmtKind::Let { value, .. } => sexpr(value),
                k => panic!("{k:?}"),
            },
            i => panic!("{i:?}"),
        }
    }

    #[test]
    fn precedence_follows_the_language() {
        assert_eq!(expr("-x ^ 2"), "(neg (^ x 2))");
        assert_eq!(expr("a + b @ c"), "(a + (b @ c))");
        assert_eq!(expr("a - b - c + d"), "(a - b - c + d)");
        assert_eq!(expr("a - (b - c)"), "(a - (b - c))");
        assert_eq!(expr("a * b / c @ d"), "(a * b / c @ d)");
        assert_eq!(expr("x ^ -1.5"), "(^ x (neg 1.5))");
        assert_eq!(expr("x ^ y ^ z"), "(^ x (^ y z))");
        assert_eq!(expr("2 * -x"), "(2 * (neg x))");
        assert_eq!(expr("relu(x).T @ W.T"), "((T (relu x)) @ (T W))");
        assert_eq!(
            expr("sum(x, axis=-1, keepdims=true,)"),
            "(sum x axis=(neg 1) keepdims=true)"
        );
        assert_eq!(expr("reshape(x, [N, -1])"), "(reshape x [N (neg 1)])");
        assert_eq!(expr("(((x)))"), "x");
    }

    #[test]
    fn recovery_reports_several_errors() {
        let src = "model m {\n let a = (x\n let b = x +\n output c = x\n}\n";
        let (file, diags) = parse(src);
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags[0].message.contains("expected"), "{}", diags[0].message);
        match &file.items[0] {
            Item::Model(m) => assert!(matches!(m.stmts.last().map(|s| &s.kind), Some(StmtKind::Output { .. }))),
            i => panic!("{i:?}"),
        }
    }

    #[test]
    fn deep_nesting_is_cut_off_with_one_diagnostic() {
        let n = 20_000;
        let src = format!("model m {{ let a = {}x{} }}", "(1+".repeat(n), ")".repeat(n));
        let (_, diags) = parse(&src);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.contains("nested deeper"));
    }

    #[test]
    fn an_error_at_the_start_of_a_line_names_the_line_before() {
        let (_, d) = parse("model m {\n    input x: i32 // labels\n}\n");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].notes, ["is something missing at the end of line 2, after `i32`?"]);
        // Found in the middle of a line: nothing to add.
        let (_, d) = parse("model m {\n    output y = x +* 2\n}\n");
        assert_eq!(d.len(), 1);
        assert!(d[0].notes.is_empty(), "{:?}", d[0].notes);
    }

    #[test]
    fn nothing_more_is_reported_right_after_a_malformed_number() {
        let (_, d) = parse("model m {\n    param e: [4, 3]\n    output o = e ^ 2.T\n}\n");
        let messages: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages, ["malformed number `2.`"]);
    }
}
