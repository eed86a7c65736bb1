//! The syntax tree. Every node carries the [`Span`] of the text it was parsed from.
//!
//! Expression trees are kept shallow on purpose: chains of one precedence level
//! (`a + b - c + ...`) are one [`ExprKind::Chain`] node, and any tree deeper than
//! [`MAX_EXPR_DEPTH`] is replaced by [`ExprKind::TooDeep`] while it is being built, so
//! recursive walks and the recursive `Drop` of the tree stay within a small stack.

use crate::diag::Span;

/// Expressions nested deeper than this are replaced by [`ExprKind::TooDeep`].
pub const MAX_EXPR_DEPTH: u32 = 256;

/// A whole `.nn` file.
#[derive(Clone, Debug, Default)]
pub struct File {
    /// `fn` definitions and models, in source order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug)]
pub enum Item {
    /// `fn name(params) = expr` or `fn name(params) { let ...; return expr }`.
    Fn(FnDef),
    /// `model name { stmt* }`.
    Model(Model),
    /// An item that did not parse (already reported).
    Error(Span),
}

/// A name with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The text.
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// A function definition.
#[derive(Clone, Debug)]
pub struct FnDef {
    /// The function's name.
    pub name: Ident,
    /// Parameter names.
    pub params: Vec<Ident>,
    /// `let`s of a block body (empty for `= expr`).
    pub lets: Vec<Let>,
    /// The result expression.
    pub result: Expr,
    /// The whole definition.
    pub span: Span,
}

/// `let name = value` inside a `fn` block.
#[derive(Clone, Debug)]
pub struct Let {
    /// The defined name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// The whole statement.
    pub span: Span,
}

/// A model.
#[derive(Clone, Debug)]
pub struct Model {
    /// The model's name.
    pub name: Ident,
    /// Its statements, in order.
    pub stmts: Vec<Stmt>,
    /// The whole model.
    pub span: Span,
}

/// A statement of a model.
#[derive(Clone, Debug)]
pub struct Stmt {
    /// What it says.
    pub kind: StmtKind,
    /// The whole statement.
    pub span: Span,
}

/// The statement forms of LANGUAGE.md §3.
#[derive(Clone, Debug)]
pub enum StmtKind {
    /// `input name: type`
    Input {
        /// the input's name
        name: Ident,
        /// its declared type
        ty: Type,
    },
    /// `param name: type (= init)?`
    Param {
        /// the param's name
        name: Ident,
        /// its declared type
        ty: Type,
        /// the initialiser, parsed as an expression (checked by `sema`)
        init: Option<Expr>,
    },
    /// `let name = expr`
    Let {
        /// the defined name
        name: Ident,
        /// its value
        value: Expr,
    },
    /// `output name (= expr)?`
    Output {
        /// the output's name
        name: Ident,
        /// its value; `None` outputs an existing name
        value: Option<Expr>,
    },
    /// `loss = expr`
    Loss {
        /// the objective
        value: Expr,
    },
    /// A statement that did not parse (already reported).
    Error,
}

/// An element type keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemType {
    /// `f32`
    F32,
    /// `i32`
    I32,
}

/// A declared tensor type: `(f32|i32)? [dims]`.
#[derive(Clone, Debug)]
pub struct Type {
    /// The element type, if written, with its span.
    pub elem: Option<(ElemType, Span)>,
    /// The dimensions.
    pub dims: Vec<DimExpr>,
    /// The whole type.
    pub span: Span,
}

/// One dimension of a declared type.
#[derive(Clone, Debug)]
pub struct DimExpr {
    /// Literal or size variable.
    pub kind: DimKind,
    /// Where it is.
    pub span: Span,
}

/// A literal dimension (its digits, converted by `sema` so overflow is a diagnostic) or a
/// size variable.
#[derive(Clone, Debug)]
pub enum DimKind {
    /// Digits.
    Int(String),
    /// A size variable's name.
    Var(String),
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `@`
    MatMul,
}

impl BinOp {
    /// Whether the operator is of the loosest level (`+ -`).
    pub fn is_additive(self) -> bool {
        matches!(self, BinOp::Add | BinOp::Sub)
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::MatMul => "@",
        }
    }
}

/// An expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is (including enclosing parentheses, if any).
    pub span: Span,
    /// Nesting depth of the tree below (a leaf is 1).
    pub depth: u32,
}

/// A call argument, optionally by keyword (`axis=1`).
#[derive(Clone, Debug)]
pub struct Arg {
    /// The keyword, if given.
    pub keyword: Option<Ident>,
    /// The value.
    pub value: Expr,
}

