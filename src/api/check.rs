//! Checking model text without compiling it (`nnc check`), and the front end every
//! compiled [`Model`](super::Model) goes through, so both report the same diagnostics.

use super::error::{Diagnostics, Error};
use crate::diag::Diagnostic;
use crate::sema::{self, CheckedModel};
use std::path::Path;

/// What checking a model file found.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// Every diagnostic (errors and warnings) with the text it points into; render it
    /// with [`Diagnostics::render`].
    pub diagnostics: Diagnostics,
    /// The names of the file's models in source order (none when there is an error).
    pub models: Vec<String>,
}

impl Checked {
    /// Whether the file is rejected (any diagnostic is an error).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// Parses and type/shape-checks every model of `source` and reports every diagnostic,
/// as `nnc check` does. With `model`, a file without a model of that name is an error
/// too. `file_name` is what the diagnostics call the text.
pub fn check_source(source: &str, file_name: &str, model: Option<&str>) -> Checked {
    let (models, mut diagnostics) = sema::check_source(source);
    let mut names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
    if let (Some(name), false) = (model, has_errors(&diagnostics)) {
        if let Err(d) = sema::select_model(models, Some(name)) {
            diagnostics.push(d);
            names.clear();
        }
    }
    Checked {
        diagnostics: Diagnostics {
            file_name: file_name.to_string(),
            source: source.to_string(),
            diagnostics,
        },
        models: names,
    }
}

/// Reads a model file (invalid UTF-8 becomes U+FFFD, which the lexer reports) and
/// checks it like [`check_source`]; the diagnostics call it by `path` as given.
pub fn check_file(path: impl AsRef<Path>, model: Option<&str>) -> Result<Checked, Error> {
    let (file_name, source) = read_model_file(path.as_ref())?;
    Ok(check_source(&source, &file_name, model))
}

/// The file name as diagnostics show it, and the text.
pub(crate) fn read_model_file(path: &Path) -> Result<(String, String), Error> {
    let file_name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => Ok((file_name, String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) => Err(Error::Read {
            path: file_name,
            message: e.to_string(),
        }),
    }
}

/// The front end of a compiled model: checks the file and selects `model` (or the only
/// one). Any error anywhere in the file rejects it with every diagnostic found.
pub(crate) fn select(source: &str, file_name: &str, model: Option<&str>) -> Result<CheckedModel, Error> {
    let fail = |diagnostics: Vec<Diagnostic>| {
        Error::Model(Diagnostics {
            file_name: file_name.to_string(),
            source: source.to_string(),
            diagnostics,
        })
    };
    let (models, mut diags) = sema::check_source(source);
    if has_errors(&diags) {
        return Err(fail(diags));
    }
    sema::select_model(models, model).map_err(|d| {
        diags.push(d);
        fail(diags)
    })
}

fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| d.severity == crate::diag::Severity::Error)
}
