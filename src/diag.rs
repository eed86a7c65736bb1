//! Source spans and diagnostics. Imports nothing of nnc; every stage reports through it.

use std::fmt;

/// A byte range `[start, end)` in a model's source text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// The span `[start, end)`.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Severity {
    /// The model is rejected.
    Error,
    /// The model is accepted, but something is suspicious.
    Warning,
}

/// A message about a model file, pointing at a span.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The headline: what was expected and what was found.
    pub message: String,
    /// The primary location.
    pub span: Span,
    /// The label on the primary span (may be empty).
    pub label: String,
    /// Further locations with their own labels.
    pub secondary: Vec<(Span, String)>,
    /// Notes and hints printed after the source excerpt.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Sets the label on the primary span.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    /// Adds a labelled secondary span.
    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push((span, label.into()));
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `source`.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Renders diagnostics as text: `error: message`, then `file:line:col`, the source lines
/// with each span marked and labelled, then the notes. `color` adds ANSI colours.
pub fn render(diags: &[Diagnostic], file_name: &str, source: &str, color: bool) -> String {
    let mut out = Vec::new();
    for d in diags {
        render_one(d, file_name, source, color, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn render_one(d: &Diagnostic, file_name: &str, source: &str, color: bool, out: &mut Vec<u8>) {
    use ariadne::{Color, Config, IndexType, Label, Report, ReportKind, Source};
    let (kind, kind_color) = match d.severity {
        Severity::Error => ("error", Color::Red),
        Severity::Warning => ("warning", Color::Yellow),
    };
    // A diagnostic about the file as a whole (no position, no label) has no excerpt.
    if d.span == Span::default() && d.label.is_empty() && d.secondary.is_empty() {
        out.extend(format!("{kind}: {}\n  --> {file_name}\n", d.message).into_bytes());
        for n in &d.notes {
            out.extend(format!("  = note: {n}\n").into_bytes());
        }
        return;
    }
    let range = |s: Span| clamp(source, s);
    let primary = range(d.span);
    let config = Config::default().with_color(color).with_index_type(IndexType::Byte);
    let mut report = Report::build(ReportKind::Custom(kind, kind_color), (file_name, primary.clone()))
        .with_config(config)
        .with_message(&d.message);
    // Labels in source order: ariadne starts a new excerpt when a label goes back a line.
    let mut labels: Vec<(std::ops::Range<usize>, &str, Color)> = vec![(primary, &d.label, kind_color)];
    labels.extend(
        d.secondary
            .iter()
            .map(|(s, text)| (range(*s), text.as_str(), Color::Blue)),
    );
    labels.sort_by_key(|l| (l.0.start, l.0.end));
    for (i, (r, text, c)) in labels.into_iter().enumerate() {
        let mut l = Label::new((file_name, r)).with_order(i as i32);
        if !text.is_empty() {
            l = l.with_message(text);
        }
        if color {
            l = l.with_color(c);
        }
        report.add_label(l);
    }
    for n in &d.notes {
        report.add_note(n);
    }
    let mut text = Vec::new();
    if report
        .finish()
        .write((file_name, Source::from(source)), &mut text)
        .is_err()
    {
        // Writing to a Vec cannot fail; keep the message even if ariadne gives up.
        text = format!("{kind}: {}\n", d.message).into_bytes();
    }
    if !color {
        // ariadne colours a custom report kind even when colour is off.
        text = strip_ansi(&text);
    }
    out.extend(text);
}

/// `span` as a byte range inside `source`, on character boundaries, at least one
/// character wide where the source allows (so the marker is visible).
fn clamp(source: &str, span: Span) -> std::ops::Range<usize> {
    let floor = |mut i: usize| {
        i = i.min(source.len());
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(span.start as usize);
    let mut end = floor((span.end as usize).max(start));
    if end == start {
        end = source[start..].chars().next().map_or(start, |c| start + c.len_utf8());
    }
    start..end
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == 0x1b && text.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < text.len() && !text[i].is_ascii_alphabetic() {
                i += 1;
            }
            i += 1;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}