/// One operand of a chain after the first, with the operator before it.
#[derive(Clone, Debug)]
pub struct ChainLink {
    /// The operator.
    pub op: BinOp,
    /// Where the operator is.
    pub op_span: Span,
    /// The right operand.
    pub rhs: Expr,
}

/// The expression forms.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// A number literal; `int` if it was written without a fraction or exponent.
    Number {
        /// its value
        value: f64,
        /// whether it is an integer literal
        int: bool,
    },
    /// `true` or `false` (only meaningful as a `keepdims=` value).
    Bool(bool),
    /// A name.
    Name(String),
    /// `callee(args)`.
    Call {
        /// the function's name
        callee: Ident,
        /// the arguments
        args: Vec<Arg>,
    },
    /// `[a, b, ...]` (only meaningful as a shape argument).
    List(Vec<Expr>),
    /// `-a`
    Neg(Box<Expr>),
    /// `base ^ exponent`
    Pow(Box<Expr>, Box<Expr>),
    /// `a.T`
    Transpose(Box<Expr>),
    /// `first op rhs op rhs ...`, all operators of one precedence level, left-associative.
    Chain {
        /// the leftmost operand
        first: Box<Expr>,
        /// the rest, in order
        rest: Vec<ChainLink>,
    },
    /// An expression nested deeper than [`MAX_EXPR_DEPTH`] (reported by the parser).
    TooDeep,
    /// An expression that did not parse (already reported).
    Error,
}

impl Expr {
    /// A node over `children`-derived depth, replaced by `TooDeep` beyond the limit.
    fn with_depth(kind: ExprKind, span: Span, child_depth: u32) -> Expr {
        let depth = child_depth.saturating_add(1);
        if depth > MAX_EXPR_DEPTH {
            return Expr {
                kind: ExprKind::TooDeep,
                span,
                depth: MAX_EXPR_DEPTH + 1,
            };
        }
        Expr { kind, span, depth }
    }

    /// A leaf.
    pub fn leaf(kind: ExprKind, span: Span) -> Expr {
        Expr::with_depth(kind, span, 0)
    }

    /// `-a`.
    pub fn neg(a: Expr, span: Span) -> Expr {
        let d = a.depth;
        Expr::with_depth(ExprKind::Neg(Box::new(a)), span, d)
    }

    /// `base ^ exponent`.
    pub fn pow(base: Expr, exponent: Expr) -> Expr {
        let span = base.span.to(exponent.span);
        let d = base.depth.max(exponent.depth);
        Expr::with_depth(ExprKind::Pow(Box::new(base), Box::new(exponent)), span, d)
    }

    /// `a.T`, ending at `end`.
    pub fn transpose(a: Expr, end: Span) -> Expr {
        let span = a.span.to(end);
        let d = a.depth;
        Expr::with_depth(ExprKind::Transpose(Box::new(a)), span, d)
    }

    /// `callee(args)` spanning `span`.
    pub fn call(callee: Ident, args: Vec<Arg>, span: Span) -> Expr {
        let d = args.iter().map(|a| a.value.depth).max().unwrap_or(0);
        Expr::with_depth(ExprKind::Call { callee, args }, span, d)
    }

    /// `[items]` spanning `span`.
    pub fn list(items: Vec<Expr>, span: Span) -> Expr {
        let d = items.iter().map(|a| a.depth).max().unwrap_or(0);
        Expr::with_depth(ExprKind::List(items), span, d)
    }

    /// `lhs op rhs`. A left operand that is already a chain of the same level is
    /// extended in place (`(a + b) + c` means `a + b + c`), so long sums stay flat.
    pub fn binary(lhs: Expr, op: BinOp, op_span: Span, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        let link = ChainLink { op, op_span, rhs };
        match lhs {
            Expr {
                kind: ExprKind::Chain { first, mut rest },
                depth,
                ..
            } if rest.first().is_some_and(|l| l.op.is_additive() == op.is_additive()) => {
                let d = (depth - 1).max(link.rhs.depth);
                rest.push(link);
                Expr::with_depth(ExprKind::Chain { first, rest }, span, d)
            }
            lhs => {
                let d = lhs.depth.max(link.rhs.depth);
                Expr::with_depth(
                    ExprKind::Chain {
                        first: Box::new(lhs),
                        rest: vec![link],
                    },
                    span,
                    d,
                )
            }
        }
    }

    /// The same expression with its span widened to enclosing parentheses.
    pub fn parenthesized(mut self, span: Span) -> Expr {
        self.span = span;
        self
    }
}
